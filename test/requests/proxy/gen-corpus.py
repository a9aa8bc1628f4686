#!/usr/bin/env python3
"""Writes the PROXY protocol corpus: valid/NAME.bin and invalid/NAME.bin, each with
NAME.json beside it. A valid case's JSON: consumed (the header's length), version,
and src/src_port/dst/dst_port (src null: the connection keeps its own peer). An
invalid case's: error, the parser's sentence. Read by test/native/proxy-test.cc (the
native parser) and test/unit/proxy-header.test.mjs (lib/proxy-header.ts).

    python3 test/requests/proxy/gen-corpus.py
"""
import json
import os
import shutil
import socket
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SIG = b'\r\n\r\n\x00\r\nQUIT\n'
REQ = b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'


def v2(cmd, fam, block, version=2):
    return SIG + bytes([(version << 4) | cmd, fam]) + struct.pack('>H', len(block)) + block


def v2_inet(src, sport, dst, dport, tlv=b''):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('>HH', sport, dport) + tlv


def v2_inet6(src, sport, dst, dport):
    return socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + struct.pack('>HH', sport, dport)


def addr(n, version, src=None, sport=0, dst=None, dport=0):
    return {'consumed': n, 'version': version, 'src': src, 'src_port': sport, 'dst': dst, 'dst_port': dport}


V1_TCP4 = b'PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n'
V1_TCP6 = b'PROXY TCP6 2001:db8::1 2001:db8:0:0:0:0:0:2 65535 0\r\n'
V1_MAX = b'PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n'
assert len(V1_MAX) == 104
V1_UNKNOWN_LONG = b'PROXY UNKNOWN ' + b'x' * 91 + b'\r\n'
assert len(V1_UNKNOWN_LONG) == 107
IN4 = v2_inet('192.0.2.1', 56324, '198.51.100.2', 443)
IN6 = v2_inet6('2001:db8::1', 1, '::ffff:192.0.2.9', 2)

VALID = {
    'v1-tcp4': (V1_TCP4 + REQ, addr(len(V1_TCP4), 1, '192.0.2.1', 56324, '198.51.100.2', 443)),
    'v1-tcp4-alone': (V1_TCP4, addr(len(V1_TCP4), 1, '192.0.2.1', 56324, '198.51.100.2', 443)),
    'v1-tcp6-canonical': (V1_TCP6 + REQ, addr(len(V1_TCP6), 1, '2001:db8::1', 65535, '2001:db8::2', 0)),
    'v1-max-length': (V1_MAX, addr(104, 1, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 65535, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 65535)),
    'v1-unknown': (b'PROXY UNKNOWN\r\n' + REQ, addr(15, 1)),
    'v1-unknown-with-addresses': (b'PROXY UNKNOWN ::1 ::1 1 2\r\n', addr(27, 1)),
    'v1-unknown-107-bytes': (V1_UNKNOWN_LONG, addr(107, 1)),
    'v2-proxy-tcp4': (v2(1, 0x11, IN4) + REQ, addr(28, 2, '192.0.2.1', 56324, '198.51.100.2', 443)),
    'v2-proxy-tcp4-tlvs': (v2(1, 0x11, v2_inet('10.0.0.1', 1, '10.0.0.2', 2, b'\x04\x00\x01\x00' + b'\x01\x00\x02h2')), addr(16 + 12 + 4 + 5, 2, '10.0.0.1', 1, '10.0.0.2', 2)),
    'v2-proxy-tcp6': (v2(1, 0x21, IN6) + REQ, addr(52, 2, '2001:db8::1', 1, '::ffff:192.0.2.9', 2)),
    'v2-local': (v2(0, 0x00, b'') + REQ, addr(16, 2)),
    'v2-local-with-addresses': (v2(0, 0x11, IN4), addr(28, 2)),
    'v2-proxy-unspec': (v2(1, 0x00, b''), addr(16, 2)),
    'v2-proxy-udp4': (v2(1, 0x12, IN4), addr(28, 2)),
    'v2-proxy-unix': (v2(1, 0x31, b'\0' * 216), addr(232, 2)),
    'v2-proxy-unknown-family': (v2(1, 0x41, b'abc'), addr(19, 2)),
}

