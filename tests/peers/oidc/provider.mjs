// panva's oidc-provider (a certified OpenID Connect provider) with test accounts, for GovSocial's single sign-on tests.
// Started by harness.py as `node provider.mjs CONFIG.json`; prints `READY {"issuer": ...}` once it listens.
// The accounts file is read again on every lookup, so a test can move someone out of a group mid-run.
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function accounts() {
  return JSON.parse(readFileSync(config.accountsFile, 'utf8'));
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: [config.signingKey] },
  cookies: { keys: [config.cookieKey] },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // Every client must send a PKCE challenge, whatever its authentication method.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true }, // a plain login form: the account id is the login, any password
    rpInitiatedLogout: { enabled: true },
  },
  ttl: {
    // Short, so a test that waits for an expired code does not wait long.
    AuthorizationCode: config.codeTtlSeconds ?? 60,
    IdToken: config.idTokenTtlSeconds ?? 3600,
    AccessToken: 600,
    Grant: 3600,
    Interaction: 600,
    Session: 3600,
  },
  async findAccount(_ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...account };
      },
    };
  },
});
// Behind nothing: the issuer is plain http on 127.0.0.1, which oidc-provider allows outside production.
provider.proxy = false;

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`READY ${JSON.stringify({ issuer: config.issuer, pid: process.pid })}`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
