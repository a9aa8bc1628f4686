// The request-target judged for its method and split (RFC 9112 §3.2), for the pure-JS
// backend: the twin of SplitTarget in native/protocol/http_parser.cc, with the same rules and
// the same refusals, tested against the same corpus (test/requests). node:http's
// parser hands over the target as sent (req.url) and judges none of this.
import type { HttpRefusal } from './http-refusals.js';

export interface RequestTarget {
  /** The path as sent, not decoded: "*" for OPTIONS *, '' for "http://host". */
  path: string;
  /** What follows the first "?" ('' when there is none). */
  query: string;
  /** absolute-form's host[:port], which stands for Host (RFC 9112 §3.2.2); else ''. */
  authority: string;
}

// unreserved / sub-delims (RFC 3986 §2.2, §2.3): the bytes of a reg-name.
const REG_NAME = /^[A-Za-z0-9\-._~!$&'()*+,;=]$/;
const HEX = /^[0-9A-Fa-f]$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*(?=:)/;

/**
 * host [":" port] (RFC 3986 §3.2): an IP-literal ("[" IPv6 or IPvFuture "]", checked
 * loosely), or a non-empty reg-name or IPv4 address; port is digits, at least one when
 * needPort. 'userinfo' for an "@", 'authority' for anything else wrong.
 */
function checkAuthority(s: string, needPort: boolean): HttpRefusal | undefined {
  if (s.includes('@')) return 'userinfo';
  let i = 0;
  const n = s.length;
  if (s[0] === '[') {
    i = 1;
    if (s[i] === 'v' || s[i] === 'V') {
      const hex = ++i;
      while (i < n && HEX.test(s[i]!)) i++;
      if (i === hex || s[i] !== '.') return 'authority';
      const rest = ++i;
      while (i < n && (REG_NAME.test(s[i]!) || s[i] === ':')) i++;
      if (i === rest) return 'authority';
    } else {
      const a = i;
      while (i < n && (HEX.test(s[i]!) || s[i] === ':' || s[i] === '.')) i++;
      if (i === a) return 'authority';
    }
    if (s[i] !== ']') return 'authority';
    i++;
  } else {
    while (i < n && s[i] !== ':') {
      if (s[i] === '%') {
        if (!HEX.test(s[i + 1] ?? '') || !HEX.test(s[i + 2] ?? '')) return 'authority';
        i += 3;
      } else if (REG_NAME.test(s[i]!)) {
        i++;
      } else {
        return 'authority';
      }
    }
    if (i === 0) return 'authority'; // an empty host (RFC 9110 §4.2.1)
  }
  if (i === n) return needPort ? 'authority' : undefined;
  if (s[i] !== ':') return 'authority';
  const port = ++i;
  while (i < n && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  if (i !== n || (needPort && i === port)) return 'authority';
  return undefined;
}

const isHttp = (scheme: string) => {
  const s = scheme.toLowerCase();
  return s === 'http' || s === 'https';
};

/**
 * Judges target for method and splits it: a RequestTarget for origin-form, absolute-form
 * with http or https, and "*" with OPTIONS; otherwise why it is refused ('connect' for a
 * well-formed CONNECT host:port).
 */
export function splitTarget(method: string, target: string): RequestTarget | HttpRefusal {
  if (target === '') return 'target';
  // authority-form (RFC 9112 §3.2.3): CONNECT's only form, and only CONNECT's.
  if (method === 'CONNECT') return checkAuthority(target, true) === undefined ? 'connect' : 'connectTarget';
  if (target[0] === '*') {
    // asterisk-form (§3.2.4)
    if (target.length !== 1) return 'target';
    return method === 'OPTIONS' ? { path: '*', query: '', authority: '' } : 'asterisk';
  }
  let rest = target;
  let authority = '';
  if (target[0] !== '/') {
    // absolute-form (§3.2.2): scheme "://" authority path-abempty [ "?" query ]
    const scheme = SCHEME.exec(target)?.[0];
    if (scheme === undefined || !target.startsWith('://', scheme.length)) {
      if (checkAuthority(target, true) === undefined) return 'authorityForm';
      if (scheme === undefined) return 'target';
      return isHttp(scheme) ? 'authority' : 'scheme'; // "http:x" has none
    }
    const a = scheme.length + 3;
    let end = a;
    while (end < target.length && target[end] !== '/' && target[end] !== '?' && target[end] !== '#') end++;
    const bad = checkAuthority(target.slice(a, end), false);
    if (bad !== undefined) return bad;
    if (!isHttp(scheme)) return 'scheme';
    authority = target.slice(a, end);
    rest = target.slice(end);
  }
  // RFC 9112 §3.2: the target holds no fragment (RFC 3986 has "#" nowhere else).
  if (rest.includes('#')) return 'fragment';
  const q = rest.indexOf('?');
  return q === -1 ? { path: rest, query: '', authority } : { path: rest.slice(0, q), query: rest.slice(q + 1), authority };
}
