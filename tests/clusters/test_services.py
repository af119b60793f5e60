"""The service layer on the real database: writes, rollbacks, persistence, and deltas that add up."""

from __future__ import annotations

import pytest

from clusters import services, store, wire
from clusters.access import OPERATOR
from clusters.models import Cluster, Event
from kubelab.sim.apiserver import ApiError
from tests.sim.helpers import deployment_yaml
from workloads.models import Deployment, Pod

from .helpers import GroupListener

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_cluster_is_stored_as_rows(demo_cluster):
    """The demo scenario's nodes, namespaces and workloads become rows of the cluster's store."""
    from clusters.models import Namespace, Node

    assert Node.objects.filter(cluster=demo_cluster).count() == 4
    assert set(Namespace.objects.filter(cluster=demo_cluster).values_list("name", flat=True)) == {
        "default",
        "kube-node-lease",
        "kube-public",
        "kube-system",
    }
    assert Deployment.objects.filter(cluster=demo_cluster, name="web").exists()
    assert demo_cluster.seq == 1


def test_apply_answers_and_rejected_apply_changes_nothing(demo_cluster):
    cid = demo_cluster.pk
    assert services.manifests_apply(
        cluster_id=cid, text=deployment_yaml(name="api"), actor=OPERATOR
    ) == ["deployment.apps/api created"]
    assert services.manifests_apply(
        cluster_id=cid, text=deployment_yaml(name="api"), actor=OPERATOR
    ) == ["deployment.apps/api unchanged"]
    before = Cluster.objects.get(pk=cid)
    with pytest.raises(ApiError) as e:
        services.manifests_apply(
            cluster_id=cid,
            text=deployment_yaml(name="api2") + "---\n" + deployment_yaml(name="bad", replicas=-1),
            actor=OPERATOR,
        )
    assert e.value.code == 422
    after = Cluster.objects.get(pk=cid)
    assert (after.rv, after.seq) == (before.rv, before.seq)
    assert not Deployment.objects.filter(cluster=demo_cluster, name="api2").exists()


