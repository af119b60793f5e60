"""Ingress (networking.k8s.io/v1): HTTP routes by host and path to Services, served by the
ingress controller of its class."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.apiserver import validation
from kubelab.sim.objects import KObject

from . import Column, Kind, register


class Ingress(KObject):
    pass


def _address(g: Ingress) -> str:
    return ",".join(
        i.get("ip") or i.get("hostname", "")
        for i in (g.status.get("loadBalancer") or {}).get("ingress") or []
    )


def _row(g: Ingress, now: float) -> list[str]:
    """printIngress."""
    hosts = [r.get("host") for r in g.spec.get("rules") or [] if r.get("host")]
    return [
        g.name,
        g.spec.get("ingressClassName") or "<none>",
        ",".join(hosts) or "*",
        _address(g),
        "80, 443" if g.spec.get("tls") else "80",
        printers.age(g, now),
    ]


def _view(g: Ingress, now: float) -> dict[str, Any]:
    from kubelab.sim.controllers import service_lb

    v = {
        "className": g.spec.get("ingressClassName") or "",
        "claimed": service_lb.claims(g),
        "address": ",".join(
            i.get("ip", "") for i in (g.status.get("loadBalancer") or {}).get("ingress") or []
        ),
        "routes": [
            {
                "host": r.get("host") or "*",
                "path": p.get("path") or "/",
                "service": ((p.get("backend") or {}).get("service") or {}).get("name", ""),
            }
            for r in g.spec.get("rules") or []
            for p in (r.get("http") or {}).get("paths") or []
        ],
    }
    if g.sim.get("load"):
        v["load"] = g.sim["load"]
    return v


def _enqueue(state: Any, g: Ingress) -> None:
    state.queues["lb"][("ingress", g.namespace, g.name)] = None


def _validate_create(manifest: dict[str, Any]) -> list[validation.FieldError]:
    """ValidateIngressCreate: the legacy class annotation and the class field, not both."""
    klass = (manifest.get("annotations") or {}).get("kubernetes.io/ingress.class")
    if klass is None or "ingressClassName" not in (manifest.get("spec") or {}):
        return []
    return [
        validation.FieldError(
            "annotations.kubernetes.io/ingress.class",
            "Invalid value",
            klass,
            "can not be set when the class field is also set",
        )
    ]


def _validate(errs: validation.Errors, data: dict[str, Any], max_replicas: int) -> None:
    validation.validate_ingress(errs, data.get("spec") or {})


KIND = register(
    Kind(
        kind="Ingress",
        group="networking.k8s.io",
        version="v1",
        plural="ingresses",
        short_names=("ing",),
        subresources=("status",),
        cls=Ingress,
        store="ingresses",
        model="workloads.Ingress",
        columns=(
            Column("Name", format="name"),
            Column("Class"),
            Column("Hosts", description="Hosts that incoming requests are matched against"),
            Column(
                "Address",
                description="Address is a list containing ingress points for the load-balancer",
            ),
            Column("Ports", description="Ports of TLS configurations that open"),
            Column("Age"),
        ),
        row=_row,
        describe=printers.describe_ingress,
        view=_view,
        feeds=("lb",),
        enqueue=_enqueue,
        validate=_validate,
        validate_create=_validate_create,
    )
)
