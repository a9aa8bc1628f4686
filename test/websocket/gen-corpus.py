#!/usr/bin/env python3
"""Writes the WebSocket frame corpus: valid/NAME.bin and invalid/NAME.bin, each with
NAME.json beside it. The .bin holds what a client sends once the handshake is done
(masked frames); the .json what native/protocol/websocket_parser.cc must make of them,
written here by hand for each case (not computed):

  max_message  the --websocket-max-size the parser is made with
  events       in order: {"kind": "text"|"binary"|"ping"|"pong"|"close",
               "data": hex of the payload (a close's: of its reason), "code": a close's code}
  consumed     (valid) the bytes the frames took: the parser stops at a close, or at a
               frame that is not complete
  error        (invalid) {"code": the close code, "reason": the parser's sentence}

Read by test/native/websocket-test.cc (every case whole, split in two at every offset,
byte by byte) and as the seeds of test/native/fuzz-websocket.cc.

    python3 test/websocket/gen-corpus.py
"""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = b'\x37\xfa\x21\x3d'
MAX = 1 << 20
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0, 1, 2, 8, 9, 10


def frame(op, payload=b'', fin=True, rsv=0, masked=True, form=None, mask=MASK):
    n = len(payload)
    form = form or ('7' if n < 126 else '16' if n < 65536 else '64')
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | op])
    m = 0x80 if masked else 0
    if form == '7':
        head += bytes([m | n])
    elif form == '16':
        head += bytes([m | 126]) + struct.pack('>H', n)
    else:
        head += bytes([m | 127]) + struct.pack('>Q', n)
    if not masked:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close(code=None, reason=b''):
    return frame(CLOSE, b'' if code is None else struct.pack('>H', code) + reason)


def ev(kind, data=b'', code=None):
    e = {'kind': kind, 'data': data.hex()}
    if code is not None:
        e['code'] = code
    return e


def text(s):
    return ev('text', s if isinstance(s, bytes) else s.encode())


def binary(b):
    return ev('binary', b)


HELLO = frame(TEXT, b'Hello')
LONG = bytes(range(256)) * 4  # 1024 bytes: a 16-bit length
KOSME = 'κόσμε'.encode()

