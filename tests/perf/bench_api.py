"""The Kubernetes API's list cost in the engine (``rest.handle``, no HTTP, no database).

    .venv/bin/python tests/perf/bench_api.py [--pods 1000 10000]

Prints, per cluster size, the p50/p95 time of ``kubectl get pods -A``'s request (a Table list of
every pod, as kubectl asks for it) and of a plain JSON list. What HTTP and the service layer's
transaction add is not in these figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kubelab.sim.apiserver import rest  # noqa: E402
from tests.sim.helpers import apply, cluster, deployment_yaml, run_until, workers  # noqa: E402

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def build(pods: int):
    nodes = max(3, pods // 100)
    st = cluster(workers(nodes, cpu="64", memory="256Gi", pods=110))
    per = 500
    for i in range(0, pods, per):
        apply(st, deployment_yaml(name=f"app{i // per}", replicas=min(per, pods - i), cpu="10m"))
    run_until(st, 120)
    return st


def timed(state, accept: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        req = rest.Request("GET", "/api/v1/pods", {"limit": ["500000"]}, accept=accept)
        t = time.perf_counter()
        r = rest.handle(state, req)
        out.append((time.perf_counter() - t) * 1000)
        assert r.code == 200
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pods", type=int, nargs="*", default=[1000, 10000])
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    for pods in args.pods:
        st = build(pods)
        count = len(st.pods)
        for name, accept in (("Table", TABLE), ("JSON", "application/json")):
            ms = sorted(timed(st, accept, args.runs))
            p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
            print(
                f"{count:6d} pods  {name:5s} list  p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms"
            )


if __name__ == "__main__":
    main()
