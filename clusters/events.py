"""The one place pushes to browsers and nudges to the reconciler are sent from: after commit.

Only services call these (never signals): ``publish_on_commit`` registers the send with
``transaction.on_commit`` so a browser never sees a change that was rolled back.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def cluster_group(cluster_id: int) -> str:
    return f"cluster.{cluster_id}"


def reconciler_group(cluster_id: int) -> str:
    return f"reconciler.{cluster_id}"


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a lost push is repaired by the client's gap detection (seq)
        log.exception("group_send to %s failed", group)


def publish_on_commit(cluster_id: int, seq: int, text: str) -> None:
    """Send one serialised delta (the same text for every browser) after the transaction commits."""
    transaction.on_commit(
        lambda: _send(
            cluster_group(cluster_id), {"type": "cluster.delta", "seq": seq, "text": text}
        )
    )


def nudge_on_commit(cluster_id: int) -> None:
    """Ask the reconciler that owns the cluster to tick now."""
    transaction.on_commit(
        lambda: _send(
            reconciler_group(cluster_id), {"type": "cluster.nudge", "cluster": cluster_id}
        )
    )
