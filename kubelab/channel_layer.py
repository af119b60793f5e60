"""The in-memory channel layer of the embedded default, made cheap for a full classroom.

Two costs of ``channels.layers.InMemoryChannelLayer`` grow with the number of browsers:

* ``receive`` walks every channel and every group member looking for expired messages on *each*
  receive — O(browsers) per browser per delta, quadratic overall. Expiry is measured in tens of
  seconds (messages 60 s, memberships a day), so here the sweep runs at most once a second.
* ``group_send`` deep-copies the message into one queue per member, and each consumer's task is
  woken to take it out again. For deltas — the same immutable text for every browser — consumers
  that ``attach`` themselves get it handed over directly, in one pass, in commit order, with the
  text framed once for all their sockets (``kubelab.broadcast``).

Measured with tests/perf/bench_classroom.py (300 student sockets); the profile showed the two as
the largest costs on the event loop after Daphne's own socket writes.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from channels.layers import InMemoryChannelLayer as _Base

from .broadcast import Frame

log = logging.getLogger(__name__)

DIRECT_TYPES = frozenset({"cluster.delta"})


class InMemoryChannelLayer(_Base):
    sweep_interval = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_sweep = 0.0
        self._attached: dict[str, Any] = {}  # channel name -> consumer (same process, same loop)

    # ----- direct delivery ------------------------------------------------------------------------
    def attach(self, channel: str, consumer: Any) -> None:
        """Deliver DIRECT_TYPES messages for ``channel`` by calling the consumer's handler."""
        self._attached[channel] = consumer

    def detach(self, channel: str) -> None:
        self._attached.pop(channel, None)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if message.get("type") not in DIRECT_TYPES:
            await super().group_send(group, message)
            return
        self.require_valid_group_name(group)
        handler = message["type"].replace(".", "_")
        # Attached consumers get the message with its texts framed once for all their sockets.
        direct = (
            {**message, "frames": [Frame(t) for t in message["texts"]]}
            if "texts" in message
            else message
        )
        for channel in list(self.groups.get(group, {})):
            consumer = self._attached.get(channel)
            if consumer is None:
                try:
                    await self.send(channel, message)
                except Exception:  # a full channel: its client resynchronises on the seq gap
                    log.warning("dropped %s for %s", message["type"], channel)
                continue
            try:
                await getattr(consumer, handler)(direct)
            except Exception:
                log.exception("delivering %s to %s failed", message["type"], channel)

    # ----- cheaper expiry ----------------------------------------------------------------------------
    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self.sweep_interval:
            return
        self._last_sweep = now
        super()._clean_expired()
