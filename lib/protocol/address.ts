// Socket addresses on the network: a host name resolved, an address as messages show it.
// (Their syntax in the options is lib/config/address.ts.)
import { isIP } from 'node:net';

/**
 * Resolves a host name to a numeric address (numeric ones pass through; node:dns is
 * loaded only for a name).
 */
export async function resolveHost(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  const { lookup } = await import('node:dns/promises');
  const r = await lookup(host);
  return r.address;
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
