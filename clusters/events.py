"""The one place pushes to browsers and nudges to the reconciler are sent from: after commit.

Only services call these (never signals): ``publish_on_commit`` registers the send with
``transaction.on_commit`` so a browser never sees a change that was rolled back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def cluster_group(cluster_id: int) -> str:
    return f"cluster.{cluster_id}"


def reconciler_group(cluster_id: int) -> str:
    return f"reconciler.{cluster_id}"


_loop: asyncio.AbstractEventLoop | None = None


def use_event_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Processes that own their event loop (`up`, `reconcile`) register it: sends from worker threads
    are then handed to it without waiting, so a send can never wait on a loop that has stopped."""
    global _loop
    _loop = loop


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = _loop
        if loop is not None and loop.is_running() and not _on_loop(loop):
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
            if isinstance(layer, InMemoryChannelLayer):
                # In memory, group_send never suspends: sends scheduled in commit order run in
                # that order, so the DB thread need not wait (and hold the cluster's lock) for it.
                future.add_done_callback(_log_failure)
            else:
                future.result(timeout=5)  # over Redis, wait: the next delta must not overtake
        elif loop is not None and not loop.is_running():
            return  # shutting down: browsers resynchronise from a snapshot when they reconnect
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a lost push is repaired by the client's gap detection (seq)
        log.exception("group_send to %s failed", group)


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("group_send failed", exc_info=future.exception())


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def anonymised_group(cluster_id: int) -> str:
    """Students of a classroom whose instructor anonymised the other students."""
    return f"cluster.{cluster_id}.anon"


def publish_on_commit(
    cluster_id: int, seq: int, texts: list[str], anon_texts: list[str] | None = None
) -> None:
    """Send one serialised delta (the same texts for every browser: one, or its parts, see
    ``wire.texts``) after the transaction commits; an anonymised classroom's students get the
    second serialisation."""

    def send() -> None:
        _send(cluster_group(cluster_id), {"type": "cluster.delta", "seq": seq, "texts": texts})
        if anon_texts is not None:
            _send(
                anonymised_group(cluster_id),
                {"type": "cluster.delta", "seq": seq, "texts": anon_texts},
            )

    transaction.on_commit(send)


def watch_group(cluster_id: int) -> str:
    """The processes serving Kubernetes API watches of a cluster (``clusters.watch``)."""
    return f"watch.{cluster_id}"


def publish_watch_on_commit(cluster_id: int, rv: int, events: list[list[Any]]) -> None:
    """The changed objects of one commit as API watch events (``wire.watch_events``), after
    commit, for the processes that serve watches of the cluster."""
    transaction.on_commit(
        lambda: _send(watch_group(cluster_id), {"type": "watch.events", "rv": rv, "events": events})
    )


def broadcast_on_commit(cluster_id: int, message: dict[str, Any]) -> None:
    """A message for every browser of a cluster (a resync, an announcement, the cluster gone):
    both groups, the students of an anonymised classroom included."""

    def send() -> None:
        _send(cluster_group(cluster_id), message)
        _send(anonymised_group(cluster_id), message)

    transaction.on_commit(send)


def nudge_on_commit(cluster_id: int) -> None:
    """Ask the reconciler that owns the cluster to tick now."""
    transaction.on_commit(
        lambda: _send(
            reconciler_group(cluster_id), {"type": "cluster.nudge", "cluster": cluster_id}
        )
    )
