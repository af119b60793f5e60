"""What browsers receive, in messages a WebSocket can carry: a snapshot or delta over
``wire.MAX_MESSAGE`` goes out in parts (Daphne's Autobahn refuses to send a message over 1 MiB,
``websocket_max_message_size``), which put back together are the message itself."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from clusters import wire
from kubelab.sim.control_loop import settle
from tests.clusters.test_broadcast import Page
from tests.clusters.test_durability import ROOT, free_port, start_up
from tests.sim.helpers import apply, cluster, deployment_yaml, workers


def _snapshot(pods: int) -> dict:
    st = cluster(workers(3, cpu="64", memory="256Gi"))
    apply(st, deployment_yaml(name="big", replicas=pods, cpu="10m"))
    settle(st)
    assert len(st.pods) == pods
    return wire.snapshot(st, 7, {"time": st.now}, "demo")


def test_a_message_that_fits_is_one_text() -> None:
    snap = _snapshot(20)
    assert wire.texts(snap) == [wire.dumps(snap)]
    assert "parts" not in json.loads(wire.texts(snap)[0])


def test_a_large_snapshot_goes_in_parts_that_add_up_to_it() -> None:
    snap = _snapshot(1000)
    whole = wire.dumps(snap)
    assert len(whole) > 2 * wire.MAX_MESSAGE  # several parts' worth
    texts = wire.texts(snap)
    assert len(texts) >= 3
    assert all(len(t.encode()) <= wire.MAX_MESSAGE for t in texts)
    messages = [json.loads(t) for t in texts]
    assert messages[0]["type"] == "snapshot" and messages[0]["parts"] == len(texts)
    assert all(m["type"] == "part" and m["seq"] == 7 for m in messages[1:])
    assert wire.join(messages) == snap
    # Items stay whole and in order: the pods in the parts are the snapshot's pods.
    keys = [o["key"] for o in wire.join(messages)["objects"]]
    assert keys == [o["key"] for o in snap["objects"]]


def test_join_refuses_a_message_with_a_part_missing_or_foreign() -> None:
    messages = [json.loads(t) for t in wire.texts(_snapshot(1000))]
    with pytest.raises(ValueError, match="parts"):
        wire.join(messages[:-1])
    foreign = dict(messages[1], seq=8)
    with pytest.raises(ValueError, match="another message"):
        wire.join([messages[0], foreign, *messages[2:]])


def test_a_large_delta_goes_in_parts_too() -> None:
    st = cluster(workers(3, cpu="64", memory="256Gi"))
    apply(st, deployment_yaml(name="big", replicas=1000, cpu="10m"))
    settle(st)
    message = wire.delta(st, 3, {"time": st.now})  # every object of the cluster changed
    texts = wire.texts(message)
    assert len(texts) > 1 and all(len(t) <= wire.MAX_MESSAGE for t in texts)
    assert wire.join([json.loads(t) for t in texts]) == message


# ----- a school's cluster on a real server ------------------------------------------------------
SCHOOL = 20_000  # the README's max-pods-per-cluster


def _school_scenario() -> str:
    """20,000 pods on 200 nodes: 20 Deployments of 1,000 (max-replicas) each."""
    nodes = "\n".join(
        f"  - {{name: worker-{i + 1}, cpu: '64', memory: 256Gi, pods: 110}}" for i in range(200)
    )
    docs = "\n---\n".join(
        deployment_yaml(name=f"app-{i}", replicas=1000, cpu="10m") for i in range(20)
    )
    body = "\n".join("      " + line for line in docs.splitlines())
    return f"name: school\nnodes:\n{nodes}\nsteps:\n  - at: 0s\n    apply: |\n{body}\n"


async def _connect(port: int, slug: str) -> tuple[list[int], dict, list[list[dict]]]:
    """A browser: every message's size, the snapshot put together, and the deltas that follow a
    change to a thousand pods at once (a Deployment scaled to zero from the console)."""
    import websockets

    sizes: list[int] = []
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ws/clusters/{slug}/",
        origin=f"http://127.0.0.1:{port}",
        max_size=2**25,
        open_timeout=30,  # accepted at once, however busy the server (the snapshot comes later)
    ) as ws:

        async def message() -> list[dict]:
            raw = await asyncio.wait_for(ws.recv(), timeout=300)
            sizes.append(len(raw.encode()))
            head = json.loads(raw)
            parts = [head]
            for _ in range(head.get("parts", 1) - 1):
                raw = await asyncio.wait_for(ws.recv(), timeout=60)
                sizes.append(len(raw.encode()))
                parts.append(json.loads(raw))
            return parts

        snapshot = wire.join(await message())  # after the first tick: 20,000 pods rolled out
        page = Page(f"http://127.0.0.1:{port}", slug)
        await asyncio.to_thread(page.kubectl, "scale deployment app-0 --replicas=0")
        deltas = [await message()]
        while len(deltas[-1]) == 1:  # until the delta of a thousand terminating pods
            deltas.append(await message())
    return sizes, snapshot, deltas


def test_a_browser_connects_to_a_cluster_of_20000_pods(tmp_path) -> None:  # noqa: ANN001
    """The README's limit, 20,000 pods in one cluster, is ~13 MB of snapshot: every message
    stays within Daphne's 1 MiB (it closed the socket with 1011 before), the snapshot arrives
    whole, and the deltas after it (a kubelet's worth of changes to thousands of pods at once)
    come in parts as well, in seq order."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/kubelab.sqlite3")
    scenario = tmp_path / "school.yaml"
    scenario.write_text(_school_scenario())
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True, timeout=120)
    subprocess.run(
        [*manage, "create_cluster", "school", "--scenario", str(scenario)],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    port = free_port()
    up = start_up(env, port)
    try:
        sizes, snapshot, deltas = asyncio.run(_connect(port, "school"))
    finally:
        up.terminate()
        up.wait(30)
    pods = [o for o in snapshot["objects"] if o["kind"] == "Pod"]
    assert len(pods) == SCHOOL
    assert len({o["key"] for o in pods}) == SCHOOL
    assert sum(1 for o in snapshot["objects"] if o["kind"] == "Node") == 200
    assert len(sizes) > 10  # the snapshot alone is tens of parts
    assert max(sizes) <= wire.MAX_MESSAGE < 1024 * 1024
    seqs = [d[0]["seq"] for d in deltas]
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(seqs)))
    big = wire.join(deltas[-1])
    assert big["type"] == "delta"
    terminating = [o for o in big["upserts"] if o["kind"] == "Pod" and o.get("deleted")]
    assert len(terminating) == 1000
