"""Small builders for engine tests: no database, no Django."""

from __future__ import annotations

from typing import Any

from kubelab.sim import actions
from kubelab.sim.apiserver.apply import apply_text
from kubelab.sim.control_loop import advance, settle
from kubelab.sim.scenario import Scenario, build_cluster
from kubelab.sim.state import ClusterState


def cluster(nodes: list[dict[str, Any]] | None = None, seed: int = 0) -> ClusterState:
    sc = Scenario(seed=seed)
    if nodes is not None:
        sc.nodes = nodes
    return build_cluster(sc)


def workers(n: int, cpu: str = "4", memory: str = "8Gi", pods: int = 110) -> list[dict[str, Any]]:
    return [
        {"name": f"worker-{i + 1}", "cpu": cpu, "memory": memory, "pods": pods} for i in range(n)
    ]


def deployment_yaml(
    name: str = "web",
    replicas: int = 3,
    image: str = "nginx:1.27",
    cpu: str | None = "100m",
    memory: str | None = None,
    strategy: str = "",
    extra_spec: str = "",
    container_extra: str = "",
    labels: str = "",
    pod_extra: str = "",
) -> str:
    req = ""
    if cpu or memory:
        req = "\n          resources:\n            requests:"
        if cpu:
            req += f"\n              cpu: {cpu}"
        if memory:
            req += f"\n              memory: {memory}"
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}{strategy}{extra_spec}
  template:
    metadata:
      labels:
        app: {name}{labels}
    spec:{pod_extra}
      containers:
        - name: main
          image: {image}{req}{container_extra}
"""


def apply(state: ClusterState, text: str, namespace: str = "default") -> list[str]:
    lines = apply_text(state, text, namespace=namespace)
    settle(state)
    return lines


def run_until(state: ClusterState, t: float) -> None:
    advance(state, t)


def scaling_events(state: ClusterState) -> list[str]:
    """The deployment controller's ScalingReplicaSet messages, in order."""
    return [
        e.message
        for e in sorted(state.events.values(), key=lambda e: e.seq)
        if e.reason == "ScalingReplicaSet"
    ]


def pods_of(state: ClusterState, prefix: str) -> list[Any]:
    return [p for p in state.pods.values() if p.name.startswith(prefix)]


__all__ = [
    "actions",
    "apply",
    "cluster",
    "deployment_yaml",
    "run_until",
    "scaling_events",
    "workers",
]
