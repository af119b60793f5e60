"""Helpers for tests that use the real database and the real channel layer."""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from clusters import wire
from clusters.events import cluster_group


class GroupListener:
    """Joins a cluster's browser group on the real channel layer and collects what is sent to it."""

    def __init__(self, cluster_id: int) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(cluster_group(cluster_id), self.channel)
        self.messages: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        async def pull() -> list[dict[str, Any]]:
            import asyncio

            out = []
            while True:
                try:
                    out.append(
                        await asyncio.wait_for(self.layer.receive(self.channel), timeout=0.05)
                    )
                except TimeoutError:
                    return out

        got = async_to_sync(pull)()
        self.messages.extend(got)
        return got

    def deltas(self) -> list[dict[str, Any]]:
        self.drain()
        return [
            wire.join([json.loads(t) for t in m["texts"]])
            for m in self.messages
            if m["type"] == "cluster.delta"
        ]
