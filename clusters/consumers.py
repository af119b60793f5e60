"""WebSocket ``/ws/clusters/<slug>/``: a snapshot on connect, then one delta per change (README, "Live updates (WebSocket protocol)").

The consumer only translates: it joins the cluster's group before reading the snapshot, so
no delta can fall between the two; deltas already contained in the snapshot (seq ≤ the
snapshot's) are dropped. Every delta is forwarded as the text the service serialised once.
A client may send only what the page sends, ``{"type": "snapshot"}`` (after seeing a gap in seq);
anything else closes the socket with code 4400 (a message of an unknown type, such as
``{"type": "ping"}`` or ``{"type": "action"}``, is logged), more than 64 KiB with 4413 (as
HTTP's 413; Autobahn lets an application close only with 1000 or 3000–4999, so RFC 6455's 1009
would end in a 1011). The socket changes nothing: the instructor's node and clock controls are
HTTP requests (``clusters.views``). The socket's Actor comes from the session (like the pages'):
a visitor who may not see the cluster is closed with 4403.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import close_old_connections

from kubelab.broadcast import SCOPE_KEY as SOCKET

from . import access, services
from .access import Actor
from .events import anonymised_group, cluster_group
from .models import Cluster

log = logging.getLogger(__name__)

MAX_CLIENT_MESSAGE = 64 * 1024
CLOSE_BAD_MESSAGE = 4400
CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_BIG = 4413
ALLOWED_KEYS = {"type", "seq"}


class ClusterConsumer(AsyncWebsocketConsumer):
    cluster_id: int
    actor: Actor
    group: str
    seq: int

    async def connect(self) -> None:
        # Accept first, then look the cluster and the user up: the handshake does not wait for the
        # database (Daphne drops a handshake the application has not answered within 5 s, and a
        # tick of a large cluster can hold the database thread that long), and a refusal is a
        # close code the page sees (4403, 4404) rather than a failed handshake it retries forever.
        self.seq = -1
        self.sending = asyncio.Lock()
        self.pending: (
            list[dict[str, Any]] | None
        ) = []  # deltas that arrive while a snapshot is read
        await self.accept()
        slug = self.scope["url_route"]["kwargs"]["slug"]
        found = await self._resolve(slug)
        if found is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.cluster_id, self.actor = found
        if not self.actor.can_view:
            log.warning("websocket for %s refused: not a member", slug)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = (
            anonymised_group(self.cluster_id)
            if self.actor.anonymise
            else cluster_group(self.cluster_id)
        )
        await self.channel_layer.group_add(self.group, self.channel_name)
        if hasattr(self.channel_layer, "attach"):  # the embedded layer hands deltas over directly
            self.channel_layer.attach(self.channel_name, self)
        await self._send_snapshot()

    async def disconnect(self, code: int) -> None:
        if hasattr(self.channel_layer, "detach"):
            self.channel_layer.detach(self.channel_name)
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raw = text_data if text_data is not None else bytes_data
        if raw is None or len(raw) > MAX_CLIENT_MESSAGE:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            message = json.loads(raw)
        except (
            ValueError,
            UnicodeDecodeError,
            RecursionError,
        ):  # RecursionError: [[[[… 30,000 deep
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        if not isinstance(message, dict) or set(message) - ALLOWED_KEYS:
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        kind = message.get("type")
        if kind == "snapshot":
            await self._send_snapshot()
        else:
            log.warning("websocket %s sent an unknown message type %r", self.channel_name, kind)
            await self.close(code=CLOSE_BAD_MESSAGE)

    # ----- group messages --------------------------------------------------------------------------
    async def dispatch(self, message: dict[str, Any]) -> None:
        # channels closes stale DB connections (a hop to a thread) before every handler; forwarding a
        # delta never touches the database, and with 300 sockets those hops were most of a delta's cost.
        if message.get("type") == "cluster.delta":
            await self.cluster_delta(message)
            return
        await super().dispatch(message)

    async def cluster_delta(self, event: dict[str, Any]) -> None:
        if self.pending is not None:
            self.pending.append(event)  # sent after the snapshot, in order
            return
        if event["seq"] <= self.seq:
            return  # already in the snapshot this socket was sent
        self.seq = event["seq"]
        frames, socket = event.get("frames"), self.scope.get(SOCKET)
        if frames and socket is not None and frames[0].send(socket):
            for frame in frames[1:]:  # the texts framed once for every socket (kubelab.broadcast)
                frame.send(socket)
            return
        async with self.sending:  # a delta's parts go out together, whoever delivers the next one
            for text in event["texts"]:
                await self.send(text_data=text)

    async def cluster_resync(self, event: dict[str, Any]) -> None:
        # Roles may have changed (a removed student, an anonymised classroom): look again.
        found = await self._resolve(self.scope["url_route"]["kwargs"]["slug"])
        if found is None or not found[1].can_view:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if found[1].anonymise != self.actor.anonymise:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = (
                anonymised_group(self.cluster_id)
                if found[1].anonymise
                else cluster_group(self.cluster_id)
            )
            await self.channel_layer.group_add(self.group, self.channel_name)
        self.actor = found[1]
        await self._send_snapshot()

    async def cluster_announce(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"type": "announce", "text": event["text"]}))

    async def cluster_gone(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_NOT_FOUND)

    # ----- helpers -------------------------------------------------------------------------------------
    async def _send_snapshot(self) -> None:
        self.pending = []
        try:
            self.seq, texts = await self._snapshot_texts()
            for text in texts:  # one message, or its parts (wire.texts)
                await self.send(text_data=text)
        finally:
            pending, self.pending = self.pending or [], None
        for event in pending:
            await self.cluster_delta(event)

    async def _snapshot_texts(self) -> tuple[int, list[str]]:
        """The snapshot, serialised off the event loop (megabytes for a full school), on a thread of
        the pool rather than Channels' one database thread: it waits for the cluster's lock,
        which a tick of a large cluster holds for seconds, and sessions are looked up on that
        thread for every page request and socket handshake of the process."""
        return await sync_to_async(self._read_snapshot, thread_sensitive=False)()

    def _read_snapshot(self) -> tuple[int, list[str]]:
        close_old_connections()
        try:
            return services.snapshot_texts(self.cluster_id, actor=self.actor)
        finally:
            close_old_connections()

    @database_sync_to_async
    def _resolve(self, slug: str) -> tuple[int, Actor] | None:
        cluster = Cluster.objects.filter(slug=slug).first()
        if cluster is None:
            return None
        return cluster.pk, access.resolve(
            cluster, self.scope.get("user"), self.scope.get("session")
        )
