"""ReplicaSet (apps/v1): keeps N pods of a template; owned by a Deployment."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.apiserver import defaults

from . import Column, Kind, register
from .workload import (
    WIDE_COLUMNS,
    Workload,
    collect_dependents,
    template_images,
    validate_update,
    validate_workload,
    workload_wide,
)


class ReplicaSet(Workload):
    pass


def _row(rs: ReplicaSet, now: float) -> list[str]:
    """printReplicaSet."""
    return [
        rs.name,
        str(rs.replicas),
        str(rs.status.get("replicas", 0)),
        str(rs.status.get("readyReplicas", 0)),
        printers.age(rs, now),
        *workload_wide(rs),
    ]


def _view(rs: ReplicaSet, now: float) -> dict[str, Any]:
    st = rs.status
    return {
        "desired": rs.replicas,
        "current": st.get("replicas", 0),
        "readyCount": st.get("readyReplicas", 0),
        "available": st.get("availableReplicas", 0),
        "revision": rs.revision,
        "hash": rs.labels.get("pod-template-hash", ""),
        "images": template_images(rs),
    }


def _enqueue(state: Any, rs: ReplicaSet) -> None:
    q = state.queues
    q["replicaset"][rs.key] = None
    if rs.owner is not None:
        q["deployment"][(rs.namespace, rs.owner.name)] = None


def _index(state: Any, rs: ReplicaSet) -> None:
    if rs.owner is not None:
        state.rs_by_owner.setdefault(rs.owner.uid, {})[rs.key] = rs


def _unindex(state: Any, rs: ReplicaSet) -> None:
    if rs.owner is not None:
        owned = state.rs_by_owner.get(rs.owner.uid)
        if owned is not None:
            owned.pop(rs.key, None)


KIND = register(
    Kind(
        kind="ReplicaSet",
        group="apps",
        version="v1",
        plural="replicasets",
        short_names=("rs",),
        categories=("all",),
        subresources=("scale", "status"),
        cls=ReplicaSet,
        store="replicasets",
        model="workloads.ReplicaSet",
        columns=(
            Column("Name", format="name"),
            Column("Desired", type="integer", description="Number of desired pods."),
            Column("Current", type="integer", description="Number of actual replicas."),
            Column("Ready", type="integer", description="The number of ready replicas."),
            Column("Age"),
            *WIDE_COLUMNS,
        ),
        row=_row,
        describe=printers.describe_replicaset,
        view=_view,
        feeds=("replicaset", "deployment", "gc"),
        enqueue=_enqueue,
        index=_index,
        unindex=_unindex,
        on_remove=collect_dependents,
        default=defaults.default_replicaset,
        validate=validate_workload,
        validate_update=validate_update,
        # pkg/registry/apps/replicaset/strategy.go ReplicaSetToSelectableFields
        fields={"status.replicas": ("status.replicas", "0")},
    )
)