def test_stale_resource_version_is_a_conflict(demo_cluster):
    """A write naming an old resourceVersion gets the Kubernetes 409 message."""
    text = deployment_yaml(name="web2")
    services.manifests_apply(cluster_id=demo_cluster.pk, text=text, actor=OPERATOR)
    stale = text.replace("  name: web2\n", '  name: web2\n  resourceVersion: "1"\n', 1)
    with pytest.raises(ApiError) as e:
        services.manifests_apply(
            cluster_id=demo_cluster.pk,
            text=stale.replace("replicas: 3", "replicas: 4"),
            actor=OPERATOR,
        )
    assert e.value.code == 409
    assert e.value.message == (
        'Error from server (Conflict): Operation cannot be fulfilled on deployments.apps "web2": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )


def test_ticks_persist_exactly(demo_cluster):
    """What a tick leaves in memory is what a fresh load from the database gives."""
    cid = demo_cluster.pk
    for _ in range(3):
        services.clock_advance(cluster_id=cid, mode="skip", actor=OPERATOR)
    services.node_action(cluster_id=cid, node="worker-2", action="fail", actor=OPERATOR)
    for _ in range(4):
        services.clock_advance(cluster_id=cid, mode="skip", actor=OPERATOR)
    in_memory = services.cluster_query(
        cid, lambda st: {o.uid: store.row_values(o) for o in st.all_objects()}, actor=OPERATOR
    )
    services.forget(cid)
    fresh = store.load_state(Cluster.objects.get(pk=cid))
    assert {o.uid: store.row_values(o) for o in fresh.all_objects()} == in_memory
    assert Pod.objects.filter(cluster=demo_cluster, deleted__isnull=True).count() == 3


def test_snapshot_plus_deltas_equals_fresh_snapshot(demo_cluster):
    """Zulip's verify_action: applying every published delta to the first snapshot gives a fresh snapshot."""
    cid = demo_cluster.pk
    listener = GroupListener(cid)
    snap = services.cluster_snapshot(cid, actor=OPERATOR)
    listener.drain()
    listener.messages.clear()
    services.manifests_apply(
        cluster_id=cid, text=deployment_yaml(name="api", replicas=2), actor=OPERATOR
    )
    for _ in range(4):
        services.clock_advance(cluster_id=cid, mode="skip", actor=OPERATOR)
    services.cluster_mutate(
        cid,
        lambda st: __import__("kubelab.sim.actions", fromlist=["scale"]).scale(
            st, "default", "web", 5
        ),
        actor=OPERATOR,
    )
    services.node_action(cluster_id=cid, node="worker-1", action="fail", actor=OPERATOR)
    for _ in range(12):
        services.clock_advance(cluster_id=cid, mode="skip", actor=OPERATOR)
    services.node_action(cluster_id=cid, node="worker-1", action="recover", actor=OPERATOR)
    for _ in range(4):
        services.clock_advance(cluster_id=cid, mode="skip", actor=OPERATOR)
    deltas = listener.deltas()
    assert [d["seq"] for d in deltas] == list(range(snap["seq"] + 1, snap["seq"] + 1 + len(deltas)))
    rebuilt = snap
    for d in deltas:
        rebuilt = wire.apply_delta(rebuilt, d)
    fresh = services.cluster_snapshot(cid, actor=OPERATOR)
    got = {o["key"]: o for o in rebuilt["objects"]}
    want = {o["key"]: o for o in fresh["objects"]}
    assert set(got) == set(want)
    for k in want:
        assert got[k] == want[k], {
            f: (got[k].get(f), want[k].get(f)) for f in want[k] if got[k].get(f) != want[k].get(f)
        }
    assert [e["seq"] for e in rebuilt["events"]] == [e["seq"] for e in fresh["events"]]
    assert rebuilt["seq"] == fresh["seq"]


def test_event_history_is_capped(demo_cluster):
    """A cluster keeps its newest 1,000 events."""
    cid = demo_cluster.pk
    services.manifests_apply(
        cluster_id=cid, text=deployment_yaml(name="many", replicas=400, cpu="1m"), actor=OPERATOR
    )
    for _ in range(8):
        services.clock_advance(cluster_id=cid, mode="skip", actor=OPERATOR)
    assert Event.objects.filter(cluster=demo_cluster).count() == 1000


def test_clock_pause_and_speed(demo_cluster):
    cid = demo_cluster.pk
    clock = services.clock_set(cluster_id=cid, paused=True, actor=OPERATOR)
    assert clock["paused"] is True
    t0 = Cluster.objects.get(pk=cid).sim_now()
    assert Cluster.objects.get(pk=cid).sim_now() == t0
    services.clock_set(cluster_id=cid, paused=False, speed=60, actor=OPERATOR)
    with pytest.raises(services.ServiceError, match="speed must be between 0.25x and 60x"):
        services.clock_set(cluster_id=cid, speed=1000, actor=OPERATOR)


def test_reset_restores_the_scenario(demo_cluster):
    cid = demo_cluster.pk
    services.manifests_apply(cluster_id=cid, text=deployment_yaml(name="api"), actor=OPERATOR)
    services.cluster_reset(cluster_id=cid, actor=OPERATOR)
    assert not Deployment.objects.filter(cluster=demo_cluster, name="api").exists()
    assert Deployment.objects.filter(cluster=demo_cluster, name="web").exists()


def test_a_lessons_timed_steps_run_in_a_live_cluster(db):
    # The lesson's later steps wait on timers and run when the clock reaches them, also after
    # the state was reloaded from the database (they are part of the engine state).
    from django.conf import settings

    text = (settings.BASE_DIR / "kubelab/scenarios/autoscaling-spike.yaml").read_text()
    cluster = services.cluster_create(slug="spike", scenario_text=text)
    services.forget(cluster.pk)  # next read loads from the database
    for _ in range(6):
        services.clock_advance(cluster_id=cluster.pk, mode="skip", actor=OPERATOR)
    load = services.cluster_query(
        cluster.pk, lambda st: st.services[("default", "web")].sim.get("load"), actor=OPERATOR
    )
    assert load is not None and load["rps"] == 100 and load["since"] == 20.0


def test_browsers_at_the_same_seq_share_one_snapshot(demo_cluster):
    """A class that connects at once costs one snapshot: at the same seq the same texts are
    handed out (only serverWall, the server's clock, is new); after a change, a new one."""
    import json as _json
    import time

    cid = demo_cluster.pk
    seq, first = services.snapshot_texts(cid, actor=OPERATOR)
    time.sleep(0.01)
    again_seq, again = services.snapshot_texts(cid, actor=OPERATOR)
    assert again_seq == seq
    a, b = _json.loads(first[0]), _json.loads(again[0])
    assert b["serverWall"] > a["serverWall"]
    assert {**a, "serverWall": 0} == {**b, "serverWall": 0}
    fresh = services.cluster_snapshot(cid, actor=OPERATOR)  # a moment later: the same state
    assert fresh["seq"] == seq
    assert fresh["objects"] == wire.join([_json.loads(t) for t in first])["objects"]
    services.manifests_apply(cluster_id=cid, text=deployment_yaml(name="api"), actor=OPERATOR)
    later_seq, later = services.snapshot_texts(cid, actor=OPERATOR)
    assert later_seq > seq
    keys = {o["key"] for o in wire.join([_json.loads(t) for t in later])["objects"]}
    assert "Deployment/default/api" in keys
