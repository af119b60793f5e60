"""Live benchmarks (on demand): `.venv/bin/python tests/perf/bench_live.py [embedded|redis|db]`. Prints figures.

- embedded: commit→browser latency (p50/p95) for 1, 50 and 300 WebSocket clients on `manage.py up`
- redis:    the same across two Daphne processes and a reconcile worker on PostgreSQL + Redis
- db:       tick cost on the database with 1,000 and 10,000 pods (100 changed pods), and queries per tick
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


# KUBELAB_BENCH_CLIENTS=300 measures only that many clients (e.g. while profiling the server).
CLIENT_COUNTS = [int(n) for n in os.environ.get("KUBELAB_BENCH_CLIENTS", "1,50,300").split(",")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def start_up(database: str) -> tuple[subprocess.Popen[bytes], str]:
    """`manage.py up` on a free port with its own SQLite file; returns the process and its base URL."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "up", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        # KUBELAB_BENCH_LOG=FILE keeps the server's log (tracebacks of any 500) for a look afterwards.
        stderr=open(os.environ["KUBELAB_BENCH_LOG"], "ab")  # noqa: SIM115
        if os.environ.get("KUBELAB_BENCH_LOG")
        else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/c/demo/")
    return proc, base


def stop(proc: subprocess.Popen[bytes]) -> float:
    """Stop a server like Ctrl-C would; returns how long it took."""
    t = time.perf_counter()
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        if os.environ.get("KUBELAB_DUMP_ON_HANG"):
            subprocess.run([str(ROOT / ".venv/bin/py-spy"), "dump", "--pid", str(proc.pid)])
        proc.kill()
    return time.perf_counter() - t


