"""HorizontalPodAutoscaler (autoscaling/v2): scales a Deployment on its pods' CPU."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.apiserver import defaults, validation
from kubelab.sim.objects import KObject

from . import Column, Kind, conditions_view, register


class HorizontalPodAutoscaler(KObject):
    @property
    def target(self) -> tuple[str, str]:
        ref = self.spec.get("scaleTargetRef") or {}
        return str(ref.get("kind", "")), str(ref.get("name", ""))


def _row(h: HorizontalPodAutoscaler, now: float) -> list[str]:
    """printHorizontalPodAutoscaler."""
    ref = h.spec.get("scaleTargetRef") or {}
    lo = h.spec.get("minReplicas")
    return [
        h.name,
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        printers.hpa_targets(h),
        "<unset>" if lo is None else str(lo),
        str(h.spec.get("maxReplicas", "")),
        str(int(h.status.get("currentReplicas", 0))),
        printers.age(h, now),
    ]


def _view(h: HorizontalPodAutoscaler, now: float) -> dict[str, Any]:
    ref = h.spec.get("scaleTargetRef") or {}
    return {
        "target": f"{ref.get('kind', '')}/{ref.get('name', '')}",
        "targets": printers.hpa_targets(h),
        "minReplicas": h.spec.get("minReplicas"),
        "maxReplicas": h.spec.get("maxReplicas"),
        "currentReplicas": int(h.status.get("currentReplicas", 0)),
        "desiredReplicas": int(h.status.get("desiredReplicas", 0)),
        "conditions": conditions_view(h.status),
    }


def _enqueue(state: Any, h: HorizontalPodAutoscaler) -> None:
    state.queues["hpa"][h.key] = None


def _validate(errs: validation.Errors, data: dict[str, Any], max_replicas: int) -> None:
    validation.validate_hpa(errs, data.get("spec") or {})


KIND = register(
    Kind(
        kind="HorizontalPodAutoscaler",
        group="autoscaling",
        version="v2",
        plural="horizontalpodautoscalers",
        short_names=("hpa",),
        categories=("all",),
        subresources=("status",),
        cls=HorizontalPodAutoscaler,
        store="hpas",
        model="workloads.HorizontalPodAutoscaler",
        columns=(
            Column("Name", format="name"),
            Column("Reference", description="reference to target resource"),
            Column("Targets", description="the current and target metrics"),
            Column("MinPods", type="integer", description="the minimum number of pods"),
            Column("MaxPods", type="integer", description="the maximum number of pods"),
            Column("Replicas", type="integer", description="the current number of replicas"),
            Column("Age"),
        ),
        row=_row,
        describe=printers.describe_hpa,
        view=_view,
        feeds=("hpa",),
        enqueue=_enqueue,
        default=defaults.default_hpa,
        validate=_validate,
    )
)
