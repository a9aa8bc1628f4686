// --forwarded-allow-ips LIST (gunicorn's name): the peers whose X-Forwarded-For and
// X-Forwarded-Proto are believed. From such a peer, REMOTE_ADDR becomes the rightmost
// address of X-Forwarded-For that is not itself trusted (each trusted proxy appends
// the address it got the request from, so that one is the first hop no trusted proxy
// vouches for; the leftmost when every one is trusted), and wsgi.url_scheme (and
// REQUEST_SCHEME) the last X-Forwarded-Proto value when it is http or https. From any
// other peer the headers change nothing: a client could write them itself.
import { isIP, type BlockList } from 'node:net';
import { TsgiError } from '../base/errors.js';
import { lazyRequire } from '../base/lazy-require.js';

// net.BlockList is one of node:net's lazy exports: loaded only when the option is given.
const net = lazyRequire<typeof import('node:net')>('node:net');

export class ForwardedTrust {
  private constructor(private readonly list: BlockList) {}

  /**
   * "127.0.0.1,10.0.0.0/8,::1,fd00::/8": IPv4 and IPv6 addresses and CIDR blocks,
   * comma-separated; "*" trusts every peer. Throws TSGI_ERR_OPTION_INVALID naming the
   * entry that is neither.
   */
  static parse(spec: string): ForwardedTrust {
    const list = new (net().BlockList)();
    for (const raw of spec.split(',')) {
      const entry = raw.trim();
      if (entry === '*') {
        list.addSubnet('0.0.0.0', 0, 'ipv4');
        list.addSubnet('::', 0, 'ipv6');
        continue;
      }
      const [address = '', prefix, extra] = entry.split('/');
      const family = isIP(address);
      const max = family === 4 ? 32 : 128;
      const bits = prefix === undefined ? max : /^[0-9]{1,3}$/.test(prefix) ? Number(prefix) : NaN;
      if (family === 0 || extra !== undefined || !(bits >= 0 && bits <= max)) {
        throw new TsgiError(
          'TSGI_ERR_OPTION_INVALID',
          `Expected IP addresses or CIDR blocks (comma-separated: "127.0.0.1,10.0.0.0/8,::1") for forwarded-allow-ips but received "${entry}" in "${spec}"`,
        );
      }
      list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
    }
    return new ForwardedTrust(list);
  }

  trusts(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    if (family === 6 && address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4) {
      // An IPv4 peer of a dual-stack socket: judged as the IPv4 address it is.
      return this.list.check(address.slice(7), 'ipv4') || this.list.check(address, 'ipv6');
    }
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Rewrites REMOTE_ADDR and the scheme of environ when its peer is trusted. */
  apply(environ: Record<string, unknown>): void {
    // Most requests carry neither header: no address to judge then.
    if (environ.HTTP_X_FORWARDED_FOR === undefined && environ.HTTP_X_FORWARDED_PROTO === undefined) return;
    if (!this.trusts(environ.REMOTE_ADDR as string)) return;
    const xff = environ.HTTP_X_FORWARDED_FOR;
    if (typeof xff === 'string') {
      const hops = xff.split(',').map((h) => h.trim());
      let client: string | undefined;
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = hops[i]!;
        if (isIP(hop) === 0) break; // garbage: nothing left of it is believed
        client = hop;
        if (!this.trusts(hop)) break;
      }
      if (client !== undefined) environ.REMOTE_ADDR = client;
    }
    const proto = environ.HTTP_X_FORWARDED_PROTO;
    if (typeof proto === 'string') {
      const last = proto.slice(proto.lastIndexOf(',') + 1).trim().toLowerCase();
      if (last === 'https' || last === 'http') {
        environ['wsgi.url_scheme'] = last;
        environ.REQUEST_SCHEME = last;
      }
    }
  }
}
