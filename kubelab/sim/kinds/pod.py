"""Pod (core/v1): containers on a node; made by ReplicaSets or applied by hand."""

from __future__ import annotations

import copy
from typing import Any

from kubelab.sim import printers
from kubelab.sim.apiserver import defaults, validation
from kubelab.sim.apiserver.admission import admit_pod
from kubelab.sim.objects import DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, KObject
from kubelab.sim.quantity import int_value, milli_value

from . import Column, Kind, register


class Pod(KObject):
    def after_load(self) -> None:
        cpu = mem = 0
        nz_cpu = nz_mem = 0
        spec = self.spec
        for c in spec.get("containers") or []:
            req = (c.get("resources") or {}).get("requests") or {}
            c_cpu = milli_value(req["cpu"]) if "cpu" in req else 0
            c_mem = int_value(req["memory"]) if "memory" in req else 0
            cpu += c_cpu
            mem += c_mem
            nz_cpu += c_cpu if "cpu" in req else DEFAULT_MILLI_CPU_REQUEST
            nz_mem += c_mem if "memory" in req else DEFAULT_MEMORY_REQUEST
        for c in spec.get("initContainers") or []:
            req = (c.get("resources") or {}).get("requests") or {}
            if "cpu" in req:
                cpu = max(cpu, milli_value(req["cpu"]))
            if "memory" in req:
                mem = max(mem, int_value(req["memory"]))
        self.req_cpu = cpu
        self.req_mem = mem
        self.nz_cpu = nz_cpu
        self.nz_mem = nz_mem
        self.host_ports = [
            (p.get("hostIP") or "0.0.0.0", int(p["hostPort"]), p.get("protocol") or "TCP")
            for c in spec.get("containers") or []
            for p in c.get("ports") or []
            if p.get("hostPort")
        ]

    @property
    def node_name(self) -> str:
        return self.spec.get("nodeName") or ""

    @property
    def phase(self) -> str:
        return self.status.get("phase") or "Pending"

    @property
    def terminal(self) -> bool:
        return self.phase in ("Succeeded", "Failed")

    @property
    def active(self) -> bool:
        """``controller.IsPodActive``: not terminal and not being deleted."""
        return self.deleted is None and not self.terminal

    @property
    def ready(self) -> bool:
        c = self.condition("Ready")
        return bool(c and c["status"] == "True")

    def ready_since(self) -> float | None:
        c = self.condition("Ready")
        if c and c["status"] == "True":
            return c.get("lastTransitionTime")
        return None

    def available(self, min_ready_seconds: int, now: float) -> bool:
        since = self.ready_since()
        if since is None:
            return False
        return min_ready_seconds == 0 or since + min_ready_seconds <= now

    @property
    def restarts(self) -> int:
        return sum(cs.get("restartCount", 0) for cs in self.status.get("containerStatuses") or [])

    @property
    def ip(self) -> str:
        return self.status.get("podIP") or ""


def _row(p: Pod, now: float) -> list[str]:
    """printPod."""
    ready, status, restarts = printers.pod_columns(p, now)
    return [
        p.name,
        ready,
        status,
        restarts,
        printers.age(p, now),
        p.ip or "<none>",
        p.node_name or "<none>",
        "<none>",
        "<none>",
    ]


def _view(p: Pod, now: float) -> dict[str, Any]:
    ready, status, _restarts = printers.pod_columns(p, now)
    container_statuses = p.status.get("containerStatuses") or []
    last_restart = max(
        (
            ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt") or 0
            for cs in container_statuses
        ),
        default=0,
    )
    statuses = {cs["name"]: cs for cs in container_statuses}
    containers = []
    for c in p.spec.get("containers") or []:
        cs = statuses.get(c["name"], {})
        state = cs.get("state") or {}
        st = next(iter(state), "waiting")
        containers.append(
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "state": st,
                "reason": (state.get(st) or {}).get("reason", ""),
                "ready": bool(cs.get("ready")),
                "restarts": int(cs.get("restartCount", 0)),
            }
        )
    v: dict[str, Any] = {
        "node": p.node_name,
        "phase": p.phase,
        "ip": p.ip,
        "status": status,
        "ready": ready,
        "restarts": sum(int(cs.get("restartCount", 0)) for cs in container_statuses),
        "lastRestart": last_restart or None,
        "podReady": p.ready,
        "containers": containers,
        "cpu": p.req_cpu,
        "memory": p.req_mem,
        "evictAt": p.sim.get("evictAt"),
        "replaces": p.sim.get("replaces"),
    }
    cond = p.condition("PodScheduled")
    if cond and cond.get("status") == "False":
        v["pending"] = cond.get("message", "")
    return v


def _enqueue(state: Any, p: Pod) -> None:
    q = state.queues
    if p.owner is not None and p.owner.kind == "ReplicaSet":
        q["replicaset"][(p.namespace, p.owner.name)] = None
    if not p.node_name:
        q["scheduler"][p.key] = None
    else:
        q["kubelet"][p.key] = None
        q["taint"][p.node_name] = None
    q["endpoints"][p.namespace] = None


