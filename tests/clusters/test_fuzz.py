"""Hypothesis against the doors a student can reach: the apply endpoint and the WebSocket.

Whatever arrives — junk bytes, YAML that almost parses, valid manifests with hostile values,
forged socket messages — the answer is a 4xx (or a close code), never a 500, and a refused
request changes nothing (the cluster is paused, so its resourceVersion only moves on a write).
"""

from __future__ import annotations

import json
import os

import pytest
import yaml
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from clusters import services
from clusters.access import OPERATOR
from clusters.models import Cluster
from tests.sim.helpers import deployment_yaml

from .test_classrooms import SCENARIO, student_client, ws_for

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES = int(os.environ.get("KUBELAB_FUZZ_EXAMPLES", "60"))  # more for a deep run
FUZZ = hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):  # noqa: ANN001, ANN202
    # The fuzzer is one student sending hundreds of requests; the limit has its own test.
    settings.MAX_APPLIES_PER_MINUTE = settings.MAX_PREVIEWS_PER_MINUTE = 10**6


@pytest.fixture
def room(db):  # noqa: ANN001, ANN201
    user = get_user_model().objects.create_user("teacher", password="pw-teacher-pw")
    classroom = services.classroom_create(owner=user, title="Fuzz", scenario_text=SCENARIO)
    client = student_client(classroom, "Ana")
    services.clock_set(cluster_id=classroom.cluster_id, paused=True, actor=OPERATOR)
    return classroom, client


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
trees = st.recursive(
    scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=5), st.dictionaries(st.text(max_size=12), kids, max_size=5)
    ),
    max_leaves=30,
)
FIELDS = ["replicas", "image", "name", "namespace", "cpu", "selector", "labels", "kind"]


def mutated(field: str, value: object) -> str:
    """A valid Deployment with one field swapped for a random value."""
    doc = yaml.safe_load(deployment_yaml(name="web"))
    where = {
        "replicas": (doc["spec"], "replicas"),
        "image": (doc["spec"]["template"]["spec"]["containers"][0], "image"),
        "name": (doc["metadata"], "name"),
        "namespace": (doc["metadata"], "namespace"),
        "cpu": (doc["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"], "cpu"),
        "selector": (doc["spec"], "selector"),
        "labels": (doc["spec"]["template"]["metadata"], "labels"),
        "kind": (doc, "kind"),
    }[field]
    where[0][where[1]] = value
    return yaml.safe_dump(doc, allow_unicode=True)


manifests = st.one_of(
    st.text(max_size=400),
    st.binary(max_size=400).map(lambda b: b.decode("latin-1")),
    trees.map(lambda t: yaml.safe_dump(t, allow_unicode=True)),
    st.builds(mutated, st.sampled_from(FIELDS), trees),
    st.sampled_from(
        [
            "a: &a [*a]",
            "a: &a ['x', 'x']\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n",
            "[" * 200,
            "\ufeff---\n- !!python/object:os.system ['id']\n",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: default}\n",
        ]
    ),
)


@FUZZ
@given(text=manifests, namespace=st.sampled_from(["", "ana", "default", "kube-system", "x" * 70]))
def test_apply_endpoint_never_fails_and_refusals_change_nothing(room, text, namespace):
    classroom, client = room
    for path in ("apply/", "apply/preview/", "apply/delete/"):
        # Settle what earlier accepted writes queued (no reconciler runs here), then compare.
        services.cluster_tick(classroom.cluster_id)
        before = Cluster.objects.get(pk=classroom.cluster_id).rv
        r = client.post(
            f"/c/{classroom.cluster.slug}/{path}",
            {"manifest": text, "namespace": namespace},
            HTTP_ACCEPT="application/json",
        )
        assert r.status_code < 500, (path, r.content[:300])
        body = r.json()
        refused = r.status_code >= 400 or not body.get("ok")
        after = Cluster.objects.get(pk=classroom.cluster_id).rv
        if refused:
            assert after == before, (path, body)
        if namespace not in ("", "ana") and path == "apply/":
            assert refused  # a student never writes outside their namespace


messages = st.one_of(
    st.text(min_size=1, max_size=200),
    trees.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["action", "snapshot", "ping", "delta", "apply"])},
        optional={
            "action": st.sampled_from(["node", "clock", "reset"]) | st.text(max_size=8),
            "verb": st.sampled_from(["fail", "pause", "remove", "drain"]) | trees,
            "node": st.sampled_from(["worker-1", "control-plane"]) | trees,
            "seq": trees,
        },
    ).map(json.dumps),
)


@hsettings(FUZZ, max_examples=max(EXAMPLES * 2 // 3, 1))
@given(batch=st.lists(messages, min_size=1, max_size=4))
def test_forged_websocket_messages_close_cleanly_and_change_nothing(room, batch):
    classroom, client = room
    before = Cluster.objects.get(pk=classroom.cluster_id).rv

    async def talk() -> None:
        ws = ws_for(client, classroom.cluster.slug)
        connected, _ = await ws.connect()
        assert connected
        snap = await ws.receive_output(timeout=5)
        assert json.loads(snap["text"])["type"] == "snapshot"
        for text in batch:
            await ws.send_to(text_data=text)
            out = await ws.receive_output(timeout=5)
            if out["type"] == "websocket.close":
                assert out["code"] in (4400, 4413)
                break
            assert json.loads(out["text"])["type"] == "snapshot"  # the one message it answers
        await ws.disconnect()

    async_to_sync(talk)()
    assert Cluster.objects.get(pk=classroom.cluster_id).rv == before
