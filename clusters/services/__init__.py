"""The only code that writes a cluster.

Every call is one transaction that holds the cluster row's lock (``select_for_update``; on
SQLite the IMMEDIATE transaction), catches the simulation up to the current simulated time,
applies the change through ``kubelab.sim`` (so users get the API server's answers), saves
only the rows that changed, and — after commit — sends ONE delta to every browser and
nudges the reconciler. Reads take the same lock so they see one consistent state.

A process-local cache keeps the last ClusterState per cluster; it is used only while the
cluster's ``rv`` in the database is the one the cache was saved at, so a write from another
process (or a rolled-back one) always forces a reload. The cache is only read and written while
the cluster's lock is held, and it is updated *before* the commit releases the lock: a thread
waiting for the lock must find the state the previous holder just committed, not reload it.
A user's mistake (an ApiError that changed nothing) does not throw the cached state away.

The rules, and where they are kept:

- **One lock, one transaction.** ``session.locked_state`` is how a call reaches a cluster's
  running state. Threads of one process queue on a Python lock per cluster first (a hand-over,
  not SQLite's busy-wait), then take the row's lock inside ``transaction.atomic()``. Any
  exception that leaves the block rolls the transaction back *and* forgets the cached state.
  Calls that do not need the running state (``cluster_reset`` builds a new one,
  ``classroom_delete``, ``classroom_announce``) lock the row they change with
  ``select_for_update`` in a transaction of their own.
- **The cache follows the database.** A cached state is used only at the ``rv`` it was saved
  at; ``session._commit`` remembers the new state while the lock is still held. ``forget``
  drops a cluster's state (after a reset, a deletion, or in tests to force a load from the
  database).
- **Publication after commit.** ``session._commit`` saves what changed, re-anchors the clock and
  registers ONE delta with ``events.publish_on_commit`` (plus a pseudonymised copy for an
  anonymised classroom's students); nudges (``nudge_on_commit``) and resyncs
  (``broadcast_on_commit``) are also only sent once the transaction has committed, so a browser
  never sees a change that was rolled back.
- **Refusals keep the state.** A read or a user's change that is refused before it changed
  anything (``session._fingerprint`` is the same before and after) still commits the catch-up
  and keeps the cached state; a refusal after a partial change rolls everything back.
- **Actors are checked here again.** A call made on someone's behalf takes their ``Actor``
  (``clusters.access``) and checks it, whatever the view already checked; with an actor,
  ``locked_state`` also has the simulated API server authorize every read and write.

The modules, bottom layer first (each imports only from the ones above it):

- ``session``: the per-cluster lock, the ClusterState cache, ``locked_state``, ``_commit``,
  ``forget``, ``anonymised_namespaces`` (what ``_commit`` publishes to anonymised sockets),
  ``ServiceError``.
- ``reads``: read models: ``cluster_query``, ``cluster_snapshot``, ``roster``.
- ``ticks``: the reconcile worker's unit of work, ``cluster_tick`` and its ``TickInfo``.
- ``writes``: changes to a running cluster: ``cluster_mutate`` (kubectl semantics), ``api_call``
  (one Kubernetes API request, read or write),
  ``manifests_apply``, ``service_load``, ``node_action``, ``node_add``, ``clock_set``,
  ``clock_advance``.
- ``clusters``: a cluster's lifecycle: ``cluster_create``, ``cluster_reset``,
  ``demo_cluster_ensure``, and a student's namespace and quota (a reset recreates them).
- ``classrooms``: ``classroom_create``, ``student_join``, ``student_remove``,
  ``classroom_update``, ``classroom_delete``, ``classroom_announce``, ``scenario_step_run``,
  ``namespace_for`` and the classroom limits (``MAX_STUDENTS``, ``MAX_DISPLAY_NAME``, …).

Callers use the package (``from clusters import services; services.manifests_apply(...)``);
the names below are its public interface. Private helpers stay in their module.
"""

from __future__ import annotations

from .classrooms import (
    JOIN_ALPHABET,
    MAX_DISPLAY_NAME,
    MAX_STUDENTS,
    RESERVED_NAMESPACES,
    classroom_announce,
    classroom_create,
    classroom_delete,
    classroom_update,
    namespace_for,
    scenario_step_run,
    student_join,
    student_remove,
)
from .clusters import cluster_create, cluster_reset, demo_cluster_ensure
from .reads import cluster_query, cluster_snapshot, roster, snapshot_texts
from .session import ServiceError, anonymised_namespaces, forget, locked_state
from .ticks import TickInfo, cluster_tick
from .writes import (
    NODE_ACTIONS,
    api_call,
    clock_advance,
    clock_set,
    cluster_mutate,
    manifests_apply,
    node_action,
    node_add,
    service_load,
)

__all__ = [
    "JOIN_ALPHABET",
    "MAX_DISPLAY_NAME",
    "MAX_STUDENTS",
    "NODE_ACTIONS",
    "RESERVED_NAMESPACES",
    "ServiceError",
    "TickInfo",
    "anonymised_namespaces",
    "api_call",
    "classroom_announce",
    "classroom_create",
    "classroom_delete",
    "classroom_update",
    "clock_advance",
    "clock_set",
    "cluster_create",
    "cluster_mutate",
    "cluster_query",
    "cluster_reset",
    "cluster_snapshot",
    "cluster_tick",
    "demo_cluster_ensure",
    "forget",
    "locked_state",
    "manifests_apply",
    "namespace_for",
    "node_action",
    "node_add",
    "roster",
    "snapshot_texts",
    "scenario_step_run",
    "service_load",
    "student_join",
    "student_remove",
]
