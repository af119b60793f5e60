"""Garbage collection: dependents of a deleted owner (background propagation), and the pod GC
that force-deletes pods bound to a Node that no longer exists."""

from __future__ import annotations

from kubelab.sim.state import ClusterState

SOURCE = "pod-garbage-collector"


def run(state: ClusterState) -> None:
    for owner_uid in state.take("gc"):
        for rs in state.replicasets_of(owner_uid):
            state.remove(rs)
        for pod in state.pods_of(owner_uid):
            state.delete_pod(pod)
    for node_name in state.take("podgc"):
        if node_name in state.nodes:
            continue
        for pod in state.pods_on(node_name):
            state.remove(pod)
        state.pods_by_node.pop(node_name, None)
