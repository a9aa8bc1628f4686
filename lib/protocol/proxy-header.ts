// The PROXY protocol header (v1 and v2, HAProxy's proxy-protocol.txt) that a load
// balancer sends ahead of the client's bytes: a pure parser, the twin of
// native/protocol/proxy_parser.cc, held to the same corpus (test/requests/proxy) and giving
// the same sentences. Used by the js backend (lib/js/proxy-protocol.ts) with
// --enable-proxy-protocol.
import { isIPv4, isIPv6 } from 'node:net';

export type ProxyParse =
  | { kind: 'ok'; consumed: number; version: 1 | 2; address?: ProxyAddress }
  | { kind: 'more' }
  | { kind: 'bad'; error: string };

/** The client (source) and the address it connected to, when the header gives them. */
export interface ProxyAddress {
  v6: boolean;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

const V1_PREFIX = Buffer.from('PROXY ');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The longest v1 header, CRLF included. */
export const PROXY_V1_MAX_LENGTH = 107;
const MORE: ProxyParse = { kind: 'more' };
const bad = (error: string): ProxyParse => ({ kind: 'bad', error });

function prefixMatches(buf: Uint8Array, want: Uint8Array): boolean {
  const n = Math.min(buf.length, want.length);
  for (let i = 0; i < n; i++) if (buf[i] !== want[i]) return false;
  return true;
}

function port(s: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/** An address of the family in inet_ntop's canonical form, or undefined. */
function canonical(s: string, v6: boolean): string | undefined {
  if (v6) {
    // inet_pton's IPv6 allows no zone id; URL's host parser canonicalizes as inet_ntop
    // does (RFC 5952), except that it writes an embedded IPv4 tail in hex.
    if (!isIPv6(s) || s.includes('%')) return undefined;
    return ntop6(pton6(s));
  }
  // inet_pton: exactly four decimal parts 0-255; leading zeros are refused by glibc.
  if (!isIPv4(s) || /(^|\.)0[0-9]/.test(s)) return undefined;
  return s;
}

/** 16 bytes of an IPv6 address known to be valid text. */
function pton6(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const parts = text.slice(lastColon + 1).split('.').map(Number);
    tail.push((parts[0]! << 8) | parts[1]!, (parts[2]! << 8) | parts[3]!);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':').map((x) => parseInt(x, 16)) : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':').map((x) => parseInt(x, 16)) : [];
  const groups = rest === undefined ? h : [...h, ...new Array(8 - h.length - r.length).fill(0), ...r];
  if (tail.length) groups.splice(6, 2, ...tail);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** glibc's inet_ntop for AF_INET6 (RFC 5952, with its IPv4-mapped/compatible forms). */
function ntop6(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  // The longest run of two or more zero groups, the first of equals.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // An IPv4 tail: ::a.b.c.d (compatible, but not ::1 or ::) and ::ffff:a.b.c.d (mapped).
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
      out += `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      break;
    }
    out += g[i]!.toString(16);
  }
  if (best >= 0 && best + bestLen === 8) out += ':';
  return out;
}

function parseV1(buf: Uint8Array): ProxyParse {
  const scan = Math.min(buf.length, PROXY_V1_MAX_LENGTH - 1); // the CR at 105 at most
  let end = -1;
  for (let i = V1_PREFIX.length; i < scan; i++) {
    if (buf[i] === 0x0d) {
      if (i + 1 >= buf.length) return MORE;
      if (buf[i + 1] !== 0x0a) return bad('PROXY v1 header: a CR not followed by LF');
      end = i;
      break;
    }
    if (buf[i] === 0x0a) return bad('PROXY v1 header: a LF without CR');
  }
  if (end < 0) return buf.length < PROXY_V1_MAX_LENGTH - 1 ? MORE : bad('PROXY v1 header: no CRLF within 107 bytes');
  const consumed = end + 2;
  const line = Buffer.from(buf.buffer, buf.byteOffset + V1_PREFIX.length, end - V1_PREFIX.length).toString('latin1');
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) return { kind: 'ok', consumed, version: 1 };
  if (!line.startsWith('TCP4 ') && !line.startsWith('TCP6 ')) return bad('PROXY v1 header: the protocol is not TCP4, TCP6 or UNKNOWN');
  const v6 = line[3] === '6';
  const fields = line.slice(5).split(' ');
  if (fields.length !== 4) return bad('PROXY v1 header: not four fields (source, destination, ports)');
  const src = canonical(fields[0]!, v6);
  const dst = canonical(fields[1]!, v6);
  if (src === undefined || dst === undefined) return bad(v6 ? 'PROXY v1 header: an address is not IPv6' : 'PROXY v1 header: an address is not IPv4');
  const srcPort = port(fields[2]!);
  const dstPort = port(fields[3]!);
  if (srcPort === undefined || dstPort === undefined) return bad('PROXY v1 header: a port is not a decimal from 0 to 65535');
  return { kind: 'ok', consumed, version: 1, address: { v6, src, srcPort, dst, dstPort } };
}

function parseV2(b: Uint8Array): ProxyParse {
  const versionBad = b.length > 12 && b[12]! >> 4 !== 2;
  const commandBad = b.length > 12 && (b[12]! & 0x0f) > 1;
  if (versionBad) return bad('PROXY v2 header: the version is not 2');
  if (commandBad) return bad('PROXY v2 header: the command is neither LOCAL nor PROXY');
  if (b.length < 16) return MORE;
  const command = b[12]! & 0x0f;
  const block = (b[14]! << 8) | b[15]!;
  const family = b[13]! >> 4;
  const transport = b[13]! & 0x0f;
  const need = family === 1 ? 12 : family === 2 ? 36 : family === 3 ? 216 : 0;
  if (block < need) return bad('PROXY v2 header: the address block is shorter than its family needs');
  if (b.length < 16 + block) return MORE;
  const consumed = 16 + block;
  if (command !== 1 || transport !== 1 || (family !== 1 && family !== 2)) return { kind: 'ok', consumed, version: 2 };
  const v6 = family === 2;
  const n = v6 ? 16 : 4;
  const addr = (at: number) => (v6 ? ntop6(b.subarray(at, at + 16)) : `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`);
  const at = 16 + 2 * n;
  return {
    kind: 'ok',
    consumed,
    version: 2,
    address: { v6, src: addr(16), dst: addr(16 + n), srcPort: (b[at]! << 8) | b[at + 1]!, dstPort: (b[at + 2]! << 8) | b[at + 3]! },
  };
}

/**
 * Parses the PROXY protocol header at the start of buf: the bytes it takes and what it
 * says, 'more' while buf is a proper prefix of a header that may still be valid, or
 * 'bad' with the sentence native/protocol/proxy_parser.h lists, as soon as it cannot be one.
 */
export function parseProxyHeader(buf: Uint8Array): ProxyParse {
  if (buf.length === 0) return MORE;
  if (buf[0] === 0x50) {
    if (!prefixMatches(buf, V1_PREFIX)) return bad('no PROXY protocol header');
    return buf.length < V1_PREFIX.length ? MORE : parseV1(buf);
  }
  if (!prefixMatches(buf, V2_SIGNATURE)) return bad('no PROXY protocol header');
  return buf.length < V2_SIGNATURE.length ? MORE : parseV2(buf);
}
