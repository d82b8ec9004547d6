// Preload (node --require ./loopback.cjs): a server that calls listen(port) without a host is bound to
// 127.0.0.1 instead of every interface, so a test peer is never reachable from the network.
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  const numeric = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first));
  if (numeric && typeof args[1] !== 'string') {
    args.splice(1, 0, '127.0.0.1');
  } else if (first && typeof first === 'object' && !first.path && !first.host && !(first instanceof net.Server)) {
    args[0] = { ...first, host: '127.0.0.1' };
  } else if (first === undefined || typeof first === 'function') {
    args.unshift(0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
