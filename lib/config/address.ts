// Socket addresses as options write them (uWSGI's syntax): ":9090" (every IPv4
// interface), "127.0.0.1:9090", "localhost:9090", "[::1]:9090", "[::]:9090", or a unix
// socket path ("/run/app.sock", "@abstract").
import { isIP } from 'node:net';
import { TsgiError } from '../base/errors.js';

export interface TcpAddress {
  kind: 'tcp';
  host: string;
  port: number;
  /** As the user wrote it, for messages. */
  spec: string;
}

export interface UnixAddress {
  kind: 'unix';
  /** A file path, or "@name" for a Linux abstract socket. */
  path: string;
  spec: string;
}

export type SocketAddress = TcpAddress | UnixAddress;

/**
 * uWSGI's rule: an address with a ":" is TCP (":8000", "127.0.0.1:8000",
 * "[::1]:8000"); anything else is a unix socket path ("/run/app.sock", "app.sock",
 * "@abstract").
 */
export function parseSocketAddress(spec: string, option: string): SocketAddress {
  if (spec.startsWith('@') || !spec.includes(':')) {
    if (spec === '' || spec === '@') {
      throw new TsgiError('TSGI_ERR_ADDRESS_INVALID', `Expected a socket path or an address like ":8000" for ${option} but received ${JSON.stringify(spec)}`);
    }
    if (Buffer.byteLength(spec) > 107) {
      throw new TsgiError('TSGI_ERR_ADDRESS_INVALID', `The unix socket path for ${option} is ${Buffer.byteLength(spec)} bytes; the limit is 107: ${spec}`);
    }
    return { kind: 'unix', path: spec, spec };
  }
  return parseTcpAddress(spec, option);
}

export function parseTcpAddress(spec: string, option = 'http'): TcpAddress {
  const bad = (why: string): never => {
    throw new TsgiError(
      'TSGI_ERR_ADDRESS_INVALID',
      `Expected an address like ":9090", "127.0.0.1:9090" or "[::1]:9090" for ${option} but received ${JSON.stringify(spec)} (${why})`,
    );
  };
  let host: string;
  let portText: string;
  if (spec.startsWith('[')) {
    const end = spec.indexOf(']');
    if (end === -1 || spec[end + 1] !== ':') bad('an IPv6 address in brackets must be followed by :port');
    host = spec.slice(1, end);
    portText = spec.slice(end + 2);
    if (isIP(host) !== 6) bad(`${host} is not an IPv6 address`);
  } else {
    const colon = spec.lastIndexOf(':');
    if (colon === -1) bad('no port');
    host = spec.slice(0, colon);
    portText = spec.slice(colon + 1);
    if (host.includes(':')) bad('write an IPv6 address in brackets');
    if (host === '' || host === '*') host = '0.0.0.0';
  }
  if (!/^[0-9]{1,5}$/.test(portText!) || Number(portText!) > 65535) bad(`the port must be a number from 0 to 65535`);
  return { kind: 'tcp', host: host!, port: Number(portText!), spec };
}
