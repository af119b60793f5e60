"""WebSocket ``/ws/clusters/<slug>/``: a snapshot on connect, then one delta per change (DESIGN.md §5.3).

The consumer only translates: it joins the cluster's group before reading the snapshot, so
no delta can fall between the two; deltas already contained in the snapshot (seq ≤ the
snapshot's) are dropped. Every delta is forwarded as the text the service serialised once.
Clients may send ``{"type": "snapshot"}`` (after seeing a gap in seq), ``{"type": "ping"}``, or
an instructor's action ``{"type": "action", "action": "node", "node": "worker-2", "verb": "fail"}``
/ ``{"type": "action", "action": "clock", "verb": "pause"}``; anything else closes the socket
with code 4400, more than 64 KiB with 4413 (as HTTP's 413; Autobahn lets an application close
only with 1000 or 3000–4999, so RFC 6455's 1009 would end in a 1011). The socket's Actor comes from the session (like the
pages'): a visitor who may not see the cluster is closed with 4403, and an action from anyone but
the instructor is answered ``{"type": "refused", …}``, logged, and the socket closed with 4403.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from kubelab.broadcast import SCOPE_KEY as SOCKET
from kubelab.sim.apiserver import ApiError

from . import access, services
from .access import Actor, Forbidden
from .events import anonymised_group, cluster_group
from .models import Cluster

log = logging.getLogger(__name__)

MAX_CLIENT_MESSAGE = 64 * 1024
CLOSE_BAD_MESSAGE = 4400
CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_BIG = 4413
ALLOWED_KEYS = {"type", "seq", "action", "node", "verb"}


class ClusterConsumer(AsyncWebsocketConsumer):
    cluster_id: int
    actor: Actor
    group: str
    seq: int

    async def connect(self) -> None:
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
        self.seq = -1
        self.pending: (
            list[dict[str, Any]] | None
        ) = []  # deltas that arrive while a snapshot is read
        await self.channel_layer.group_add(self.group, self.channel_name)
        if hasattr(self.channel_layer, "attach"):  # the embedded layer hands deltas over directly
            self.channel_layer.attach(self.channel_name, self)
        await self.accept()
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
        except (ValueError, UnicodeDecodeError):
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        if not isinstance(message, dict) or set(message) - ALLOWED_KEYS:
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        kind = message.get("type")
        if kind == "snapshot":
            await self._send_snapshot()
        elif kind == "ping":
            await self.send(text_data=json.dumps({"type": "pong", "seq": self.seq}))
        elif kind == "action":
            await self._action(message)
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
        frame, socket = event.get("frame"), self.scope.get(SOCKET)
        if frame is not None and socket is not None and frame.send(socket):
            return  # the text framed once for every socket (kubelab.broadcast)
        await self.send(text_data=event["text"])

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

    async def _action(self, message: dict[str, Any]) -> None:
        """An instructor's node or clock action over the socket; anyone else is refused."""
        if not self.actor.can_operate:
            log.warning(
                "websocket %s: %s (%s) sent an instructor action %r; refused",
                self.channel_name,
                self.actor.user,
                self.actor.role,
                {k: message.get(k) for k in ("action", "node", "verb")},
            )
            await self.send(
                text_data=json.dumps(
                    {
                        "type": "refused",
                        "status": 403,
                        "message": "forbidden: only the instructor can do that",
                    }
                )
            )
            await self.close(code=CLOSE_FORBIDDEN)
            return
        what, verb, node = message.get("action"), message.get("verb"), message.get("node")
        if not isinstance(verb, str) or (node is not None and not isinstance(node, str)):
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        try:
            if what == "node" and node:
                lines = await database_sync_to_async(services.node_action)(
                    cluster_id=self.cluster_id, node=node, action=verb, actor=self.actor
                )
            elif what == "clock" and verb in ("pause", "resume"):
                await database_sync_to_async(services.clock_set)(
                    cluster_id=self.cluster_id, paused=verb == "pause", actor=self.actor
                )
                lines = ["paused" if verb == "pause" else "resumed"]
            elif what == "clock" and verb in ("step", "skip"):
                await database_sync_to_async(services.clock_advance)(
                    cluster_id=self.cluster_id, mode=verb, actor=self.actor
                )
                lines = [verb]
            else:
                await self.close(code=CLOSE_BAD_MESSAGE)
                return
        except (ApiError, services.ServiceError, Forbidden) as e:
            await self.send(text_data=json.dumps({"type": "result", "ok": False, "output": str(e)}))
            return
        await self.send(
            text_data=json.dumps({"type": "result", "ok": True, "output": "\n".join(lines)})
        )

    # ----- helpers -------------------------------------------------------------------------------------
    async def _send_snapshot(self) -> None:
        self.pending = []
        try:
            snap = await database_sync_to_async(services.cluster_snapshot)(
                self.cluster_id, actor=self.actor
            )
            self.seq = snap["seq"]
            await self.send(text_data=json.dumps(snap, separators=(",", ":")))
        finally:
            pending, self.pending = self.pending or [], None
        for event in pending:
            await self.cluster_delta(event)

    @database_sync_to_async
    def _resolve(self, slug: str) -> tuple[int, Actor] | None:
        cluster = Cluster.objects.filter(slug=slug).first()
        if cluster is None:
            return None
        return cluster.pk, access.resolve(
            cluster, self.scope.get("user"), self.scope.get("session")
        )
