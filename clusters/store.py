"""ClusterState ↔ database rows: one query per kind to load, bulk writes of only what changed.

Every kind the registry (``kubelab.sim.kinds``) stores has a model (``Kind.model``, a thin
subclass of ``models.ObjectRow``); ``row_values`` is the one mapping of an object to its row and
``_object`` the one way back, plus the kind's own indexed columns (``Kind.row_columns``).

Used inside a transaction that holds the cluster row's lock (``select_for_update``), so a
tick and a user's write never interleave. The number of queries per save does not depend on
the number of pods: one bulk create, one bulk update and one delete per kind at most.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import connections, models, router

from kubelab.sim import kinds
from kubelab.sim.objects import Event as SimEvent
from kubelab.sim.objects import KObject, OwnerRef
from kubelab.sim.state import ClusterState

from . import models as cm


@functools.cache
def object_models() -> dict[str, type[cm.ObjectRow]]:
    """The model of every stored kind, in the registry's order (looked up by app label, so this
    app imports none of the apps that hold kinds' models)."""
    return {k.kind: apps.get_model(k.model) for k in kinds.stored() if k.model}


ROW_FIELDS = [
    "namespace",
    "name",
    "resource_version",
    "generation",
    "created",
    "deleted",
    "grace",
    "labels",
    "annotations",
    "owner",
    "owner_uid",
    "spec",
    "status",
    "sim",
]
# What an UPDATE sets: an object's namespace, name and creation time never change, and leaving them
# out spares SQLite the (cluster, namespace, name) index on every write.
UPDATE_FIELDS = [f for f in ROW_FIELDS if f not in ("namespace", "name", "created")]


def load_state(cluster: cm.Cluster) -> ClusterState:
    state = ClusterState(seed=cluster.seed, name=cluster.slug)
    for kind, model in object_models().items():
        k = kinds.get(kind)
        for row in model.objects.filter(cluster=cluster).order_by("created", "id"):
            state.load_object(_object(k, row))
    for ev in cm.Event.objects.filter(cluster=cluster).order_by("seq"):
        state.load_event(SimEvent.from_json(ev.data))
    if cluster.engine:
        state.load_engine(cluster.engine)
    else:
        state.enqueue_all()
    state.rv = max(state.rv, cluster.rv)
    state.clock.speed, state.clock.paused = cluster.speed, cluster.paused
    state.reset_changes()
    return state


def _object(kind: kinds.Kind, row: cm.ObjectRow) -> KObject:
    assert kind.cls is not None
    return kind.cls(
        name=row.name,
        namespace=row.namespace,
        uid=row.uid,
        resource_version=row.resource_version,
        generation=row.generation,
        created=row.created,
        deleted=row.deleted,
        grace=row.grace,
        labels=row.labels or {},
        annotations=row.annotations or {},
        owner=OwnerRef.from_json(row.owner),
        spec=row.spec or {},
        status=row.status or {},
        sim=row.sim or {},
    )


def row_values(obj: KObject) -> dict[str, Any]:
    """The object as its row stores it (the model's fields)."""
    values: dict[str, Any] = {
        "namespace": obj.namespace,
        "name": obj.name,
        "resource_version": obj.resource_version,
        "generation": obj.generation,
        "created": obj.created,
        "deleted": obj.deleted,
        "grace": obj.grace,
        "labels": obj.labels,
        "annotations": obj.annotations,
        "owner": obj.owner.to_json() if isinstance(obj.owner, OwnerRef) else None,
        "owner_uid": obj.owner.uid if obj.owner is not None else "",
        "spec": obj.spec,
        "status": obj.status,
        "sim": obj.sim,
    }
    for column, value in kinds.get(obj.kind).row_columns.items():
        values[column] = value(obj)
    return values


def _update_rows(
    model: type[models.Model],
    cluster_id: int,
    items: list[tuple[str, dict[str, Any]]],
    fields: list[str],
) -> None:
    """One ``executemany`` of plain UPDATEs keyed by (cluster, uid): a single round of work whatever the count.

    (Django's ``bulk_update`` builds a CASE/WHEN expression per field and row, which costs milliseconds per row.)
    """
    if not items:
        return
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    cols = [model._meta.get_field(f) for f in fields]
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET "
        + ", ".join(f"{qn(c.column)} = %s" for c in cols)
        + f" WHERE {qn('cluster_id')} = %s AND {qn('uid')} = %s"
    )
    preps = [_prep(c, conn) for c in cols]
    names = [c.name for c in cols]
    params = [
        [prep(values[name]) for prep, name in zip(preps, names, strict=True)] + [cluster_id, uid]
        for uid, values in items
    ]
    with conn.cursor() as cur:
        cur.executemany(sql, params)


