"""What Deployments and ReplicaSets share: their pod template's images, the wide columns, the
validation of a workload, and the garbage collection of what they own."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.apiserver import validation
from kubelab.sim.objects import KObject

from . import Column


class Workload(KObject):
    """A Deployment or ReplicaSet: replicas of a pod template, by revision."""

    has_generation = True

    @property
    def replicas(self) -> int:
        return int(self.spec.get("replicas", 1))

    @property
    def revision(self) -> int:
        try:
            return int(self.annotations.get("deployment.kubernetes.io/revision", "0"))
        except ValueError:
            return 0


def template_images(obj: KObject) -> list[str]:
    """The images of a Deployment's or ReplicaSet's pod template."""
    tpl = (obj.spec.get("template") or {}).get("spec") or {}
    return [c.get("image") for c in tpl.get("containers") or []]


def workload_wide(obj: KObject) -> list[str]:
    """The wide columns Deployments and ReplicaSets share: CONTAINERS, IMAGES, SELECTOR."""
    names, images = printers.containers_images(obj.spec.get("template") or {})
    return [names, images, printers.selector_text(obj.spec.get("selector"))]


WIDE_COLUMNS = (
    Column("Containers", priority=1, description="Names of each container in the template."),
    Column(
        "Images", priority=1, description="Images referenced by each container in the template."
    ),
    Column("Selector", priority=1, description="Label selector for pods."),
)


def validate_workload(errs: validation.Errors, data: dict[str, Any], max_replicas: int) -> None:
    validation.validate_workload(errs, data, data.get("kind", ""), max_replicas)


def validate_update(existing: KObject, spec: dict[str, Any]) -> list[validation.FieldError]:
    """ValidateDeploymentUpdate / ValidateReplicaSetUpdate: apps/v1 selectors are immutable."""
    if spec.get("selector") == existing.spec.get("selector"):
        return []
    return [
        validation.FieldError(
            "spec.selector", "Invalid value", spec.get("selector"), "field is immutable"
        )
    ]


def collect_dependents(state: Any, owner: KObject) -> None:
    """The garbage collector looks for what the removed owner owned; its admitted template goes."""
    state.queues["gc"][owner.uid] = None
    state.template_cache.pop(owner.uid, None)
