"""Event (core/v1): what components report about objects; kept by the event correlator in
``ClusterState.events``, not as stored objects."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.objects import Event, iso_time

from . import Column, Kind, register


def _row(e: Event, now: float) -> list[str]:
    """printEvent."""
    return [printers.human_duration(now - e.last), e.type, e.reason, e.object, e.message]


def _items(state: Any) -> Any:
    return state.events.values()


def _manifest(e: Event, now: float, epoch: float | None) -> dict[str, Any]:
    """A core/v1 Event as the API serves it (the correlator's count and first/last seen)."""
    from kubelab.sim import kinds

    involved_kind = kinds.find(e.kind)
    involved: dict[str, Any] = {"kind": e.kind, "name": e.obj_name, "uid": e.obj_uid}
    if involved_kind is not None:
        involved["apiVersion"] = involved_kind.api_version
        if involved_kind.namespaced:
            involved["namespace"] = e.namespace
    if e.field_path:
        involved["fieldPath"] = e.field_path
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": e.name,
            "namespace": e.namespace,
            "resourceVersion": str(e.seq),
            "creationTimestamp": iso_time(e.first, epoch),
        },
        "involvedObject": involved,
        "reason": e.reason,
        "message": e.message,
        "source": {"component": e.source},
        "firstTimestamp": iso_time(e.first, epoch),
        "lastTimestamp": iso_time(e.last, epoch),
        "count": e.count,
        "type": e.type,
        "eventTime": None,
        "reportingComponent": e.source,
        "reportingInstance": "",
    }


KIND = register(
    Kind(
        kind="Event",
        version="v1",
        plural="events",
        short_names=("ev",),
        columns=(
            Column("Last Seen"),
            Column("Type"),
            Column("Reason"),
            Column("Object"),
            Column("Message"),
        ),
        row=_row,
        items=_items,
        sort_key=lambda e: (e.last, e.seq),
        applicable=False,
        manifest=_manifest,
        # pkg/registry/core/event/strategy.go ToSelectableFields
        fields={
            "involvedObject.kind": ("involvedObject.kind", ""),
            "involvedObject.namespace": ("involvedObject.namespace", ""),
            "involvedObject.name": ("involvedObject.name", ""),
            "involvedObject.uid": ("involvedObject.uid", ""),
            "involvedObject.apiVersion": ("involvedObject.apiVersion", ""),
            "involvedObject.fieldPath": ("involvedObject.fieldPath", ""),
            "reason": ("reason", ""),
            "reportingComponent": ("reportingComponent", ""),
            "source": ("source.component", ""),
            "type": ("type", ""),
        },
    )
)