# The engine's values are trees of dicts, lists and scalars (never cyclic).
_compact_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _prep(field: models.Field, conn: Any) -> Callable[[Any], Any]:
    """What ``field.get_db_prep_save`` does for the values the engine holds, without its layers
    (most of a save's time, measured): JSON goes straight to the backend's adapter; plain strings,
    numbers and None need nothing on the backends we run."""
    if isinstance(field, models.JSONField):
        if conn.vendor == "sqlite" and field.encoder is None:  # stored as text: compact is smaller
            encode = _compact_json
            return lambda value: None if value is None else encode(value)
        adapt, encoder = conn.ops.adapt_json_value, field.encoder
        return lambda value: None if value is None else adapt(value, encoder)
    if isinstance(
        field, (models.CharField, models.TextField, models.IntegerField, models.FloatField)
    ):
        return lambda value: value
    return lambda value: field.get_db_prep_save(value, conn)


def event_key(ev: SimEvent) -> str:
    return hashlib.sha256(json.dumps(ev.dedupe_key).encode()).hexdigest()


def save_changes(cluster: cm.Cluster, state: ClusterState) -> None:
    """Write what changed since the state was loaded (or last saved); call inside the locked transaction."""
    by_kind_removed: dict[str, list[str]] = {}
    for (kind, _key), obj in state.removed.items():
        if obj.uid in state.persisted:
            by_kind_removed.setdefault(kind, []).append(obj.uid)
            state.persisted.discard(obj.uid)
    for kind, uids in by_kind_removed.items():
        object_models()[kind].objects.filter(cluster=cluster, uid__in=uids).delete()
    creates: dict[str, list[models.Model]] = {}
    updates: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for (kind, _key), obj in state.changed.items():
        values = row_values(obj)
        if obj.uid in state.persisted:
            updates.setdefault(kind, []).append((obj.uid, values))
        else:
            creates.setdefault(kind, []).append(
                object_models()[kind](cluster=cluster, uid=obj.uid, **values)
            )
    for kind, rows in creates.items():
        object_models()[kind].objects.bulk_create(rows, batch_size=500)
        state.persisted.update(r.uid for r in rows)  # type: ignore[attr-defined]
    for kind, items in updates.items():
        fields = UPDATE_FIELDS + list(kinds.get(kind).row_columns)
        _update_rows(object_models()[kind], cluster.pk, items, fields)
    _save_events(cluster, state)
    _save_decisions(
        cluster, state, [obj.uid for (kind, _), obj in state.removed.items() if kind == "Pod"]
    )
    cluster.engine = state.engine_json()
    cluster.rv = state.rv


def _save_decisions(cluster: cm.Cluster, state: ClusterState, gone: list[str]) -> None:
    fresh = [uid for uid in state.new_decisions if uid in state.decisions]
    if gone or fresh:
        cm.Decision.objects.filter(cluster=cluster, pod_uid__in=gone + fresh).delete()
    if fresh:
        cm.Decision.objects.bulk_create(
            [cm.Decision(cluster=cluster, pod_uid=u, data=state.decisions[u]) for u in fresh],
            batch_size=500,
        )


def decision_for(cluster_id: int, pod_uid: str) -> dict[str, Any] | None:
    row = cm.Decision.objects.filter(cluster_id=cluster_id, pod_uid=pod_uid).first()
    return row.data if row is not None else None


def _save_events(cluster: cm.Cluster, state: ClusterState) -> None:
    if not state.new_events:
        return
    oldest = min((e.seq for e in state.events.values()), default=0)
    cm.Event.objects.filter(cluster=cluster, seq__lt=oldest).delete()
    keyed = {event_key(ev): ev for ev in state.new_events.values()}
    existing = {e.key: e for e in cm.Event.objects.filter(cluster=cluster, key__in=list(keyed))}
    new_rows, changed_rows = [], []
    for key, ev in keyed.items():
        row = existing.get(key)
        if row is None:
            new_rows.append(cm.Event(cluster=cluster, key=key, seq=ev.seq, data=ev.to_json()))
        else:
            row.seq, row.data = ev.seq, ev.to_json()
            changed_rows.append(row)
    cm.Event.objects.bulk_create(new_rows, batch_size=500)
    cm.Event.objects.bulk_update(changed_rows, ["seq", "data"], batch_size=500)
