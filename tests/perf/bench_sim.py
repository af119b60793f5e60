"""Engine benchmarks (run on demand: `.venv/bin/python tests/perf/bench_sim.py`). Prints figures; asserts nothing.

- one tick with 100 nodes / 1,000 pods and 500 nodes / 10,000 pods (steady state, and with 10% of pods changing)
- scheduling 1,000 pending pods onto 100 nodes (pods/s)
- bad-input refusal times
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kubelab.sim import actions, scheduler  # noqa: E402
from kubelab.sim.apiserver import ApiError  # noqa: E402
from kubelab.sim.apiserver.apply import apply_text  # noqa: E402
from kubelab.sim.apiserver.manifests import load_documents  # noqa: E402
from kubelab.sim.control_loop import advance  # noqa: E402
from kubelab.sim.scenario import Scenario, build_cluster  # noqa: E402
from kubelab.sim.state import ClusterState  # noqa: E402


def deployment(name: str, replicas: int) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: "nginx:1.27", resources: {{requests: {{cpu: 10m, memory: 16Mi}}}}}}]
"""


def big_cluster(nodes: int, pods: int) -> ClusterState:
    sc = Scenario(
        nodes=[
            {"name": f"node-{i:03d}", "cpu": "64", "memory": "256Gi", "pods": 250}
            for i in range(nodes)
        ]
    )
    st = build_cluster(sc)
    per = 1000
    for i in range(pods // per):
        apply_text(st, deployment(f"app{i}", per), max_replicas=per)
    advance(st, 60)
    st.reset_changes()
    return st


def tick(st: ClusterState, target: float) -> int:
    """The engine's part of a tick (what ``locked_state`` runs): advance, then forget the changes.

    Returns how many objects changed (the upserts of the delta the service layer then builds)."""
    advance(st, target)
    changed = len(st.changed)
    st.reset_changes()
    return changed


def bench_ticks(nodes: int, pods: int) -> None:
    t0 = time.perf_counter()
    st = big_cluster(nodes, pods)
    build = time.perf_counter() - t0
    assert sum(1 for p in st.pods.values() if p.ready) == pods
    # Steady state: nothing due, a tick should be nearly free.
    times = []
    for i in range(20):
        t = time.perf_counter()
        tick(st, 60 + (i + 1) * 0.25)
        times.append((time.perf_counter() - t) * 1000)
    steady = statistics.median(times)
    # 10% of pods deleted (and replaced) per measured tick.
    churn = []
    pods_list = list(st.pods.values())
    for r in range(5):
        victims = pods_list[r * pods // 10 // 5 : (r + 1) * pods // 10 // 5]
        for p in victims:
            st.delete_pod(p, grace=0)
        t = time.perf_counter()
        changed = tick(st, st.now + 0.25)
        churn.append(((time.perf_counter() - t) * 1000, changed))
    med = statistics.median(c[0] for c in churn)
    print(
        f"tick {nodes} nodes / {pods} pods: build {build:.1f}s; steady tick {steady:.2f} ms; "
        f"tick with ~{pods // 50} pods deleted+replaced: {med:.1f} ms (delta {churn[0][1]} upserts)"
    )


def bench_scheduling(nodes: int = 100, pods: int = 1000) -> None:
    sc = Scenario(
        nodes=[
            {"name": f"node-{i:03d}", "cpu": "32", "memory": "128Gi", "pods": 110}
            for i in range(nodes)
        ]
    )
    st = build_cluster(sc)
    apply_text(st, deployment("web", pods), max_replicas=pods)
    # The ReplicaSet controller creates the pods; time the scheduler alone.
    from kubelab.sim.controllers import deployment as dc
    from kubelab.sim.controllers import replicaset as rc

    dc.run(st)
    while st.queues["replicaset"]:
        rc.run(st)  # burstReplicas: 500 creations per sync
    pending = [p for p in st.pods.values() if not p.node_name]
    assert len(pending) == pods
    t = time.perf_counter()
    scheduler.run(st)
    took = time.perf_counter() - t
    bound = sum(1 for p in st.pods.values() if p.node_name)
    print(
        f"scheduling {bound} pending pods onto {nodes} nodes: {took * 1000:.0f} ms = {bound / took:,.0f} pods/s"
    )


def bench_bad_input() -> None:
    cases = {
        "alias bomb": 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
        + "".join(
            f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "10,000-level nesting": "[" * 10_000 + "]" * 10_000,
        "5 MB document": "a: " + "x" * (5 * 1024 * 1024),
        "binary junk": bytes(range(256)) * 100,
        "replicas 10^9": deployment("web", 10**9),
    }
    st = build_cluster(Scenario())
    for name, text in cases.items():
        t = time.perf_counter()
        try:
            if name.startswith("replicas"):
                apply_text(st, text)
            else:
                load_documents(text)
            result = "accepted?!"
        except ApiError as e:
            result = e.message.splitlines()[0][:70]
        print(f"  {name:<22} refused in {(time.perf_counter() - t) * 1000:6.2f} ms: {result}")


def bench_traffic() -> None:
    """A traffic sample with 10 Services at 1,000 req/s each (aggregate per second, never per request)."""
    from kubelab.sim import traffic
    from kubelab.sim.apiserver.apply import apply_text
    from kubelab.sim.control_loop import advance
    from kubelab.sim.scenario import Scenario, build_cluster

    sc = Scenario()
    sc.nodes = [
        {"name": f"worker-{i}", "cpu": "16", "memory": "64Gi", "pods": 110} for i in range(10)
    ]
    st = build_cluster(sc)
    for i in range(10):
        apply_text(
            st,
            f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: app{i}}}
spec:
  replicas: 10
  selector: {{matchLabels: {{app: app{i}}}}}
  template:
    metadata: {{labels: {{app: app{i}}}}}
    spec:
      containers: [{{name: c, image: "nginx:1.27", resources: {{requests: {{cpu: 100m}}}}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: app{i}}}
spec:
  selector: {{app: app{i}}}
  ports: [{{port: 80}}]
""",
        )
    advance(st, 60)
    for i in range(10):
        traffic.set_load(st, "default", f"app{i}", 1000)
    advance(st, st.now + 5)
    samples = []
    for _ in range(200):
        st.enqueue("traffic", "tick")
        st.clock.time += 1.0
        t = time.perf_counter()
        traffic.run(st)
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    ok = sum(s["rps"] for s in st.traffic.values())
    print(
        f"traffic sample, 10 Services × 1,000 req/s over 100 pods: p50 {samples[100]:.2f} ms, "
        f"p95 {samples[190]:.2f} ms (served {ok:.0f} req/s)"
    )


if __name__ == "__main__":
    actions.MAX_NODES = 1000
    bench_scheduling()
    bench_ticks(100, 1000)
    bench_ticks(500, 10000)
    print("bad input:")
    bench_bad_input()
    bench_traffic()
