"""Deltas written once-framed straight to Daphne's sockets (kubelab.broadcast), on a real `up`.

The fast path writes to a socket only when nothing is queued before it; a browser that stops
reading fills its socket, and what follows must wait in Twisted's buffer, in order. Checked end to
end: every socket, the slow one included, gets consecutive seqs and ends up with exactly the
objects a fresh snapshot has (README, "Live updates (WebSocket protocol)"). With Linux's default
socket buffers a stalled socket takes in ~1.5 MB before writes to it fall short; the stalled
browser here is sent ~3 MB.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import http.cookiejar
import json
import os
import re
import socket
import struct
import urllib.parse
import urllib.request

from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol

from clusters import wire
from kubelab.broadcast import DaphneSocketMiddleware, Frame, daphne_protocol
from tests.clusters.test_durability import free_port, start_up
from tests.sim.helpers import deployment_yaml


class Page:
    """A browser's session on the demo cluster: cookie and CSRF token, posts like the page does."""

    def __init__(self, base: str, slug: str = "demo") -> None:
        self.base = base
        self.slug = slug
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        html = self.opener.open(f"{base}/c/{slug}/", timeout=120).read().decode()
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def post(self, path: str, **data: str) -> bytes:
        req = urllib.request.Request(
            f"{self.base}{path}",
            data=urllib.parse.urlencode(data).encode(),
            headers={"X-CSRFToken": self.token, "Referer": f"{self.base}/c/{self.slug}/"},
        )
        return self.opener.open(req, timeout=120).read()

    def kubectl(self, command: str, stdin: str = "") -> dict:
        out = json.loads(self.post(f"/c/{self.slug}/console/", command=command, stdin=stdin))
        assert out["code"] == 0, out
        return out


async def _watch(port: int) -> tuple[dict, list[dict]]:
    """A browser that reads as fast as it can: its snapshot and every message after it."""
    import websockets

    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/clusters/demo/",
        origin=f"http://127.0.0.1:{port}",
        max_size=2**24,
    ) as ws:
        snap = json.loads(await ws.recv())
        messages = []
        while True:
            try:
                messages.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=3)))
            except TimeoutError:
                return snap, messages


