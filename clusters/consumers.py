"""WebSocket ``/ws/clusters/<slug>/``: a snapshot on connect, then one delta per change (DESIGN.md §5.3).

The consumer only translates: it joins the cluster's group before reading the snapshot, so
no delta can fall between the two; deltas already contained in the snapshot (seq ≤ the
snapshot's) are dropped. Every delta is forwarded as the text the service serialised once.
Clients may send ``{"type": "snapshot"}`` (after seeing a gap in seq) or ``{"type": "ping"}``;
anything else closes the socket with code 4400, more than 64 KiB with 1009.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import services
from .events import cluster_group
from .models import Cluster

log = logging.getLogger(__name__)

MAX_CLIENT_MESSAGE = 64 * 1024
CLOSE_BAD_MESSAGE = 4400
CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_BIG = 1009


class ClusterConsumer(AsyncWebsocketConsumer):
    cluster_id: int
    group: str
    seq: int

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        cluster_id = await self._cluster_id(slug)
        if cluster_id is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.cluster_id = cluster_id
        self.group = cluster_group(cluster_id)
        self.seq = -1
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._send_snapshot()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raw = text_data if text_data is not None else bytes_data
        if raw is None or len(raw) > MAX_CLIENT_MESSAGE:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            message = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        if not isinstance(message, dict) or set(message) - {"type", "seq"}:
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        kind = message.get("type")
        if kind == "snapshot":
            await self._send_snapshot()
        elif kind == "ping":
            await self.send(text_data=json.dumps({"type": "pong", "seq": self.seq}))
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
        if event["seq"] <= self.seq:
            return  # already in the snapshot this socket was sent
        self.seq = event["seq"]
        await self.send(text_data=event["text"])

    async def cluster_resync(self, event: dict[str, Any]) -> None:
        await self._send_snapshot()

    # ----- helpers -------------------------------------------------------------------------------------
    async def _send_snapshot(self) -> None:
        snap = await database_sync_to_async(services.cluster_snapshot)(self.cluster_id)
        self.seq = snap["seq"]
        await self.send(text_data=json.dumps(snap, separators=(",", ":")))

    @database_sync_to_async
    def _cluster_id(self, slug: str) -> int | None:
        return Cluster.objects.filter(slug=slug).values_list("id", flat=True).first()
