"""Node (core/v1, cluster-scoped): a machine with its kubelet; registered by the instructor's
node actions, never applied."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.objects import KObject
from kubelab.sim.quantity import int_value, milli_value

from . import Column, Kind, register


class Node(KObject):
    def after_load(self) -> None:
        alloc = self.status.get("allocatable") or {}
        self.alloc_cpu = milli_value(alloc.get("cpu", "0"))
        self.alloc_mem = int_value(alloc.get("memory", "0"))
        self.alloc_pods = int_value(alloc.get("pods", "110"))
        # Sums over the pods bound here (kept by ClusterState).
        self.req_cpu = 0
        self.req_mem = 0
        self.nz_cpu = 0  # non-zero requests, for scoring
        self.nz_mem = 0
        self.pod_count = 0
        self.used_ports: set[tuple[str, int, str]] = set()

    @property
    def unschedulable(self) -> bool:
        return bool(self.spec.get("unschedulable"))

    @property
    def taints(self) -> list[dict[str, Any]]:
        return self.spec.get("taints") or []

    @property
    def ready_status(self) -> str | None:
        c = self.condition("Ready")
        return c["status"] if c else None

    @property
    def kubelet_running(self) -> bool:
        return not self.sim.get("kubeletStopped")

    @property
    def internal_ip(self) -> str:
        for a in self.status.get("addresses") or []:
            if a["type"] == "InternalIP":
                return a["address"]
        return ""


def _row(n: Node, now: float) -> list[str]:
    """printNode."""
    info = n.status.get("nodeInfo") or {}
    return [
        n.name,
        printers.node_status(n),
        printers.node_roles(n),
        printers.age(n, now),
        info.get("kubeletVersion", ""),
        n.internal_ip or "<none>",
        "<none>",
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _view(n: Node, now: float) -> dict[str, Any]:
    return {
        "status": printers.node_status(n),
        "roles": printers.node_roles(n),
        "taints": n.taints,
        "unschedulable": n.unschedulable,
        "cpu": n.alloc_cpu,
        "memory": n.alloc_mem,
        "pods": n.alloc_pods,
        "ip": n.internal_ip,
        "cidr": n.spec.get("podCIDR", ""),
        "kubelet": n.kubelet_running,
        "kubeletStopped": n.sim.get("kubeletStopped"),
        "version": (n.status.get("nodeInfo") or {}).get("kubeletVersion", ""),
    }


def _enqueue(state: Any, n: Node) -> None:
    q = state.queues
    q["node"][n.name] = None
    q["taint"][n.name] = None
    q["podgc"][n.name] = None
    state.sched_gen += 1


def _index(state: Any, n: Node) -> None:
    """A node's sums over the pods bound to it (the scheduler's NodeInfo)."""
    state.pods_by_node.setdefault(n.name, {})
    for pod in state.pods_by_node[n.name].values():
        state.account(n, pod, +1)


KIND = register(
    Kind(
        kind="Node",
        version="v1",
        plural="nodes",
        short_names=("no",),
        namespaced=False,
        subresources=("proxy", "status"),
        cls=Node,
        store="nodes",
        model="clusters.Node",
        columns=(
            Column("Name", format="name"),
            Column("Status"),
            Column("Roles"),
            Column("Age"),
            Column("Version"),
            Column("Internal-IP", priority=1),
            Column("External-IP", priority=1),
            Column("OS-Image", priority=1),
            Column("Kernel-Version", priority=1),
            Column("Container-Runtime", priority=1),
        ),
        row=_row,
        sort_key=lambda o: o.name,
        describe=printers.describe_node,
        view=_view,
        feeds=("node", "taint", "podgc", "scheduler"),
        enqueue=_enqueue,
        index=_index,
        applicable=False,
        # pkg/registry/core/node/strategy.go NodeToSelectableFields
        fields={"spec.unschedulable": ("spec.unschedulable", "false")},
    )
)
