"""The taint eviction controller: deletes pods that do not tolerate a node's NoExecute taints.

A pod that tolerates the taint for ``tolerationSeconds`` (300 s from DefaultTolerationSeconds)
is marked for deletion when that time has passed since the controller first saw it
tainted; a taint removed in time cancels the deletion.
"""

from __future__ import annotations

from kubelab.sim.kinds import Pod
from kubelab.sim.scheduler import tolerates
from kubelab.sim.state import ClusterState

SOURCE = "taint-eviction-controller"


def eviction_delay(pod: Pod, taints: list[dict]) -> float | None:
    """0 if some taint is not tolerated; the smallest tolerationSeconds; None = tolerated forever."""
    tolerations = pod.spec.get("tolerations") or []
    smallest: float | None = None
    forever = True
    for taint in taints:
        t = tolerates(tolerations, taint)
        if t is None:
            return 0.0
        secs = t.get("tolerationSeconds")
        if secs is not None:
            forever = False
            secs = max(float(secs), 0.0)
            smallest = secs if smallest is None else min(smallest, secs)
    return None if forever else smallest


def run(state: ClusterState) -> None:
    for name in state.take("taint"):
        node = state.nodes.get(name)
        pods = state.pods_on(name)
        if node is None:
            continue
        noexec = [t for t in node.taints if t.get("effect") == "NoExecute"]
        for pod in pods:
            if pod.deleted is not None or pod.terminal:
                continue
            if not noexec:
                if "evictAt" in pod.sim:
                    del pod.sim["evictAt"]
                    state.clear_timer("taint", name, slot=f"/{pod.namespace}/{pod.name}")
                    state.record(
                        pod,
                        "Normal",
                        "TaintManagerEviction",
                        f"Cancelling deletion of Pod {pod.namespace}/{pod.name}",
                        SOURCE,
                    )
                    state.touch(pod)
                continue
            delay = eviction_delay(pod, noexec)
            if delay is None:
                continue
            first_seen = pod.sim.get("taintSeen")
            if first_seen is None or "evictAt" not in pod.sim:
                first_seen = state.now
                pod.sim["taintSeen"] = first_seen
            at = first_seen + delay
            if state.now + 1e-9 >= at:
                pod.sim.pop("evictAt", None)
                pod.sim.pop("taintSeen", None)
                state.clear_timer("taint", name, slot=f"/{pod.namespace}/{pod.name}")
                state.record(
                    pod,
                    "Normal",
                    "TaintManagerEviction",
                    f"Marking for deletion Pod {pod.namespace}/{pod.name}",
                    SOURCE,
                )
                state.delete_pod(pod)
                state.activity.add("controller-manager")
            else:
                if pod.sim.get("evictAt") != at:
                    pod.sim["evictAt"] = at
                    state.touch(pod)
                state.set_timer(
                    "taint",
                    name,
                    at,
                    label="evicted in",
                    obj=f"pod/{pod.namespace}/{pod.name}",
                    slot=f"/{pod.namespace}/{pod.name}",
                )
