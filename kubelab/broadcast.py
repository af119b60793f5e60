"""One WebSocket frame per delta for every browser of a cluster, on the embedded default.

Every browser of a cluster gets the same delta text. Through Channels and Daphne each socket's
copy would be sent on its own: the consumer's ``send``, the session middleware, Daphne's
``handle_reply``, a UTF-8 encode and an Autobahn frame, ~60 µs a socket — 20 ms of event loop for
a classroom of 300, in front of every socket's write. Autobahn has an API for exactly this case
(``factory.prepareMessage`` once, ``protocol.sendPreparedMessage`` per socket, which also applies
per-message compression where a socket negotiated it), so ``Frame`` encodes and frames the text
once and writes it to each socket — straight to the socket when nothing waits before it
(``write_now``), since Twisted would otherwise buffer it for the loop's next turn.

A consumer can only do that with the Autobahn protocol of its socket, which Daphne does not
pass to the application: ``DaphneSocketMiddleware`` takes it out of the ``send`` Daphne hands
each connection (``functools.partial(server.handle_reply, protocol)``) and puts it in the scope.
Under any other server (the test communicator, another ASGI server) there is none, and
consumers send as usual. Measured with tests/perf/bench_live.py, 300 sockets: the last socket
written 8–15 ms after the delta was serialised instead of 35–50 ms.
"""

from __future__ import annotations

import functools
from typing import Any

SCOPE_KEY = "kubelab.socket"


def daphne_protocol(send: Any) -> Any | None:
    """The Autobahn protocol behind a ``send`` that Daphne made, or None."""
    if not isinstance(send, functools.partial) or not send.args:
        return None
    owner = getattr(send.func, "__self__", None)
    if getattr(send.func, "__name__", "") != "handle_reply" or owner is None:
        return None
    if type(owner).__module__ != "daphne.server":
        return None
    protocol = send.args[0]
    return protocol if hasattr(protocol, "sendPreparedMessage") else None


class DaphneSocketMiddleware:
    """Puts the socket's Autobahn protocol (when Daphne serves it) in ``scope["kubelab.socket"]``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        protocol = daphne_protocol(send) if scope.get("type") == "websocket" else None
        if protocol is not None:
            scope = {**scope, SCOPE_KEY: protocol}
        return await self.app(scope, receive, send)


class Frame:
    """A text message encoded and framed once, for any number of sockets."""

    __slots__ = ("payload", "_prepared")

    def __init__(self, text: str) -> None:
        self.payload = text.encode()
        self._prepared: dict[int, Any] = {}  # one prepared message per Autobahn factory

    def send(self, protocol: Any) -> bool:
        """Write the message to one open socket, after whatever it was sent before; False if the
        socket is not open, for the caller to send it the usual way (which drops it)."""
        if protocol.state != protocol.STATE_OPEN:
            return False
        factory = protocol.factory
        prepared = self._prepared.get(id(factory))
        if prepared is None:
            prepared = self._prepared[id(factory)] = factory.prepareMessage(self.payload)
        if not write_now(protocol, prepared.payloadHybi):
            protocol.sendPreparedMessage(prepared)
        return True


def write_now(protocol: Any, frame: bytes) -> bool:
    """Write a frame straight to the socket when nothing waits to be written before it.

    Twisted's ``transport.write`` only buffers: it registers the socket with epoll and writes on
    the loop's next turn, ~90 µs of Python per socket (27 ms for 300, measured), while the
    ``send`` itself takes ~6 µs. When the socket's buffers (Twisted's and Autobahn's) are empty,
    sending now keeps the order of the bytes; what the kernel does not take at once is handed to
    ``transport.write`` and goes out after. Anything else — a compressed, TLS or closing
    connection, a transport that is not Twisted's TCP one — returns False for the usual path.
    """
    transport = protocol.transport
    try:
        if (
            protocol._perMessageCompress is not None
            or protocol.send_queue
            or getattr(transport, "TLS", False)
            or not transport.connected
            or transport.disconnecting
            or getattr(transport, "_writeDisconnected", False)
            or transport.dataBuffer
            or transport._tempDataBuffer
        ):
            return False
        sock = transport.socket
    except AttributeError:
        return False
    try:
        sent = sock.send(frame)
    except BlockingIOError:
        sent = 0
    except OSError:
        return False  # a broken connection: Twisted's own write finds out and closes it
    if sent < len(frame):
        transport.write(frame[sent:])
    return True
