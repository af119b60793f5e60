"""The node lifecycle controller: notices a silent kubelet and taints the node.

The kubelet renews its Lease every 10 s. The controller checks every 5 s
(``--node-monitor-period``); a node whose last heartbeat is older than the grace period
(50 s since v1.32) gets ``Ready=Unknown`` ("Kubelet stopped posting node status."), the
``node.kubernetes.io/unreachable`` NoSchedule and NoExecute taints, and each of its pods
``Ready=False`` with a ``NodeNotReady`` event. Cordoning adds the ``unschedulable`` taint.
"""

from __future__ import annotations

import math
from typing import Any

from kubelab.sim.kinds import Node
from kubelab.sim.state import ClusterState

SOURCE = "node-controller"
NODE_MONITOR_PERIOD = 5.0
NODE_MONITOR_GRACE_PERIOD = 50.0
LEASE_RENEW_INTERVAL = 10.0
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure")


def healthy_conditions(now: float) -> list[dict[str, Any]]:
    conds = [
        {
            "type": "MemoryPressure",
            "status": "False",
            "reason": "KubeletHasSufficientMemory",
            "message": "kubelet has sufficient memory available",
        },
        {
            "type": "DiskPressure",
            "status": "False",
            "reason": "KubeletHasNoDiskPressure",
            "message": "kubelet has no disk pressure",
        },
        {
            "type": "PIDPressure",
            "status": "False",
            "reason": "KubeletHasSufficientPID",
            "message": "kubelet has sufficient PID available",
        },
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
        },
    ]
    for c in conds:
        c["lastHeartbeatTime"] = now
        c["lastTransitionTime"] = now
    return conds


def last_heartbeat(node: Node) -> float:
    """The last Lease renewal before the kubelet stopped (renewals every 10 s from its start)."""
    stopped = float(node.sim.get("kubeletStopped", 0.0))
    phase = float(node.sim.get("heartbeatPhase", 0.0))
    return stopped - ((stopped - phase) % LEASE_RENEW_INTERVAL)


def detection_time(node: Node) -> float:
    """The first monitor pass after the grace period has run out."""
    deadline = last_heartbeat(node) + NODE_MONITOR_GRACE_PERIOD
    return (math.floor(deadline / NODE_MONITOR_PERIOD) + 1) * NODE_MONITOR_PERIOD


def _taint(node: Node, key: str, effect: str, now: float) -> bool:
    taints = node.spec.setdefault("taints", [])
    if any(t.get("key") == key and t.get("effect") == effect for t in taints):
        return False
    taints.append({"key": key, "effect": effect, "timeAdded": now})
    return True


def _untaint(node: Node, keys: tuple[str, ...]) -> bool:
    taints = node.spec.get("taints") or []
    kept = [t for t in taints if t.get("key") not in keys]
    if len(kept) == len(taints):
        return False
    if kept:
        node.spec["taints"] = kept
    else:
        node.spec.pop("taints", None)
    return True


def reconcile(state: ClusterState, node: Node) -> None:
    now = state.now
    changed = False
    # Cordon ↔ the unschedulable taint (TaintNodeByCondition).
    if node.unschedulable:
        changed |= _taint(node, UNSCHEDULABLE, "NoSchedule", now)
    else:
        changed |= _untaint(node, (UNSCHEDULABLE,))
    ready = node.ready_status
    if node.kubelet_running:
        state.clear_timer("node", node.name)
        if ready != "True":
            node.status["conditions"] = healthy_conditions(now)
            changed |= _untaint(node, (UNREACHABLE, NOT_READY))
            changed = True
            state.record(
                node, "Normal", "NodeReady", f"Node {node.name} status is now: NodeReady", "kubelet"
            )
            for pod in state.pods_on(node.name):
                state.enqueue("kubelet", pod.key)
    else:
        due = detection_time(node)
        if now + 1e-9 >= due:
            if ready != "Unknown":
                hb = last_heartbeat(node)
                for c in node.status.get("conditions") or []:
                    c["status"] = "Unknown"
                    c["reason"] = "NodeStatusUnknown"
                    c["message"] = "Kubelet stopped posting node status."
                    c["lastHeartbeatTime"] = hb
                    c["lastTransitionTime"] = now
                _untaint(node, (NOT_READY,))
                _taint(node, UNREACHABLE, "NoSchedule", now)
                _taint(node, UNREACHABLE, "NoExecute", now)
                changed = True
                state.record(
                    node,
                    "Normal",
                    "NodeNotReady",
                    f"Node {node.name} status is now: NodeNotReady",
                    SOURCE,
                )
                mark_pods_not_ready(state, node)
            state.clear_timer("node", node.name)
        else:
            state.set_timer("node", node.name, due, label="NotReady in", obj=f"node/{node.name}")
    if changed:
        state.touch(node)
        state.activity.add("controller-manager")


def mark_pods_not_ready(state: ClusterState, node: Node) -> None:
    """``MarkPodsNotReady``: the pod's Ready condition becomes False (its containers are untouched)."""
    now = state.now
    for pod in state.pods_on(node.name):
        if pod.terminal:
            continue
        for c in pod.status.get("conditions") or []:
            if c["type"] == "Ready" and c["status"] != "False":
                c["status"] = "False"
                c["lastTransitionTime"] = now
                c.pop("reason", None)
                state.touch(pod)
                state.record(pod, "Warning", "NodeNotReady", "Node is not ready", SOURCE)
                break


def run(state: ClusterState) -> None:
    for name in state.take("node"):
        node = state.nodes.get(name)
        if node is not None:
            reconcile(state, node)