class Console:
    """Posts kubectl commands to the page's console endpoint like a browser (cookie + CSRF token)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        html = self.opener.open(f"{base}/c/demo/").read().decode()
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def run(self, command: str) -> dict:
        data = urllib.parse.urlencode({"command": command}).encode()
        req = urllib.request.Request(
            f"{self.base}/c/demo/console/",
            data=data,
            headers={
                "X-CSRFToken": self.token,
                "Referer": f"{self.base}/c/demo/",
                "Accept": "application/json",
            },
        )
        return json.loads(self.opener.open(req).read())


async def _clients(
    ports: list[int], count: int, offset: int, seconds: float, ready_file: str
) -> list[float]:
    """``count`` WebSocket clients that record commit→receipt latency of every delta with upserts."""
    import websockets

    lat: list[float] = []
    connected = 0
    deadline = time.monotonic() + 120 + seconds  # until all are connected; then ``seconds`` more

    async def client(i: int) -> None:
        nonlocal connected, deadline
        port = ports[(offset + i) % len(ports)]
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/clusters/demo/",
            origin=f"http://127.0.0.1:{port}",
            max_size=2**24,
        ) as ws:
            await ws.recv()  # snapshot
            connected += 1
            if connected == count:
                deadline = time.monotonic() + seconds
                Path(ready_file).write_text("ok")
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                now = time.time()
                msg = json.loads(raw)
                if msg.get("type") == "delta" and msg.get("upserts"):
                    lat.append((now - msg["serverWall"]) * 1000)

    results = await asyncio.gather(*(client(i) for i in range(count)), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:  # say so: a figure from fewer clients than asked is not the figure asked for
        print(f"{len(failed)} of {count} clients failed, e.g. {failed[0]!r}", file=sys.stderr)
    return lat


def _client_process(args: tuple) -> list[float]:
    return asyncio.run(_clients(*args))


def measure(
    ports: list[int],
    clients: int,
    base: str,
    changes: int = 15,
    processes: int = int(os.environ.get("KUBELAB_BENCH_PROCS", "4")),
) -> tuple[list[float], int]:
    """Clients spread over several processes so that the measuring side is not the bottleneck."""
    from multiprocessing import Pool

    procs = min(processes, clients)
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    seconds = 20 + changes * 0.6 + clients * 0.05
    with tempfile.TemporaryDirectory() as tmp:
        ready = [f"{tmp}/ready{i}" for i in range(procs)]
        offsets = [sum(per[:i]) for i in range(procs)]
        with Pool(procs) as pool:
            result = pool.map_async(
                _client_process,
                [(ports, per[i], offsets[i], seconds, ready[i]) for i in range(procs)],
            )
            deadline = time.monotonic() + 120
            while not all(Path(r).exists() for r in ready) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not all(Path(r).exists() for r in ready):
                print(f"not all {clients} clients connected in 120 s", file=sys.stderr)
            console = Console(base)
            for k in range(changes):
                console.run(f"scale deployment web --replicas={3 + k % 4}")
                time.sleep(0.6)
            lat = [x for part in result.get(timeout=seconds + 180) for x in part]
    return lat, clients


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return (
        values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
        if values
        else float("nan")
    )


def bench_embedded() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_up(f"{tmp}/kubelab.sqlite3")
        port = int(base.rsplit(":", 1)[1])
        try:
            for n in CLIENT_COUNTS:
                lat, got = measure([port], n, base)
                print(
                    f"embedded, {n:>3} clients: {len(lat)} deltas received, commit→browser p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms"
                )
        finally:
            stop(proc)


def bench_redis() -> None:
    import psycopg

    name = f"kubelab_bench_{uuid.uuid4().hex[:8]}"
    pg = "postgres://postgres@127.0.0.1:5432"
    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = dict(
        os.environ,
        DATABASE_URL=f"{pg}/{name}",
        REDIS_URL="redis://127.0.0.1:6379/0",
        REDIS_PREFIX=name,
    )
    procs = []
    try:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "create_cluster", "--demo"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        ports = [free_port(), free_port()]
        for p in ports:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "daphne",
                        "-b",
                        "127.0.0.1",
                        "-p",
                        str(p),
                        "kubelab.asgi:application",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "reconcile"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for p in ports:
            wait_http(f"http://127.0.0.1:{p}/c/demo/")
        for n in CLIENT_COUNTS:
            lat, got = measure(ports, n, f"http://127.0.0.1:{ports[0]}")
            print(
                f"redis, 2 daphnes, {n:>3} clients: {len(lat)} deltas received, commit→browser p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms"
            )
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_db() -> None:
    tmp = tempfile.mkdtemp()
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubelab.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clusters import services
    from clusters.access import OPERATOR
    from kubelab.sim import actions
    from kubelab.sim.apiserver.apply import apply_text

    call_command("migrate", verbosity=0)
    if not os.environ.get("KUBELAB_BENCH_NO_CHECKPOINTER"):
        from clusters.apps import checkpoint_in_background

        checkpoint_in_background()  # as `up` does
    actions.MAX_NODES = 1000
    for nodes, pods in ((100, 1000), (500, 10000)):
        scenario = "nodes:\n" + "".join(
            f"  - {{name: node-{i:03d}, cpu: '64', memory: 256Gi, pods: 250}}\n"
            for i in range(nodes)
        )
        cluster = services.cluster_create(slug=f"bench{pods}", scenario_text=scenario)
        cid = cluster.pk
        for i in range(pods // 1000):
            text = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: app{i}}}
spec:
  replicas: 1000
  selector: {{matchLabels: {{app: app{i}}}}}
  template:
    metadata: {{labels: {{app: app{i}}}}}
    spec:
      containers: [{{name: c, image: "nginx:1.27", resources: {{requests: {{cpu: 10m, memory: 16Mi}}}}}}]
"""
            services.cluster_mutate(
                cid, lambda st, t=text: apply_text(st, t, max_replicas=1000), actor=OPERATOR
            )
        services.clock_set(cluster_id=cid, speed=60, actor=OPERATOR)
        for _ in range(40):
            services.clock_advance(cluster_id=cid, mode="skip", actor=OPERATOR)
        running = services.cluster_query(
            cid, lambda st: sum(1 for p in st.pods.values() if p.ready), actor=OPERATOR
        )
        times, queries, ticks, tick_queries = [], [], [], []
        for _r in range(15):

            def churn(st):  # noqa: ANN001, ANN202
                victims = [p for p in st.pods.values() if p.deleted is None][:100]
                for p in victims:
                    p.status["phase"] = "Running"
                    for c in p.status.get("conditions") or []:
                        if c["type"] == "Ready":
                            c["status"] = "False" if c["status"] == "True" else "True"
                    st.touch(p)
                return []

            # A write that changes 100 pods (their Ready flips), saved in the same transaction ...
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                services.cluster_mutate(cid, churn, actor=OPERATOR)
                times.append((time.perf_counter() - t0) * 1000)
            queries.append(len(ctx.captured_queries))
            # ... and the tick after it: the kubelets put the 100 pods right, 100 rows written again.
            with CaptureQueriesContext(connection) as ctx2:
                t0 = time.perf_counter()
                services.cluster_tick(cid)
                ticks.append((time.perf_counter() - t0) * 1000)
            tick_queries.append(len(ctx2.captured_queries))
        print(
            f"db, {nodes} nodes / {running} running pods: write of 100 changed pods median {statistics.median(times):.1f} ms, "
            f"max {max(times):.1f} ({statistics.median(queries):.0f} queries); the tick that reacts to them "
            f"median {statistics.median(ticks):.1f} ms, max {max(ticks):.1f} ({statistics.median(tick_queries):.0f} queries)"
        )
        # A cold load (what a worker does when another process wrote):
        services.forget(cid)
        t0 = time.perf_counter()
        services.cluster_tick(cid)
        print(
            f"    cold load + tick of {pods} pods from the database: {(time.perf_counter() - t0) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    what = sys.argv[1:] or ["embedded", "redis", "db"]
    if "db" in what:
        bench_db()
    if "embedded" in what:
        bench_embedded()
    if "redis" in what:
        bench_redis()
