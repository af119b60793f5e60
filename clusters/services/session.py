"""The bottom layer of the services: the cluster's lock, the transaction, the state cache, and the
commit that publishes one delta after it (see the package's docstring for the rules)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from clusters import access, store, wire
from clusters.access import Actor
from clusters.events import publish_on_commit, publish_watch_on_commit
from clusters.models import Classroom, Cluster, Membership
from kubelab.sim.control_loop import advance
from kubelab.sim.state import ClusterState

_cache: dict[int, tuple[int, ClusterState]] = {}
_cache_lock = threading.Lock()


class ServiceError(Exception):
    """A request the service refuses (in kubectl's words where kubectl has some)."""


def _cached(cluster: Cluster) -> ClusterState | None:
    with _cache_lock:
        hit = _cache.get(cluster.pk)
    if hit is not None and hit[0] == cluster.rv:
        return hit[1]
    return None


def _remember(cluster_id: int, rv: int, state: ClusterState) -> None:
    with _cache_lock:
        _cache[cluster_id] = (rv, state)


_gates: dict[int, threading.Lock] = {}


def _gate(cluster_id: int) -> threading.Lock:
    with _cache_lock:
        gate = _gates.get(cluster_id)
        if gate is None:
            gate = _gates[cluster_id] = threading.Lock()
        return gate


def forget(cluster_id: int) -> None:
    with _cache_lock:
        _cache.pop(cluster_id, None)


@contextmanager
def locked_state(
    cluster_id: int, actor: Actor | None = None
) -> Iterator[tuple[Cluster, ClusterState, dt.datetime]]:
    """The cluster row (locked), its current state caught up to now, and the wall time used.

    With an ``actor``, the simulated API server authorizes every read and write against it."""
    state: ClusterState | None = None
    # Threads of this process queue here first: SQLite's busy handler would make them sleep and
    # poll (1, 2, 5 … 100 ms) for its write lock; a Python lock hands over at once.
    gate = _gate(cluster_id)
    gate.acquire()
    try:
        with transaction.atomic():
            cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
            state = _cached(cluster)
            if state is None:
                state = store.load_state(cluster)
                _remember(cluster_id, cluster.rv, state)
            now = timezone.now()
            target = max(cluster.sim_now(now), state.now)
            advance(state, target)
            state.authorizer = access.authorizer(actor) if actor is not None else None
            yield cluster, state, now
            state.authorizer = None
            _commit(cluster, state, now)
    except BaseException:
        if state is not None:
            state.authorizer = None
        forget(cluster_id)
        raise
    finally:
        gate.release()


def _commit(cluster: Cluster, state: ClusterState, now: dt.datetime, force: bool = False) -> None:
    """Save what changed, anchor the clock, and publish one delta after commit.

    ``force`` publishes even without object changes (a clock change every browser must see).
    """
    if state.changed or state.removed or state.new_events or state.traffic_changed or force:
        cluster.seq += 1
        cluster.sim_anchor = state.now
        cluster.wall_anchor = now
        message = wire.delta(state, cluster.seq, wire.clock_view(cluster, state))
        watch_events = (
            wire.watch_events(state, now.timestamp() - state.now)
            if cluster.watched_until is not None and cluster.watched_until > now
            else None
        )
        store.save_changes(cluster, state)
        cluster.save(
            update_fields=[
                "seq",
                "rv",
                "engine",
                "sim_anchor",
                "wall_anchor",
                "paused",
                "speed",
                "updated_at",
            ]
        )
        pseudonyms = anonymised_namespaces(cluster.pk)
        publish_on_commit(
            cluster.pk,
            cluster.seq,
            wire.texts(message),
            wire.texts(wire.anonymise(message, pseudonyms)) if pseudonyms is not None else None,
        )
        if watch_events:
            publish_watch_on_commit(cluster.pk, cluster.rv, watch_events)
        state.reset_changes()
    # Still under the lock: the next holder finds this state. Should the commit fail, the
    # exception reaches locked_state, which forgets it (and the database keeps the old rv).
    _remember(cluster.pk, cluster.rv, state)


def anonymised_namespaces(cluster_id: int) -> dict[str, str] | None:
    """Student namespace → pseudonym when the cluster's classroom is anonymised, else None."""
    if not Classroom.objects.filter(cluster_id=cluster_id, anonymise=True).exists():
        return None
    return dict(
        Membership.objects.filter(cluster_id=cluster_id).values_list("namespace", "pseudonym")
    )


def _fingerprint(state: ClusterState) -> tuple[int, int, int, int]:
    return (state.rv, len(state.changed), len(state.removed), len(state.new_events))