INVALID = {
    'http-request': (REQ, 'no PROXY protocol header'),
    'lowercase-proxy': (b'proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n', 'no PROXY protocol header'),
    'proxy-no-space': (b'PROXYTCP4 1.2.3.4 1.2.3.4 1 2\r\n', 'no PROXY protocol header'),
    'tls-hello': (b'\x16\x03\x01\x02\x00\x01', 'no PROXY protocol header'),
    'v2-signature-broken': (SIG[:11] + b'X' + b'\x21\x11\x00\x0c' + IN4, 'no PROXY protocol header'),
    'v1-tcp5': (b'PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n', 'PROXY v1 header: the protocol is not TCP4, TCP6 or UNKNOWN'),
    'v1-unknownx': (b'PROXY UNKNOWNX\r\n', 'PROXY v1 header: the protocol is not TCP4, TCP6 or UNKNOWN'),
    'v1-three-fields': (b'PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n', 'PROXY v1 header: not four fields (source, destination, ports)'),
    'v1-five-fields': (b'PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n', 'PROXY v1 header: not four fields (source, destination, ports)'),
    'v1-double-space': (b'PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n', 'PROXY v1 header: not four fields (source, destination, ports)'),
    'v1-empty-field': (b'PROXY TCP4 1.2.3.4 1.2.3.4  2\r\n', 'PROXY v1 header: a port is not a decimal from 0 to 65535'),
    'v1-v6-in-tcp4': (b'PROXY TCP4 ::1 ::1 1 2\r\n', 'PROXY v1 header: an address is not IPv4'),
    'v1-v4-in-tcp6': (b'PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n', 'PROXY v1 header: an address is not IPv6'),
    'v1-octet-256': (b'PROXY TCP4 1.2.3.256 1.2.3.4 1 2\r\n', 'PROXY v1 header: an address is not IPv4'),
    'v1-port-65536': (b'PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n', 'PROXY v1 header: a port is not a decimal from 0 to 65535'),
    'v1-port-leading-zero': (b'PROXY TCP4 1.2.3.4 1.2.3.4 080 2\r\n', 'PROXY v1 header: a port is not a decimal from 0 to 65535'),
    'v1-port-sign': (b'PROXY TCP4 1.2.3.4 1.2.3.4 +80 2\r\n', 'PROXY v1 header: a port is not a decimal from 0 to 65535'),
    'v1-lf-only': (b'PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n' + REQ, 'PROXY v1 header: a LF without CR'),
    'v1-cr-alone': (b'PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX\n', 'PROXY v1 header: a CR not followed by LF'),
    'v1-108-bytes': (b'PROXY UNKNOWN ' + b'x' * 92 + b'\r\n', 'PROXY v1 header: no CRLF within 107 bytes'),
    'v1-no-crlf': (b'PROXY UNKNOWN ' + b'x' * 200, 'PROXY v1 header: no CRLF within 107 bytes'),
    'v2-version-1': (v2(1, 0x11, IN4, version=1), 'PROXY v2 header: the version is not 2'),
    'v2-version-3': (v2(1, 0x11, IN4, version=3), 'PROXY v2 header: the version is not 2'),
    'v2-command-2': (v2(2, 0x11, IN4), 'PROXY v2 header: the command is neither LOCAL nor PROXY'),
    'v2-tcp4-short-block': (v2(1, 0x11, IN4[:11]), 'PROXY v2 header: the address block is shorter than its family needs'),
    'v2-tcp6-short-block': (v2(1, 0x21, IN4), 'PROXY v2 header: the address block is shorter than its family needs'),
    'v2-unix-short-block': (v2(1, 0x31, b'\0' * 215), 'PROXY v2 header: the address block is shorter than its family needs'),
    'v2-local-short-block': (v2(0, 0x11, IN4[:4]), 'PROXY v2 header: the address block is shorter than its family needs'),
}


def write(kind, cases, expect):
    d = os.path.join(HERE, kind)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, (data, exp) in cases.items():
        with open(os.path.join(d, name + '.bin'), 'wb') as f:
            f.write(data)
        with open(os.path.join(d, name + '.json'), 'w') as f:
            json.dump(expect(exp), f, indent=1)
            f.write('\n')


write('valid', VALID, lambda e: e)
write('invalid', INVALID, lambda e: {'error': e})
