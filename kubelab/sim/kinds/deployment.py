"""Deployment (apps/v1): rolls ReplicaSets out by revision."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.apiserver import defaults

from . import Column, Kind, conditions_view, register
from .workload import (
    WIDE_COLUMNS,
    Workload,
    collect_dependents,
    template_images,
    validate_update,
    validate_workload,
    workload_wide,
)


class Deployment(Workload):
    pass


def _row(d: Deployment, now: float) -> list[str]:
    """printDeployment."""
    st = d.status
    return [
        d.name,
        f"{st.get('readyReplicas', 0)}/{d.replicas}",
        str(st.get("updatedReplicas", 0)),
        str(st.get("availableReplicas", 0)),
        printers.age(d, now),
        *workload_wide(d),
    ]


def _view(d: Deployment, now: float) -> dict[str, Any]:
    from kubelab.sim.controllers.deployment import max_surge, max_unavailable

    st = d.status
    strategy = d.spec.get("strategy") or {}
    return {
        "replicas": d.replicas,
        "ready": st.get("readyReplicas", 0),
        "updated": st.get("updatedReplicas", 0),
        "available": st.get("availableReplicas", 0),
        "total": st.get("replicas", 0),
        "revision": d.revision,
        "conditions": conditions_view(st),
        "strategy": strategy.get("type", "RollingUpdate"),
        "maxSurge": max_surge(d),
        "maxUnavailable": max_unavailable(d),
        "paused": bool(d.spec.get("paused")),
        "selector": (d.spec.get("selector") or {}).get("matchLabels") or {},
        "images": template_images(d),
    }


def _enqueue(state: Any, d: Deployment) -> None:
    state.queues["deployment"][d.key] = None


KIND = register(
    Kind(
        kind="Deployment",
        group="apps",
        version="v1",
        plural="deployments",
        short_names=("deploy",),
        categories=("all",),
        subresources=("scale", "status"),
        cls=Deployment,
        store="deployments",
        model="workloads.Deployment",
        columns=(
            Column("Name", format="name"),
            Column("Ready", description="Number of the pod with ready state"),
            Column(
                "Up-to-date",
                type="integer",
                description="Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            Column(
                "Available",
                type="integer",
                description="Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            Column("Age"),
            *WIDE_COLUMNS,
        ),
        row=_row,
        describe=printers.describe_deployment,
        view=_view,
        feeds=("deployment", "gc"),
        enqueue=_enqueue,
        on_remove=collect_dependents,
        default=defaults.default_deployment,
        validate=validate_workload,
        validate_update=validate_update,
    )
)
