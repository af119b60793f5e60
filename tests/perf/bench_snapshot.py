"""Snapshot benchmark (on demand): `.venv/bin/python tests/perf/bench_snapshot.py [--pods 5000 20000] [--sockets 50]`.

For each size, a cluster of that many Running pods (100 per node, Deployments of 1,000):
- engine: how long `wire.snapshot` and `wire.texts` take, the bytes per pod, the parts and the
  largest message (median of 5);
- live: the cluster made with `manage.py create_cluster`, served by `manage.py up`; once it has
  converged, N browsers connect at once and each times its whole snapshot (every part), p50/p95/max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django  # noqa: E402

sys.argv, _argv = sys.argv[:1], sys.argv
import os  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubelab.settings")
django.setup()
sys.argv = _argv

from clusters import wire  # noqa: E402
from kubelab.sim.control_loop import settle  # noqa: E402
from kubelab.sim.scenario import Scenario, build_cluster  # noqa: E402
from tests.perf.bench_live import pct, start_up, stop  # noqa: E402
from tests.sim.helpers import apply, deployment_yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def scenario(pods: int) -> str:
    nodes = "\n".join(
        f"  - {{name: worker-{i + 1}, cpu: '64', memory: 256Gi, pods: 110}}"
        for i in range(pods // 100)
    )
    docs = "\n---\n".join(
        deployment_yaml(name=f"app-{i}", replicas=1000, cpu="10m") for i in range(pods // 1000)
    )
    body = "\n".join("      " + line for line in docs.splitlines())
    return f"name: bench\nnodes:\n{nodes}\nsteps:\n  - at: 0s\n    apply: |\n{body}\n"


def engine(pods: int) -> None:
    sc = Scenario(seed=1)
    sc.nodes = [
        {"name": f"worker-{i + 1}", "cpu": "64", "memory": "256Gi", "pods": 110}
        for i in range(pods // 100)
    ]
    st = build_cluster(sc)
    for i in range(pods // 1000):
        apply(st, deployment_yaml(name=f"app-{i}", replicas=1000, cpu="10m"))
    settle(st)
    build, encode = [], []
    for _ in range(5):
        t = time.perf_counter()
        snap = wire.snapshot(st, 1, {"time": st.now}, "bench")
        t2 = time.perf_counter()
        texts = wire.texts(snap)
        build.append(t2 - t)
        encode.append(time.perf_counter() - t2)
    total = sum(len(t) for t in texts)
    print(
        f"engine, {len(st.pods)} pods: snapshot built in {statistics.median(build) * 1000:.0f} ms, "
        f"serialised in {statistics.median(encode) * 1000:.0f} ms; {total / 1e6:.1f} MB "
        f"({total // len(st.pods)} B a pod) in {len(texts)} messages, largest "
        f"{max(len(t) for t in texts) // 1024} KiB"
    )


async def connect(port: int, slug: str) -> tuple[float, int, int]:
    import websockets

    t = time.perf_counter()
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/clusters/{slug}/",
        origin=f"http://127.0.0.1:{port}",
        max_size=2**25,
        open_timeout=60,
    ) as ws:
        raw = await asyncio.wait_for(ws.recv(), timeout=300)
        head = json.loads(raw)
        sizes = [len(raw)]
        for _ in range(head.get("parts", 1) - 1):
            sizes.append(len(await ws.recv()))
        return time.perf_counter() - t, len(sizes), max(sizes)


async def clients(port: int, slug: str, n: int) -> list[tuple[float, int, int]]:
    return await asyncio.gather(*(connect(port, slug) for _ in range(n)))


def live(pods: int, sockets: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/bench.sqlite3"
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{db}")
        (Path(tmp) / "s.yaml").write_text(scenario(pods))
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        subprocess.run(
            [*manage, "create_cluster", "bench", "--scenario", f"{tmp}/s.yaml"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        proc, base = start_up(db)
        port = int(base.rsplit(":", 1)[1])
        try:
            t = time.perf_counter()
            first = asyncio.run(connect(port, "bench"))  # waits for the first tick: the rollout
            print(
                f"live, {pods} pods: the first browser's snapshot after the rollout's tick: "
                f"{time.perf_counter() - t:.1f} s"
            )
            asyncio.run(connect(port, "bench"))  # warm
            got = asyncio.run(clients(port, "bench", sockets))
            times = sorted(g[0] for g in got)
            print(
                f"live, {pods} pods, {sockets} browsers at once: whole snapshot p50 "
                f"{pct(times, 50) * 1000:.0f} ms, p95 {pct(times, 95) * 1000:.0f} ms, max "
                f"{times[-1] * 1000:.0f} ms; {first[1]} messages, largest {first[2] // 1024} KiB"
            )
        finally:
            stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, nargs="+", default=[5000, 20000])
    ap.add_argument("--sockets", type=int, default=50)
    args = ap.parse_args()
    for pods in args.pods:
        engine(pods)
        live(pods, args.sockets)


if __name__ == "__main__":
    main()
