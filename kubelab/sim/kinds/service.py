"""Service (core/v1): a stable address in front of the ready pods its selector matches."""

from __future__ import annotations

import ipaddress
from typing import Any

from kubelab.sim import printers
from kubelab.sim.apiserver import ApiError, defaults, validation
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


SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
RESERVED_IPS = {"10.96.0.1", "10.96.0.10"}  # the kubernetes Service and cluster DNS
NODE_PORTS = (30000, 32768)  # --service-node-port-range 30000-32767


def _invalid(name: str, path: str, value: Any, detail: str) -> ApiError:
    error = validation.FieldError(path, "Invalid value", value, detail)
    return ApiError(validation.invalid_error("Service", name, [error]), field=path, code=422)


def allocate_cluster_ip(state: Any) -> str:
    """The ClusterIP allocator: a random free address of the service CIDR."""
    used = {s.spec.get("clusterIP") for s in state.services.values()} | RESERVED_IPS
    size = SERVICE_CIDR.num_addresses
    for _ in range(1000):
        ip = str(SERVICE_CIDR.network_address + state.rng.randrange(2, size - 1))
        if ip not in used:
            return ip
    raise ApiError(
        "Error from server (InternalError): failed to allocate a serviceIP: range is full", code=500
    )


def _allocate(state: Any, namespace: str, name: str, spec: dict[str, Any], existing: Any) -> None:
    """A new Service's requested clusterIP must be free and in range; node ports of a NodePort
    or LoadBalancer Service are taken from the node-port range (or checked when requested)."""
    ip = spec.get("clusterIP")
    if existing is None and ip and ip != "None":
        try:
            ok = ipaddress.ip_address(ip) in SERVICE_CIDR
        except ValueError:
            ok = False
        taken = any(s.spec.get("clusterIP") == ip for s in state.services.values())
        if not ok or taken:
            why = (
                f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}"
                if not ok
                else "provided IP is already allocated"
            )
            raise _invalid(name, "spec.clusterIP", ip, f"failed to allocate IP {ip}: {why}")
    if spec.get("type") not in ("NodePort", "LoadBalancer"):
        return
    used = {
        int(p["nodePort"])
        for s in state.services.values()
        if s.key != (namespace, name)
        for p in s.spec.get("ports") or []
        if p.get("nodePort")
    }
    for i, p in enumerate(spec.get("ports") or []):
        if p.get("nodePort"):
            if int(p["nodePort"]) in used:
                path = f"spec.ports[{i}].nodePort"
                raise _invalid(name, path, p["nodePort"], "provided port is already allocated")
            used.add(int(p["nodePort"]))
            continue
        for _ in range(5000):
            port = state.rng.randrange(*NODE_PORTS)
            if port not in used:
                p["nodePort"] = port
                used.add(port)
                break


def _prepare_create(state: Any, s: Service) -> None:
    """The ClusterIP, single-stack IPv4, and an empty load-balancer status."""
    spec = s.spec
    if not spec.get("clusterIP") and spec.get("type") != "ExternalName":
        spec["clusterIP"] = allocate_cluster_ip(state)
    spec["clusterIPs"] = (
        [spec["clusterIP"]]
        if spec.get("clusterIP") and spec["clusterIP"] != "None"
        else spec.get("clusterIPs", [])
    )
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    s.status = {"loadBalancer": {}}


def _prepare_update(spec: dict[str, Any]) -> None:
    """A Service turned into ClusterIP gives its node ports back."""
    if spec.get("type", "ClusterIP") == "ClusterIP":
        for p in spec.get("ports") or []:
            p.pop("nodePort", None)


def _validate_update(existing: Service, spec: dict[str, Any]) -> list[validation.FieldError]:
    """ValidateServiceUpdate: clusterIP is immutable."""
    if spec.get("clusterIP") in (None, existing.spec.get("clusterIP")):
        return []
    return [
        validation.FieldError(
            "spec.clusterIP", "Invalid value", spec.get("clusterIP"), "field is immutable"
        )
    ]


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
            Column("Name", format="name"),
            Column("Type", description="The type of the service."),
            Column("Cluster-IP", description="The IP address of the service."),
            Column("External-IP", description="The external IP of the service."),
            Column("Port(s)", description="The ports the service listens on."),
            Column("Age"),
            Column("Selector", priority=1, description="The label selector of the service."),
        ),
        row=_row,
        describe=printers.describe_service,
        view=_view,
        feeds=("endpoints", "lb"),
        enqueue=_enqueue,
        default=defaults.default_service,
        validate=_validate,
        validate_update=_validate_update,
        prepare_update=_prepare_update,
        prepare_create=_prepare_create,
        allocate=_allocate,
        name_rule="dns1035",
    )
)
