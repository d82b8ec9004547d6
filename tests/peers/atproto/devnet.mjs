// Starts the AT Protocol dev network (PLC, PDS, AppView, bsync, ozone) for the peer tests.
// Usage: node --require ./loopback.cjs devnet.mjs
//   env: DB_POSTGRES_URL, DB_POSTGRES_SCHEMA ([A-Za-z_] only), REDIS_HOST, ATP_BASE_PORT
// Prints one line "READY {json}" on stdout once every service answers; SIGTERM/SIGINT close it.
import { TestNetwork } from '@atproto/dev-env';

const base = Number(process.env.ATP_BASE_PORT || 27580);
const t0 = Date.now();
const net = await TestNetwork.create({
  dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA || 'govsocial_peers',
  plc: { port: base + 2 },
  pds: { port: base + 3, hostname: 'localhost', enableDidDocWithSession: true },
  bsky: { port: base + 4, publicUrl: `http://localhost:${base + 4}` },
  // ozone wants a chat service; nothing here talks to it, so a dead address is enough
  ozone: { port: base + 7, chatUrl: 'http://localhost:1', chatDid: 'did:example:chat' },
});
const info = {
  plc: net.plc.url,
  pds: net.pds.url,
  appview: net.bsky.url,
  startup_ms: Date.now() - t0,
};
console.log('READY ' + JSON.stringify(info));

// The AppView only sees what the PDS emits when someone drains the firehose; tests reach the
// network over HTTP only, so keep draining it in the background.
let stopping = false;
const pump = setInterval(() => {
  if (!stopping) net.processAll(2000).catch(() => {});
}, 300);

const stop = async (sig) => {
  if (stopping) return;
  stopping = true;
  clearInterval(pump);
  console.log('closing on', sig);
  try {
    await net.close();
  } catch (e) {
    console.error('close error', e?.message);
  }
  process.exit(0);
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