def _index(state: Any, p: Pod) -> None:
    if p.owner is not None:
        state.pods_by_owner.setdefault(p.owner.uid, {})[p.key] = p
    if p.node_name:
        state.pods_by_node.setdefault(p.node_name, {})[p.key] = p
        node = state.nodes.get(p.node_name)
        if node is not None:
            state.account(node, p, +1)


def _unindex(state: Any, p: Pod) -> None:
    if p.owner is not None:
        owned = state.pods_by_owner.get(p.owner.uid)
        if owned is not None:
            owned.pop(p.key, None)
            if not owned:
                del state.pods_by_owner[p.owner.uid]
    if p.node_name:
        on_node = state.pods_by_node.get(p.node_name)
        if on_node is not None and on_node.pop(p.key, None) is not None:
            node = state.nodes.get(p.node_name)
            if node is not None:
                state.account(node, p, -1)


def _on_remove(state: Any, p: Pod) -> None:
    """What goes with a pod: its decision record, its place in the queue, its timers."""
    state.decisions.pop(p.uid, None)
    state.unschedulable.pop(p.key, None)
    state.timers.pop(("kubelet", p.key), None)
    state.timers.pop(("scheduler", p.key), None)
    if p.node_name:
        state.timers.pop((f"taint/{p.namespace}/{p.name}", p.node_name), None)
    state.sched_gen += 1


def _prepare_create(state: Any, p: Pod) -> None:
    """Admission (DefaultTolerationSeconds …) and podStrategy.PrepareForCreate: Pending, QoS."""
    from kubelab.sim.controllers.replicaset import qos_class

    admit_pod(p.spec)
    p.after_load()
    p.status = {"phase": "Pending", "qosClass": qos_class(p.spec)}


POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
    "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
    "was previously negative)"
)


def _validate_update(existing: Pod, spec: dict[str, Any]) -> list[validation.FieldError]:
    """ValidatePodUpdate: only images, activeDeadlineSeconds and tolerations may change."""
    a, b = copy.deepcopy(existing.spec), copy.deepcopy(spec)
    for s in (a, b):
        for c in s.get("containers") or []:
            c.pop("image", None)
        for c in s.get("initContainers") or []:
            c.pop("image", None)
        s.pop("activeDeadlineSeconds", None)
        s.pop("tolerations", None)
        s.pop("nodeName", None)
        for k in ("priority", "enableServiceLinks", "preemptionPolicy"):
            s.pop(k, None)
    if a == b:
        return []
    return [validation.FieldError("spec", "Forbidden", detail=POD_UPDATE_FORBIDDEN)]


def _validate(errs: validation.Errors, data: dict[str, Any], max_replicas: int) -> None:
    validation.validate_pod_spec(errs, data.get("spec") or {}, "spec", for_template=False)


KIND = register(
    Kind(
        kind="Pod",
        version="v1",
        plural="pods",
        short_names=("po",),
        categories=("all",),
        subresources=("attach", "binding", "eviction", "exec", "log", "portforward", "status"),
        cls=Pod,
        store="pods",
        model="workloads.Pod",
        row_columns={"node_name": lambda p: p.node_name, "phase": lambda p: p.phase},
        columns=(
            Column("Name", format="name"),
            Column("Ready", description="The aggregate readiness state of this pod"),
            Column("Status", description="The aggregate status of the containers in this pod"),
            Column("Restarts", description="The number of times the containers restarted"),
            Column("Age"),
            Column("IP", priority=1),
            Column("Node", priority=1),
            Column("Nominated Node", priority=1),
            Column("Readiness Gates", priority=1),
        ),
        row=_row,
        describe=printers.describe_pod,
        view=_view,
        feeds=("replicaset", "scheduler", "kubelet", "taint", "endpoints"),
        enqueue=_enqueue,
        index=_index,
        unindex=_unindex,
        on_remove=_on_remove,
        default=defaults.default_pod_spec,
        validate=_validate,
        validate_update=_validate_update,
        prepare_create=_prepare_create,
        # pkg/registry/core/pod/strategy.go ToSelectableFields (and the field label conversions
        # in pkg/apis/core/v1/conversion.go).
        fields={
            "spec.nodeName": ("spec.nodeName", ""),
            "spec.restartPolicy": ("spec.restartPolicy", "Always"),
            "spec.schedulerName": ("spec.schedulerName", "default-scheduler"),
            "spec.serviceAccountName": ("spec.serviceAccountName", ""),
            "spec.hostNetwork": ("spec.hostNetwork", "false"),
            "status.phase": ("status.phase", "Pending"),
            "status.podIP": ("status.podIP", ""),
            "status.nominatedNodeName": ("status.nominatedNodeName", ""),
        },
    )
)