class StalledBrowser:
    """A browser whose tab is frozen: a WebSocket on a plain socket with a 4 KiB receive buffer
    that reads nothing until told, so that the server's socket fills and its writes fall short."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET /ws/clusters/demo/ HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        self.received = 0
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(65536)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.snapshot = json.loads(self._frame())

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError
            self.received += len(chunk)
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _frame(self) -> bytes:
        b0, b1 = self._read(2)
        assert b0 == 0x81, hex(b0)  # FIN + text, unmasked from the server
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return self._read(n)

    def messages(self) -> list[dict]:
        self.sock.settimeout(3)
        out = []
        while True:
            try:
                out.append(json.loads(self._frame()))
            except TimeoutError:
                return out


def _joined(messages: list[dict]) -> list[dict]:
    """The messages as the page applies them: a delta with its parts put together."""
    out, i = [], 0
    while i < len(messages):
        n = messages[i].get("parts", 1)
        out.append(wire.join(messages[i : i + n]))
        i += n
    return out


def _rebuild(snap: dict, messages: list[dict]) -> dict:
    messages = _joined(messages)
    assert all(m["type"] == "delta" for m in messages), [m["type"] for m in messages]
    seqs = [m["seq"] for m in messages]
    assert seqs == list(range(snap["seq"] + 1, snap["seq"] + 1 + len(seqs)))
    for m in messages:
        snap = wire.apply_delta(snap, m)
    return snap


def test_every_socket_fast_or_slow_gets_every_delta_in_order(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/kubelab.sqlite3")
    port = free_port()
    up = start_up(env, port)
    try:
        page = Page(f"http://127.0.0.1:{port}")

        stalled = StalledBrowser(port)

        async def scenario() -> list[tuple[dict, list[dict]]]:
            watchers = [asyncio.create_task(_watch(port)) for _ in range(2)]
            await asyncio.sleep(1.5)  # both have their snapshot
            run = functools.partial(asyncio.to_thread, page.kubectl)
            # 200 pods: deltas of hundreds of KiB, more than the slow socket's buffers take at once
            await run("apply -f -", deployment_yaml(name="big", replicas=1000))
            await asyncio.sleep(2)
            for replicas in (0, 1000, 7):
                await run(f"scale deployment big --replicas={replicas}")
                await asyncio.sleep(2)
            await asyncio.to_thread(page.post, "/c/demo/clock/pause/")
            await asyncio.sleep(1)
            return await asyncio.gather(*watchers)

        results = asyncio.run(scenario())
        results.append((stalled.snapshot, stalled.messages()))
        fresh = json.loads(page.opener.open(f"{page.base}/c/demo/state.json").read())
    finally:
        up.terminate()
        up.wait(15)
    want = {o["key"]: o for o in fresh["objects"]}
    assert sum(1 for k in want if k.startswith("Pod/default/big-")) == 7
    for snap, messages in results:
        assert len(messages) > 5
        assert any(m["type"] == "part" for m in messages)  # 1,000 pods at once: in parts
        rebuilt = _rebuild(snap, messages)
        assert rebuilt["seq"] == fresh["seq"]
        assert {o["key"]: o for o in rebuilt["objects"]} == want


def test_bad_messages_get_their_close_codes_from_a_real_daphne(tmp_path):
    """Under Daphne (Autobahn refuses RFC 6455's 1009 from an application): malformed → 4400,
    over 64 KiB → 4413, each a clean close rather than a crash (1011)."""
    import websockets

    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/kubelab.sqlite3")
    port = free_port()
    up = start_up(env, port)

    async def close_code(message: str) -> int | None:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/clusters/demo/",
            origin=f"http://127.0.0.1:{port}",
            max_size=2**24,
        ) as ws:
            await ws.recv()
            await ws.send(message)
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), timeout=5)
            except websockets.ConnectionClosed as e:
                return e.rcvd.code if e.rcvd else None

    try:
        assert asyncio.run(close_code("{not json")) == 4400
        assert asyncio.run(close_code("x" * (64 * 1024 + 1))) == 4413
    finally:
        up.terminate()
        up.wait(15)


def test_daphne_protocol_is_found_only_in_what_daphne_sends():
    """The fast path depends on how Daphne builds each connection's `send`: checked against the
    installed Daphne, so that an upgrade that changes it fails here rather than going slow."""
    server = Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])
    protocol = WebSocketProtocol()
    assert daphne_protocol(functools.partial(server.handle_reply, protocol)) is protocol

    async def send(message: dict) -> None:  # any other server's send
        pass

    assert daphne_protocol(send) is None
    assert daphne_protocol(functools.partial(send)) is None
    assert daphne_protocol(functools.partial(server.handle_reply)) is None


def test_middleware_adds_the_socket_only_for_daphne_websockets():
    seen = []

    async def app(scope, receive, send):  # noqa: ANN001, ANN202
        seen.append(scope.get("kubelab.socket"))

    server = Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])
    protocol = WebSocketProtocol()
    daphne_send = functools.partial(server.handle_reply, protocol)
    mw = DaphneSocketMiddleware(app)
    asyncio.run(mw({"type": "websocket"}, None, daphne_send))
    asyncio.run(mw({"type": "http"}, None, daphne_send))
    asyncio.run(mw({"type": "websocket"}, None, lambda m: None))
    assert seen == [protocol, None, None]


def test_a_frame_is_not_sent_to_a_socket_that_is_not_open():
    protocol = WebSocketProtocol()
    protocol.state = protocol.STATE_CLOSING
    assert Frame('{"type":"delta"}').send(protocol) is False