# name: (bytes, events, consumed or None for all, max_message)
VALID = {
    'text': (HELLO, [text('Hello')]),
    'text-other-mask': (frame(TEXT, b'Hello', mask=b'\xff\x00\x80\x01'), [text('Hello')]),
    'text-zero-mask': (frame(TEXT, b'Hello', mask=b'\0\0\0\0'), [text('Hello')]),
    'text-empty': (frame(TEXT), [text('')]),
    'binary': (frame(BINARY, b'\x00\xff\x80\x7f'), [binary(b'\x00\xff\x80\x7f')]),
    'binary-empty': (frame(BINARY), [binary(b'')]),
    'binary-125': (frame(BINARY, b'a' * 125), [binary(b'a' * 125)]),
    'binary-126-16bit': (frame(BINARY, b'b' * 126), [binary(b'b' * 126)]),
    'binary-16bit': (frame(BINARY, LONG), [binary(LONG)]),
    'binary-64bit-length-of-a-short-one': (frame(BINARY, b'xyz', form='64'), [binary(b'xyz')]),
    'text-16bit-length-of-a-short-one': (frame(TEXT, b'hi', form='16'), [text('hi')]),
    'two-messages-in-one-read': (HELLO + frame(BINARY, b'\x01\x02'), [text('Hello'), binary(b'\x01\x02')]),
    'many-messages': (b''.join(frame(TEXT, b'%d' % i) for i in range(20)), [text('%d' % i) for i in range(20)]),
    'fragmented-text': (frame(TEXT, b'Hel', fin=False) + frame(CONT, b'lo', fin=False) + frame(CONT, b' world'),
                        [text('Hello world')]),
    'fragmented-binary': (frame(BINARY, b'\x00', fin=False) + frame(CONT, b'\x01'), [binary(b'\x00\x01')]),
    'fragmented-empty-parts': (frame(TEXT, fin=False) + frame(CONT, fin=False) + frame(CONT), [text('')]),
    'fragmented-then-another': (frame(TEXT, b'a', fin=False) + frame(CONT, b'b') + frame(TEXT, b'c'),
                                [text('ab'), text('c')]),
    'fragmented-then-another-fragmented': (frame(BINARY, b'a', fin=False) + frame(CONT, b'b') + frame(TEXT, b'c', fin=False) + frame(CONT, b'd'),
                                           [binary(b'ab'), text('cd')]),
    'ping-inside-fragments': (frame(TEXT, b'Hel', fin=False) + frame(PING, b'p') + frame(CONT, b'lo'),
                              [ev('ping', b'p'), text('Hello')]),
    'pong-inside-fragments': (frame(BINARY, b'x', fin=False) + frame(PONG) + frame(CONT, b'y'),
                              [ev('pong'), binary(b'xy')]),
    'close-inside-fragments': (frame(TEXT, b'x', fin=False) + close(1000), [ev('close', b'', 1000)]),
    'utf8-split-across-fragments': (frame(TEXT, KOSME[:3], fin=False) + frame(CONT, KOSME[3:6], fin=False) + frame(CONT, KOSME[6:]),
                                    [text(KOSME)]),
    'utf8-4-bytes-split-across-fragments': (frame(TEXT, b'\xf0\x9f', fin=False) + frame(CONT, b'\x98', fin=False) + frame(CONT, b'\x80'),
                                            [text('😀')]),
    'utf8-kosme': (frame(TEXT, KOSME), [text(KOSME)]),
    'utf8-boundaries': (frame(TEXT, '\u0080\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff'.encode()),
                        [text('\u0080\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff'.encode())]),
    'utf8-ascii-long': (frame(TEXT, b'abcdefgh' * 40 + KOSME), [text(b'abcdefgh' * 40 + KOSME)]),
    'binary-not-utf8': (frame(BINARY, b'\xff\xfe\xc0\x80'), [binary(b'\xff\xfe\xc0\x80')]),
    'ping': (frame(PING, b'are you there'), [ev('ping', b'are you there')]),
    'ping-empty': (frame(PING), [ev('ping')]),
    'ping-125': (frame(PING, b'p' * 125), [ev('ping', b'p' * 125)]),
    'pong': (frame(PONG, b'unsolicited'), [ev('pong', b'unsolicited')]),
    'close-empty': (close(), [ev('close', b'', 1005)]),
    'close-1000': (close(1000), [ev('close', b'', 1000)]),
    'close-1000-reason': (close(1000, b'bye'), [ev('close', b'bye', 1000)]),
    'close-1003': (close(1003), [ev('close', b'', 1003)]),
    'close-1007': (close(1007), [ev('close', b'', 1007)]),
    'close-1011': (close(1011), [ev('close', b'', 1011)]),
    # 1012-1014 (service restart, try again later, bad gateway): IANA's registry, sent by
    # servers and echoed by clients; ws takes them too.
    'close-1012': (close(1012), [ev('close', b'', 1012)]),
    'close-1014': (close(1014), [ev('close', b'', 1014)]),
    'close-3000': (close(3000), [ev('close', b'', 3000)]),
    'close-4999': (close(4999, KOSME), [ev('close', KOSME, 4999)]),
    'close-then-more': (close(1001) + HELLO, [ev('close', b'', 1001)], 8),
    'message-then-close': (HELLO + close(1000, b'done'), [text('Hello'), ev('close', b'done', 1000)]),
    'partial-frame-left': (HELLO + HELLO[:5], [text('Hello')], len(HELLO)),
    'header-only-left': (HELLO + frame(BINARY, b'x' * 300)[:3], [text('Hello')], len(HELLO)),
    'at-max-size': (frame(BINARY, b'm' * 64), [binary(b'm' * 64)], None, 64),
    'fragments-at-max-size': (frame(BINARY, b'm' * 40, fin=False) + frame(CONT, b'n' * 24), [binary(b'm' * 40 + b'n' * 24)], None, 64),
    'control-frames-not-counted-in-max': (frame(TEXT, b'a' * 60, fin=False) + frame(PING, b'p' * 100) + frame(CONT, b'b' * 4),
                                          [ev('ping', b'p' * 100), text(b'a' * 60 + b'b' * 4)], None, 64),
    'max-size-zero-empty-message': (frame(TEXT), [text('')], None, 0),
}

