"""Event (core/v1): what components report about objects; kept by the event correlator in
``ClusterState.events``, not as stored objects."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.objects import Event

from . import Column, Kind, register


def _row(e: Event, now: float) -> list[str]:
    """printEvent."""
    return [printers.human_duration(now - e.last), e.type, e.reason, e.object, e.message]


def _items(state: Any) -> Any:
    return state.events.values()


KIND = register(
    Kind(
        kind="Event",
        version="v1",
        plural="events",
        short_names=("ev",),
        columns=(
            Column("LAST SEEN"),
            Column("TYPE"),
            Column("REASON"),
            Column("OBJECT"),
            Column("MESSAGE"),
        ),
        row=_row,
        items=_items,
        sort_key=lambda e: (e.last, e.seq),
        applicable=False,
    )
)
