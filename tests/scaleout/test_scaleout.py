"""Scale-out mode on the real PostgreSQL and Redis: two Daphne processes, two reconcile workers.

Every browser sees the same deltas whichever Daphne it is connected to, and when the worker that
owns the cluster is killed, the other takes the cluster over within 10 seconds.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import websockets

from tests.sim.helpers import deployment_yaml

from .conftest import Stack


async def collect(port: int, until: float, out: list[dict]) -> None:
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/clusters/demo/", origin=f"http://127.0.0.1:{port}"
    ) as ws:
        while time.monotonic() < until:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=max(until - time.monotonic(), 0.01))
            except TimeoutError:
                break
            out.append(json.loads(raw))


def run_async(coro) -> None:  # noqa: ANN001
    """asyncio.run in a thread of its own: another test's event loop (Playwright's) may be running here."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def owner_pid(stack: Stack) -> int:
    r = stack.manage(
        "shell",
        "-c",
        "from clusters.models import Cluster; c = Cluster.objects.get(slug='demo'); print(c.lease_owner)",
    )
    return int(r.stdout.strip().split(":")[1])


def test_two_daphnes_two_workers_and_failover(stack: Stack) -> None:
    ports = [stack.start_daphne(), stack.start_daphne()]
    stack.start_worker()
    stack.start_worker()
    seen: list[list[dict]] = [[], []]

    async def phase(seconds: float, action) -> None:  # noqa: ANN001
        until = time.monotonic() + seconds
        tasks = [asyncio.create_task(collect(p, until, seen[i])) for i, p in enumerate(ports)]
        await asyncio.sleep(1.0)
        await asyncio.to_thread(action)
        await asyncio.gather(*tasks)

    def apply() -> None:
        r = stack.manage(
            "kubectl",
            "--cluster",
            "demo",
            "apply",
            "-f",
            "-",
            stdin=deployment_yaml(name="api", replicas=4),
        )
        assert r.stdout == "deployment.apps/api created\n", r.stderr

    run_async(phase(8, apply))
    deltas = [
        [(m["seq"], sorted(u["key"] for u in m["upserts"])) for m in msgs if m["type"] == "delta"]
        for msgs in seen
    ]
    assert deltas[0] and deltas[1]
    # Both sockets saw the same deltas over the window both were open (the ends can race).
    lo = max(deltas[0][0][0], deltas[1][0][0])
    hi = min(deltas[0][-1][0], deltas[1][-1][0])
    assert [d for d in deltas[0] if lo <= d[0] <= hi] == [d for d in deltas[1] if lo <= d[0] <= hi]
    assert any("Deployment/default/api" in keys for _, keys in deltas[0])
    running = [
        m
        for m in seen[0]
        if m["type"] == "delta"
        for u in m["upserts"]
        if u["kind"] == "Pod" and u["status"] == "Running"
    ]
    assert running, "pods of the new Deployment started: the workers tick"

    # Kill the worker that owns the cluster; the other must take over within 10 seconds.
    pid = owner_pid(stack)
    victim = next(w for w in stack.workers if w.pid == pid)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    killed_at = time.monotonic()
    for s in seen:
        s.clear()

    def scale() -> None:
        r = stack.manage(
            "kubectl", "--cluster", "demo", "scale", "deployment", "api", "--replicas=6"
        )
        assert r.stdout == "deployment.apps/api scaled\n", r.stderr

    run_async(phase(14, scale))
    created = [
        (m, time.monotonic())
        for m in seen[0]
        if m["type"] == "delta"
        and any(u["kind"] == "Pod" and u["status"] == "Running" for u in m["upserts"])
    ]
    assert created, "after the owner died, another worker created and started the new pods"
    assert owner_pid(stack) != pid
    first = min(m["serverWall"] for m, _ in created)
    assert first - (time.time() - (time.monotonic() - killed_at)) <= 12
