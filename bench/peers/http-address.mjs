// The --http HOST:PORT argument of bench/peers/uws.mjs and bench/peers/bun.mjs (runs under
// node and under bun): { host, port, address }, 127.0.0.1:0 when absent.
export function httpAddress(argv) {
  const at = argv.indexOf('--http');
  const address = at === -1 ? '127.0.0.1:0' : argv[at + 1];
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon) || '127.0.0.1', port: Number(address.slice(colon + 1)), address };
}
