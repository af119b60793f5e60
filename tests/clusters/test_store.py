"""The store saves any kind the registry names: one model per stored kind, and every kind's
objects come back from the database exactly as they were."""

from __future__ import annotations

import pytest
from django.db import models

from clusters import services, store
from clusters.access import OPERATOR
from clusters.models import Cluster, ObjectRow
from kubelab.sim import kinds
from tests.sim.test_actions import HPA_AND_INGRESS

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_stored_kind_has_a_model_of_its_own() -> None:
    found = store.object_models()
    assert list(found) == [k.kind for k in kinds.stored()]
    for kind, model in found.items():
        assert issubclass(model, ObjectRow), kind
        assert not model._meta.abstract
        unique = [
            c.fields for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)
        ]
        assert ("cluster", "uid") in [tuple(f) for f in unique], kind
    assert len({m._meta.db_table for m in found.values()}) == len(found)


def test_objects_of_every_kind_round_trip(demo_cluster: Cluster) -> None:
    """What the service layer holds in memory is what a fresh load from the rows gives, for an
    object of every stored kind (the kind's own columns, like a pod's node, included)."""
    cid = demo_cluster.pk
    services.manifests_apply(
        cluster_id=cid,
        text="apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
        actor=OPERATOR,
    )
    services.manifests_apply(cluster_id=cid, text=HPA_AND_INGRESS, actor=OPERATOR)
    for _ in range(3):
        services.clock_advance(cluster_id=cid, mode="skip", actor=OPERATOR)

    def snapshot(st):  # noqa: ANN001, ANN202
        return {o.uid: (o.kind, store.row_values(o)) for o in st.all_objects()}

    in_memory = services.cluster_query(cid, snapshot, actor=OPERATOR)
    assert {kind for kind, _ in in_memory.values()} == {k.kind for k in kinds.stored()}
    services.forget(cid)
    fresh = store.load_state(Cluster.objects.get(pk=cid))
    assert snapshot(fresh) == in_memory
    pod_rows = store.object_models()["Pod"].objects.filter(cluster=demo_cluster)
    assert {(r.name, r.node_name, r.phase) for r in pod_rows} == {
        (o.name, o.node_name, o.phase) for o in fresh.pods.values()
    }
    assert any(r.node_name for r in pod_rows)
