"""Read models: a query run on the current state, the snapshot a browser starts from, the roster."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from clusters import wire
from clusters.access import Actor
from clusters.models import Cluster, Membership
from kubelab.sim.state import ClusterState

from .session import _commit, _fingerprint, anonymised_namespaces, locked_state

T = TypeVar("T")


def cluster_query(cluster_id: int, fn: Callable[[ClusterState], T], *, actor: Actor) -> T:
    actor.require_view()
    error: Exception | None = None
    with locked_state(cluster_id, actor) as (_cluster, state, _now):
        before = _fingerprint(state)
        try:
            result = fn(state)
        except Exception as e:  # Http404, ApiError, KeyError: refusals of a read
            if _fingerprint(state) != before:
                raise
            error = e  # a refused read changed nothing: keep the (cached) state
    if error is not None:
        raise error
    return result


def cluster_snapshot(cluster_id: int, *, actor: Actor) -> dict[str, Any]:
    """The whole state as the actor may see it (an anonymised classroom's students: pseudonyms)."""
    actor.require_view()
    with locked_state(cluster_id) as (cluster, state, _now):
        _commit(cluster, state, _now)
        snap = wire.snapshot(state, cluster.seq, wire.clock_view(cluster, state), cluster.slug)
    if actor.anonymise:
        snap = wire.anonymise(snap, anonymised_namespaces(cluster_id) or {})
    return snap


# Snapshots as WebSocket texts, per cluster and audience (everyone, or an anonymised classroom's
# students), for as long as the cluster's seq is the one they were made at: a class that connects
# at once costs one snapshot, not one per browser (at 5,000 pods each is ~0.25 s of CPU).
_texts: OrderedDict[tuple[int, bool], tuple[tuple[int, Any], int, list[str]]] = OrderedDict()
_texts_guard = threading.Lock()
_texts_locks: dict[tuple[int, bool], threading.Lock] = {}
MAX_CACHED_SNAPSHOTS = 32
_SERVER_WALL = re.compile(r'"serverWall":[0-9.eE+-]+')


def snapshot_texts(cluster_id: int, *, actor: Actor) -> tuple[int, list[str]]:
    """The snapshot the actor may see as the texts of its WebSocket messages (``wire.texts``),
    and its seq. Browsers that connect while the cluster is at the same seq share one; only its
    ``serverWall`` (the server's clock, for the browser's correction) is the time of the call."""
    actor.require_view()
    key = (cluster_id, actor.anonymise)
    with _texts_guard:
        build = _texts_locks.setdefault(key, threading.Lock())
    with build:  # one build at a time per cluster and audience; the others then find it made
        row = Cluster.objects.filter(pk=cluster_id).values_list("seq", "created_at").first()
        if row is None:
            raise Cluster.DoesNotExist(f"cluster {cluster_id}")
        with _texts_guard:
            made = _texts.get(key)
        if made is None or made[0] != row:
            snap = cluster_snapshot(cluster_id, actor=actor)
            made = ((snap["seq"], row[1]), snap["seq"], wire.texts(snap))
            with _texts_guard:
                _texts[key] = made
                _texts.move_to_end(key)
                while len(_texts) > MAX_CACHED_SNAPSHOTS:
                    _texts.popitem(last=False)
    _made_at, seq, texts = made
    head = texts[0]
    fresh = _SERVER_WALL.sub(f'"serverWall":{time.time()}', head[:200], count=1) + head[200:]
    return seq, [fresh, *texts[1:]]


def roster(cluster_id: int, *, actor: Actor) -> list[dict[str, Any]]:
    """Each student with their objects and how they are doing ("3/3 ready", "ImagePullBackOff")."""
    actor.require_operate("see the roster")
    members = list(Membership.objects.filter(cluster_id=cluster_id))

    def read(state: ClusterState) -> list[dict[str, Any]]:
        from kubelab.sim.printers import pod_status

        # One pass over the cluster, not one per student (300 students × every pod, every 3 s).
        deps_in: dict[str, list[Any]] = {}
        pods_in: dict[str, list[Any]] = {}
        for d in state.deployments.values():
            deps_in.setdefault(d.namespace, []).append(d)
        for p in state.pods.values():
            pods_in.setdefault(p.namespace, []).append(p)
        out = []
        for m in members:
            deps = deps_in.get(m.namespace, [])
            pods = pods_in.get(m.namespace, [])
            counts: dict[str, int] = {}
            for p in pods:
                st_ = pod_status(p)
                counts[st_] = counts.get(st_, 0) + 1
            fine = ("Running", "Completed", "Terminating", "ContainerCreating", "PodInitializing")
            problems = sorted(s for s in counts if s not in fine)
            statuses = [
                {"status": s, "count": n, "problem": s not in fine}
                for s, n in sorted(counts.items(), key=lambda kv: (kv[0] in fine, kv[0]))
            ]
            out.append(
                {
                    "id": m.pk,
                    "name": m.display_name,
                    "namespace": m.namespace,
                    "pseudonym": m.pseudonym,
                    "deployments": [
                        {
                            "name": d.name,
                            "ready": f"{int(d.status.get('readyReplicas', 0))}/{d.replicas}",
                        }
                        for d in sorted(deps, key=lambda d: d.name)
                    ],
                    "pods": len([p for p in pods if p.deleted is None]),
                    "problems": problems,
                    "statuses": statuses,
                    "joined": m.created_at,
                }
            )
        return out

    return cluster_query(cluster_id, read, actor=actor)
