#!/usr/bin/python3
# A WebSocket client on Autobahn|Python (autobahn.asyncio.websocket: Debian's
# python3-autobahn), an RFC 6455 implementation independent of `ws`, for
# test/integration/websocket-autobahn.test.mjs. It reads a plan (JSON) on stdin, runs
# each of its cases on a connection of its own (all at once), and writes what the client
# saw (JSON) on stdout. The plan:
#
#   {"url": "ws://127.0.0.1:PORT/PATH", "greeting": true, "timeout": 15,
#    "cases": [{"name": "...", "autoFragmentSize": 0, "steps": [STEP, ...]}]}
#
# greeting: the server sends a message first (taken as the case's "greeting"). A STEP:
#   {"send": "text" | "binary", "data": BASE64}  sendMessage() (text frames carry the
#                                                 bytes as given, valid UTF-8 or not)
#   {"ping": BASE64}                              sendPing()
#   {"close": CODE, "reason": "..."}              sendClose()
#   {"receive": true}                             waits for the next message or pong
# After its steps a case waits for the connection to close. Each case's report:
#   {"name", "greeting", "received": [{"kind": "message", "binary", "length", "sha256",
#    "base64" (messages up to 4096 bytes)} | {"kind": "pong", "base64"}],
#    "close": {"wasClean", "code", "reason" (onClose's), "remoteCode", "remoteReason",
#    "localCode", "notCleanReason", "droppedByMe"},
#    "framesOut", "framesIn" (data frames, autobahn's traffic stats), "error"}
import asyncio
import base64
import hashlib
import json
import sys
from urllib.parse import urlparse

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol

SHOWN = 4096


class Client(WebSocketClientProtocol):
    def __init__(self):
        super().__init__()
        self.events = asyncio.Queue()
        self.opened = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()

    def onOpen(self):
        if not self.opened.done():
            self.opened.set_result(True)

    def onMessage(self, payload, isBinary):
        m = {'kind': 'message', 'binary': isBinary, 'length': len(payload), 'sha256': hashlib.sha256(payload).hexdigest()}
        if len(payload) <= SHOWN:
            m['base64'] = base64.b64encode(payload).decode()
        self.events.put_nowait(m)

    def onPong(self, payload):
        self.events.put_nowait({'kind': 'pong', 'base64': base64.b64encode(payload).decode()})

    def onClose(self, wasClean, code, reason):
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f'closed before the opening handshake: {reason}'))
        if not self.closed.done():
            self.closed.set_result({
                'wasClean': wasClean,
                'code': code,
                'reason': reason,
                'remoteCode': self.remoteCloseCode,
                'remoteReason': self.remoteCloseReason,
                'localCode': self.localCloseCode,
                'notCleanReason': self.wasNotCleanReason,
                'droppedByMe': self.droppedByMe,
            })


async def run_case(plan, case):
    url = urlparse(plan['url'])
    limit = plan.get('timeout', 15)
    factory = WebSocketClientFactory(plan['url'])
    factory.protocol = Client
    # The server ends the TCP connection after the closing handshake (RFC 6455 §7.1.1):
    # Autobahn waits 1 s for it by default, then calls the close unclean; 5 s here, for a
    # loaded machine (the sanitized run).
    factory.setProtocolOptions(autoFragmentSize=case.get('autoFragmentSize', 0), openHandshakeTimeout=limit, closeHandshakeTimeout=limit, serverConnectionDropTimeout=5)
    report = {'name': case['name'], 'greeting': None, 'received': [], 'close': None, 'framesOut': 0, 'framesIn': 0, 'error': None}
    proto = None
    step = 'connect'
    try:
        _, proto = await asyncio.wait_for(asyncio.get_running_loop().create_connection(factory, url.hostname, url.port), limit)
        step = 'the opening handshake'
        await asyncio.wait_for(proto.opened, limit)
        if plan.get('greeting'):
            step = 'the greeting'
            greeting = await asyncio.wait_for(proto.events.get(), limit)
            report['greeting'] = base64.b64decode(greeting.get('base64', '')).decode('utf8', 'replace')
        for s in case['steps']:
            step = json.dumps({k: (v if k != 'data' else f'{len(v)} base64 chars') for k, v in s.items()})
            if 'send' in s:
                proto.sendMessage(base64.b64decode(s['data']), isBinary=s['send'] == 'binary')
            elif 'ping' in s:
                proto.sendPing(base64.b64decode(s['ping']))
            elif 'close' in s:
                proto.sendClose(code=s['close'], reason=s.get('reason'))
            elif 'receive' in s:
                report['received'].append(await asyncio.wait_for(proto.events.get(), limit))
        step = 'the close'
        report['close'] = await asyncio.wait_for(proto.closed, limit)
        while not proto.events.empty():  # what came before the close, unasked for
            report['received'].append(proto.events.get_nowait())
    except Exception as err:  # any failure is the case's report: the test says what went wrong
        report['error'] = f'{step}: {type(err).__name__}: {err}'
        if proto is not None and proto.transport is not None:
            proto.transport.abort()
    if proto is not None:
        report['framesOut'] = proto.trafficStats.outgoingWebSocketFrames
        report['framesIn'] = proto.trafficStats.incomingWebSocketFrames
    return report


async def main():
    plan = json.load(sys.stdin)
    reports = await asyncio.gather(*(run_case(plan, case) for case in plan['cases']))
    json.dump(reports, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    asyncio.run(main())
