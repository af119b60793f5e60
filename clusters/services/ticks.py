"""The reconcile tick: the worker's unit of work, and what it needs to know to schedule the next."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .session import _commit, locked_state


@dataclass
class TickInfo:
    next_timer: float | None  # simulated time of the next timer
    sim_anchor: float
    wall_anchor: dt.datetime
    speed: float
    paused: bool
    pending: bool  # work left in a queue (e.g. more than burstReplicas to create)
    wrote: bool
    rv: int = 0

    def next_due_wall(self) -> dt.datetime | None:
        if self.paused or self.next_timer is None:
            return None
        return self.wall_anchor + dt.timedelta(
            seconds=max(self.next_timer - self.sim_anchor, 0.0) / self.speed
        )


def cluster_tick(cluster_id: int) -> TickInfo:
    """Advance a cluster to the current simulated time (the worker's unit of work)."""
    with locked_state(cluster_id) as (cluster, state, now):
        wrote = bool(state.changed or state.removed or state.new_events)
        _commit(cluster, state, now)
        return TickInfo(
            state.next_timer_at(),
            state.now if wrote else cluster.sim_anchor,
            now if wrote else cluster.wall_anchor,
            cluster.speed,
            cluster.paused,
            state.pending_work(),
            wrote,
            cluster.rv,
        )
