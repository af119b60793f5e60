"""Service (core/v1): a stable address in front of the ready pods its selector matches."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.apiserver import defaults, validation
from kubelab.sim.objects import KObject

from . import Column, Kind, register


class Service(KObject):
    @property
    def endpoints(self) -> list[str]:
        return self.sim.get("endpoints") or []


def _row(s: Service, now: float) -> list[str]:
    """printService."""
    sel = s.spec.get("selector") or {}
    return [
        s.name,
        s.spec.get("type", "ClusterIP"),
        s.spec.get("clusterIP") or "<none>",
        printers.service_external_ip(s),
        printers.service_ports(s),
        printers.age(s, now),
        ",".join(f"{k}={v}" for k, v in sorted(sel.items())) or "<none>",
    ]


def _view(s: Service, now: float) -> dict[str, Any]:
    v = {
        "type": s.spec.get("type", "ClusterIP"),
        "clusterIP": s.spec.get("clusterIP", ""),
        "ports": s.spec.get("ports") or [],
        "selector": s.spec.get("selector") or {},
        "endpoints": s.endpoints,
        "notReady": s.sim.get("notReady") or [],
    }
    if s.sim.get("load"):
        v["load"] = s.sim["load"]
    return v


def _enqueue(state: Any, s: Service) -> None:
    q = state.queues
    q["endpoints"][s.namespace] = None
    if s.spec.get("type") == "LoadBalancer" or (s.status.get("loadBalancer") or {}).get("ingress"):
        q["lb"][s.key] = None


def _validate(errs: validation.Errors, data: dict[str, Any], max_replicas: int) -> None:
    validation.validate_service(errs, data)


KIND = register(
    Kind(
        kind="Service",
        version="v1",
        plural="services",
        short_names=("svc",),
        categories=("all",),
        subresources=("proxy", "status"),
        cls=Service,
        store="services",
        model="workloads.Service",
        columns=(
            Column("NAME", format="name"),
            Column("TYPE", description="The type of the service."),
            Column("CLUSTER-IP", description="The IP address of the service."),
            Column("EXTERNAL-IP", description="The external IP of the service."),
            Column("PORT(S)", description="The ports the service listens on."),
            Column("AGE"),
            Column("SELECTOR", priority=1, description="The label selector of the service."),
        ),
        row=_row,
        describe=printers.describe_service,
        view=_view,
        feeds=("endpoints", "lb"),
        enqueue=_enqueue,
        default=defaults.default_service,
        validate=_validate,
        name_rule="dns1035",
    )
)
