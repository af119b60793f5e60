"""WebSocket /ws/clusters/<slug>/: snapshot, deltas in order, and refusal of bad client messages."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from clusters import services
from clusters.access import OPERATOR
from kubelab.asgi import application
from tests.sim.helpers import deployment_yaml

pytestmark = pytest.mark.django_db(transaction=True)
HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


def communicator(slug: str = "demo") -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/clusters/{slug}/", headers=HEADERS)


def test_snapshot_then_delta(demo_cluster):
    async def scenario():
        ws = communicator()
        connected, _ = await ws.connect()
        assert connected
        snap = json.loads(await ws.receive_from(timeout=5))
        assert snap["type"] == "snapshot" and snap["cluster"] == "demo"
        kinds = {o["kind"] for o in snap["objects"]}
        assert {"Node", "Deployment", "ReplicaSet", "Pod", "Service", "Namespace"} <= kinds
        node = next(o for o in snap["objects"] if o["key"] == "Node/worker-1")
        assert node["status"] == "Ready" and node["cpu"] == 4000
        lines = await database_sync_to_async(services.manifests_apply)(
            cluster_id=demo_cluster.pk, text=deployment_yaml(name="api"), actor=OPERATOR
        )
        assert lines == ["deployment.apps/api created"]
        delta = json.loads(await ws.receive_from(timeout=5))
        assert delta["type"] == "delta" and delta["seq"] == snap["seq"] + 1
        assert [u["key"] for u in delta["upserts"]] == ["Deployment/default/api"]
        assert "apiserver" in delta["activity"]
        await ws.disconnect()

    async_to_sync(scenario)()


def test_client_may_ask_for_a_snapshot(demo_cluster):
    async def scenario():
        ws = communicator()
        await ws.connect()
        first = json.loads(await ws.receive_from(timeout=5))
        await ws.send_to(text_data=json.dumps({"type": "snapshot"}))
        again = json.loads(await ws.receive_from(timeout=5))
        assert again["type"] == "snapshot" and again["seq"] >= first["seq"]
        await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("not json", 4400),
        (json.dumps({"type": "fail-node", "node": "worker-1"}), 4400),
        (json.dumps([1, 2]), 4400),
        ("[" * 30_000, 4400),  # nested deeper than the JSON decoder recurses: not a traceback
        (json.dumps({"type": "snapshot", "evil": True}), 4400),
        # The page sends none of these: the socket has no ping and no actions (the controls are HTTP).
        (json.dumps({"type": "ping"}), 4400),
        (json.dumps({"type": "action"}), 4400),
        (
            json.dumps({"type": "action", "action": "node", "node": "worker-1", "verb": "fail"}),
            4400,
        ),
        (json.dumps({"type": "action", "action": "clock", "verb": "pause"}), 4400),
        ("x" * (64 * 1024 + 1), 4413),
    ],
)
def test_forged_or_oversized_messages_close_the_socket(demo_cluster, payload, code):
    """Anything but {"type": "snapshot"} closes with 4400; more than 64 KiB with 4413; nothing changes."""
    before = services.cluster_query(demo_cluster.pk, lambda st: st.rv, actor=OPERATOR)

    async def scenario():
        ws = communicator()
        await ws.connect()
        await ws.receive_from(timeout=5)
        await ws.send_to(text_data=payload)
        out = await ws.receive_output(timeout=5)
        assert out == {"type": "websocket.close", "code": code}

    async_to_sync(scenario)()
    assert services.cluster_query(demo_cluster.pk, lambda st: st.rv, actor=OPERATOR) == before


def test_unknown_cluster_and_foreign_origin(demo_cluster):
    async def scenario():
        ws = communicator("nope")
        connected, _ = await ws.connect()
        assert connected  # accepted, then closed: a browser sees 4404 (a refused handshake is 1006)
        closed = await ws.receive_output(timeout=5)
        assert (closed["type"], closed.get("code")) == ("websocket.close", 4404)
        evil = WebsocketCommunicator(
            application,
            "/ws/clusters/demo/",
            headers=[(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1:8000")],
        )
        connected, _ = await evil.connect()
        assert connected is False

    async_to_sync(scenario)()