P = 'a reserved bit is set'
INVALID = {
    'rsv1': (frame(TEXT, b'x', rsv=4), [], 1002, P),
    'rsv2': (frame(TEXT, b'x', rsv=2), [], 1002, P),
    'rsv3': (frame(TEXT, b'x', rsv=1), [], 1002, P),
    'rsv-on-ping': (frame(PING, rsv=7), [], 1002, P),
    'rsv-after-message': (HELLO + frame(BINARY, b'x', rsv=1), [text('Hello')], 1002, P),
    'opcode-3': (frame(3), [], 1002, 'a reserved opcode'),
    'opcode-7': (frame(7), [], 1002, 'a reserved opcode'),
    'opcode-b': (frame(0xB), [], 1002, 'a reserved opcode'),
    'opcode-f': (frame(0xF), [], 1002, 'a reserved opcode'),
    'unmasked-text': (frame(TEXT, b'Hello', masked=False), [], 1002, 'an unmasked frame'),
    'unmasked-close': (frame(CLOSE, b'\x03\xe8', masked=False), [], 1002, 'an unmasked frame'),
    'fragmented-ping': (frame(PING, b'x', fin=False), [], 1002, 'a fragmented control frame'),
    'fragmented-close': (frame(CLOSE, b'\x03\xe8', fin=False), [], 1002, 'a fragmented control frame'),
    'ping-126': (frame(PING, b'p' * 126), [], 1002, 'a control frame longer than 125 bytes'),
    'ping-16bit-short': (frame(PING, b'p', form='16'), [], 1002, 'a control frame longer than 125 bytes'),
    'close-64bit': (frame(CLOSE, b'\x03\xe8', form='64'), [], 1002, 'a control frame longer than 125 bytes'),
    'continuation-first': (frame(CONT, b'x'), [], 1002, 'a continuation frame with no message begun'),
    'continuation-after-message': (HELLO + frame(CONT, b'x'), [text('Hello')], 1002, 'a continuation frame with no message begun'),
    'text-inside-fragments': (frame(TEXT, b'a', fin=False) + frame(TEXT, b'b'), [], 1002, 'a new message inside a fragmented one'),
    'binary-inside-fragments': (frame(BINARY, b'a', fin=False) + frame(PING) + frame(BINARY, b'b'), [ev('ping')], 1002,
                                'a new message inside a fragmented one'),
    'length-top-bit': (bytes([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1]) + MASK + b'x', [], 1002, 'a 64-bit length with its top bit set'),
    'close-one-byte': (frame(CLOSE, b'\x03'), [], 1002, 'a close frame of one byte'),
    'close-0': (close(0), [], 1002, 'a close code that may not be sent'),
    'close-999': (close(999), [], 1002, 'a close code that may not be sent'),
    'close-1004': (close(1004), [], 1002, 'a close code that may not be sent'),
    'close-1005': (close(1005), [], 1002, 'a close code that may not be sent'),
    'close-1006': (close(1006), [], 1002, 'a close code that may not be sent'),
    'close-1015': (close(1015), [], 1002, 'a close code that may not be sent'),
    'close-2999': (close(2999), [], 1002, 'a close code that may not be sent'),
    'close-5000': (close(5000), [], 1002, 'a close code that may not be sent'),
    'close-65535': (close(65535), [], 1002, 'a close code that may not be sent'),
    'close-reason-not-utf8': (close(1000, b'\xce\xba\xe1\xbd'), [], 1007, 'a close reason that is not UTF-8'),
    'utf8-lone-continuation': (frame(TEXT, b'a\x80b'), [], 1007, 'a text message that is not UTF-8'),
    'utf8-overlong-c0': (frame(TEXT, b'\xc0\x80'), [], 1007, 'a text message that is not UTF-8'),
    'utf8-overlong-e0': (frame(TEXT, b'\xe0\x80\xaf'), [], 1007, 'a text message that is not UTF-8'),
    'utf8-overlong-f0': (frame(TEXT, b'\xf0\x8f\xbf\xbf'), [], 1007, 'a text message that is not UTF-8'),
    'utf8-surrogate': (frame(TEXT, b'\xed\xa0\x80'), [], 1007, 'a text message that is not UTF-8'),
    'utf8-over-10ffff': (frame(TEXT, b'\xf4\x90\x80\x80'), [], 1007, 'a text message that is not UTF-8'),
    'utf8-f5': (frame(TEXT, b'\xf5\x80\x80\x80'), [], 1007, 'a text message that is not UTF-8'),
    'utf8-ff': (frame(TEXT, b'abcdefghij\xff'), [], 1007, 'a text message that is not UTF-8'),
    'utf8-truncated-at-end': (frame(TEXT, KOSME[:-1]), [], 1007, 'a text message that is not UTF-8'),
    'utf8-truncated-at-end-of-fragments': (frame(TEXT, KOSME, fin=False) + frame(CONT, b'\xce'), [], 1007,
                                           'a text message that is not UTF-8'),
    'utf8-bad-in-first-fragment': (frame(TEXT, b'ok\xc0', fin=False) + frame(CONT, b'more'), [], 1007,
                                   'a text message that is not UTF-8'),
    'utf8-bad-across-fragments': (frame(TEXT, b'\xe0', fin=False) + frame(CONT, b'\x80\x80'), [], 1007,
                                  'a text message that is not UTF-8'),
    'utf8-bad-after-ping': (frame(TEXT, b'\xce', fin=False) + frame(PING) + frame(CONT, b'\x41'), [ev('ping')], 1007,
                            'a text message that is not UTF-8'),
    'too-big': (frame(BINARY, b'm' * 65), [], 1009, 'a message longer than the maximum size', 64),
    'too-big-text': (frame(TEXT, b'm' * 200), [], 1009, 'a message longer than the maximum size', 64),
    'too-big-fragments': (frame(BINARY, b'm' * 40, fin=False) + frame(CONT, b'n' * 25), [], 1009,
                          'a message longer than the maximum size', 64),
    'too-big-header-only': (bytes([0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0]), [], 1009, 'a message longer than the maximum size'),
    'too-big-after-message': (HELLO + frame(BINARY, b'x' * 20), [text('Hello')], 1009, 'a message longer than the maximum size', 10),
    'max-size-zero': (frame(TEXT, b'x'), [], 1009, 'a message longer than the maximum size', 0),
}


def write(kind, cases):
    d = os.path.join(HERE, kind)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, case in cases.items():
        data, events = case[0], case[1]
        if kind == 'valid':
            consumed = case[2] if len(case) > 2 and case[2] is not None else len(data)
            exp = {'max_message': case[3] if len(case) > 3 else MAX, 'events': events, 'consumed': consumed}
        else:
            exp = {'max_message': case[4] if len(case) > 4 else MAX, 'events': events,
                   'error': {'code': case[2], 'reason': case[3]}}
        with open(os.path.join(d, name + '.bin'), 'wb') as f:
            f.write(data)
        with open(os.path.join(d, name + '.json'), 'w') as f:
            json.dump(exp, f, indent=1)
            f.write('\n')


write('valid', VALID)
write('invalid', INVALID)
