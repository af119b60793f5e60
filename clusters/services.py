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
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from kubelab.sim import actions, lesson, traffic
from kubelab.sim.apiserver import ApiError, quota
from kubelab.sim.apiserver.apply import apply_text
from kubelab.sim.apiserver.authz import authorize
from kubelab.sim.clock import MAX_SPEED, MIN_SPEED
from kubelab.sim.control_loop import advance, skip_to_next
from kubelab.sim.quantity import QuantityError, parse_quantity
from kubelab.sim.scenario import DEFAULT_NODES, Scenario, build_cluster, load_scenario, run_step
from kubelab.sim.state import ClusterState

from . import access, store, wire
from .access import Actor
from .events import broadcast_on_commit, nudge_on_commit, publish_on_commit
from .models import Classroom, Cluster, Event, Membership

T = TypeVar("T")
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
            wire.dumps(message),
            wire.dumps(wire.anonymise(message, pseudonyms)) if pseudonyms is not None else None,
        )
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


# ----- reads ---------------------------------------------------------------------------------------
def _fingerprint(state: ClusterState) -> tuple[int, int, int, int]:
    return (state.rv, len(state.changed), len(state.removed), len(state.new_events))


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


# ----- the reconcile tick ------------------------------------------------------------------------------
@dataclass
class TickInfo:
    next_timer: float | None  # simulated time of the next timer
    sim_anchor: float
    wall_anchor: dt.datetime
    speed: float
    paused: bool
    pending: bool  # work left in a queue (e.g. more than burstReplicas to create)
    wrote: bool
    rv: int = 0

    def next_due_wall(self) -> dt.datetime | None:
        if self.paused or self.next_timer is None:
            return None
        return self.wall_anchor + dt.timedelta(
            seconds=max(self.next_timer - self.sim_anchor, 0.0) / self.speed
        )


def cluster_tick(cluster_id: int) -> TickInfo:
    """Advance a cluster to the current simulated time (the worker's unit of work)."""
    with locked_state(cluster_id) as (cluster, state, now):
        wrote = bool(state.changed or state.removed or state.new_events)
        _commit(cluster, state, now)
        return TickInfo(
            state.next_timer_at(),
            state.now if wrote else cluster.sim_anchor,
            now if wrote else cluster.wall_anchor,
            cluster.speed,
            cluster.paused,
            state.pending_work(),
            wrote,
            cluster.rv,
        )


# ----- writes ----------------------------------------------------------------------------------------
def cluster_mutate(
    cluster_id: int, fn: Callable[[ClusterState], list[str]], *, actor: Actor
) -> list[str]:
    """Apply a user's change (kubectl semantics); ApiError rolls everything back.

    The simulated API server checks each object against the actor (``access.authorizer``)."""
    actor.require_view()
    if not actor.can_write and not actor.closed:
        raise access.Forbidden("forbidden: this view is read only")
    if actor.closed and actor.role == "student":
        raise access.Forbidden("error: this classroom is closed; your namespace is read-only now")
    error: ApiError | None = None
    lines: list[str] = []
    with locked_state(cluster_id, actor) as (cluster, state, _now):
        before = _fingerprint(state)
        try:
            lines = fn(state)
        except ApiError as e:
            if _fingerprint(state) != before:
                raise  # a partial change: roll everything back (and reload next time)
            error = e  # refused before it changed anything: the catch-up still commits
        else:
            nudge_on_commit(cluster.pk)
    if error is not None:
        raise error
    return lines


def manifests_apply(
    *,
    cluster_id: int,
    text: str | bytes,
    namespace: str = "default",
    filename: str = "STDIN",
    dry_run: bool = False,
    actor: Actor,
) -> list[str]:
    return cluster_mutate(
        cluster_id,
        lambda st: apply_text(st, text, filename=filename, namespace=namespace, dry_run=dry_run),
        actor=actor,
    )


NODE_ACTIONS: dict[str, Callable[..., list[str]]] = {
    "fail": actions.fail_node,
    "recover": actions.recover_node,
    "cordon": lambda st, n: actions.cordon(st, n, True),
    "uncordon": lambda st, n: actions.cordon(st, n, False),
    "drain": lambda st, n: actions.drain(st, n, force=True),
    "remove": actions.remove_node,
}


def service_load(
    *,
    cluster_id: int,
    namespace: str,
    service: str,
    rps: float,
    profile: str = "steady",
    peak: float | None = None,
    duration: float = 60.0,
    actor: Actor,
    kind: str = "Service",
    host: str = "",
    path: str = "/",
) -> list[str]:
    """Simulated clients for a Service, or for an Ingress host and path (the instructor's, or a
    student's on their own objects)."""

    def run(st: ClusterState) -> list[str]:
        authorize(st, "patch", kind, namespace, service)
        if kind == "Ingress":
            return traffic.set_ingress_load(
                st,
                namespace,
                service,
                rps,
                host=host,
                path=path,
                profile=profile,
                peak=peak,
                duration=duration,
            )
        return traffic.set_load(
            st, namespace, service, rps, profile=profile, peak=peak, duration=duration
        )

    return cluster_mutate(cluster_id, run, actor=actor)


def node_action(*, cluster_id: int, node: str, action: str, actor: Actor) -> list[str]:
    actor.require_operate(f"{action} nodes")
    fn = NODE_ACTIONS.get(action)
    if fn is None:
        raise ServiceError(f"unknown node action {action!r}: use one of {', '.join(NODE_ACTIONS)}")
    return cluster_mutate(cluster_id, lambda st: fn(st, node), actor=actor)


def node_add(
    *,
    cluster_id: int,
    name: str,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: int = 110,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    actor: Actor,
) -> list[str]:
    actor.require_operate("add nodes")
    return cluster_mutate(
        cluster_id,
        lambda st: actions.add_node(
            st, name, cpu=cpu, memory=memory, pods=pods, labels=labels, taints=taints
        ),
        actor=actor,
    )


def clock_set(
    *, cluster_id: int, paused: bool | None = None, speed: float | None = None, actor: Actor
) -> dict[str, Any]:
    """Pause, resume or change speed; the clock is re-anchored at the current simulated time."""
    actor.require_operate("change the clock")
    if speed is not None and not MIN_SPEED <= speed <= MAX_SPEED:
        raise ServiceError(f"speed must be between {MIN_SPEED:g}x and {MAX_SPEED:g}x")
    with locked_state(cluster_id) as (cluster, state, now):
        if paused is not None:
            cluster.paused = paused
        if speed is not None:
            cluster.speed = speed
        state.clock.paused, state.clock.speed = cluster.paused, cluster.speed
        _commit(cluster, state, now, force=True)
        nudge_on_commit(cluster.pk)
        return wire.clock_view(cluster, state)


def clock_advance(*, cluster_id: int, mode: str, actor: Actor) -> float:
    """``step``: one second of simulated time; ``skip``: straight to the next timer (at most an hour)."""
    actor.require_operate("change the clock")
    with locked_state(cluster_id) as (cluster, state, now):
        if mode == "skip":
            skip_to_next(state, limit=3600.0)
        elif mode == "step":
            advance(state, state.now + 1.0)
        else:
            raise ServiceError(f"unknown clock action {mode!r}")
        _commit(cluster, state, now, force=True)
        nudge_on_commit(cluster.pk)
        return state.now


# ----- cluster lifecycle -----------------------------------------------------------------------------
def _initial_state(scenario: Scenario, slug: str) -> ClusterState:
    state = build_cluster(scenario, name=slug)
    for step in scenario.steps:
        if step.at == 0:
            run_step(state, step)
    lesson.schedule(state, scenario.steps)  # the later steps run when the clock reaches them
    return state


def cluster_create(*, slug: str, name: str = "", scenario_text: str = "") -> Cluster:
    try:
        scenario = load_scenario(scenario_text, "scenario") if scenario_text else Scenario()
        state = _initial_state(scenario, slug)
    except (ApiError, ValueError) as e:
        raise ServiceError(str(e)) from None
    with transaction.atomic():
        cluster = Cluster.objects.create(
            slug=slug,
            name=name or scenario.name or slug,
            seed=scenario.seed,
            scenario=scenario_text,
            wall_anchor=timezone.now(),
        )
        _store_new(cluster, state)
    return cluster


def _store_new(cluster: Cluster, state: ClusterState) -> None:
    # Everything is new: mark the objects changed so the store creates their rows.
    for obj in state.all_objects():
        state.changed[(obj.kind, state.store_key(obj))] = obj
    for ev in state.events.values():
        state.new_events[ev.dedupe_key] = ev
    store.save_changes(cluster, state)
    cluster.sim_anchor = state.now
    cluster.seq += 1
    cluster.save()
    state.reset_changes()
    nudge_on_commit(cluster.pk)


def cluster_reset(*, cluster_id: int, scenario_text: str | None = None, actor: Actor) -> Cluster:
    """Start the cluster again from its scenario (or a new one); browsers get a fresh snapshot.

    A classroom's students keep their memberships: their namespaces and quotas are recreated."""
    actor.require_operate("reset the cluster")
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
        text = cluster.scenario if scenario_text is None else scenario_text
        try:
            scenario = load_scenario(text, "scenario") if text else Scenario()
            state = _initial_state(scenario, cluster.slug)
        except (ApiError, ValueError) as e:
            raise ServiceError(str(e)) from None
        for model in store.object_models().values():
            model.objects.filter(cluster=cluster).delete()
        Event.objects.filter(cluster=cluster).delete()
        cluster.scenario, cluster.seed = text, scenario.seed
        cluster.engine, cluster.rv = {}, 0
        cluster.paused, cluster.speed = False, 1.0
        cluster.wall_anchor = timezone.now()
        forget(cluster.pk)
        classroom = Classroom.objects.filter(cluster=cluster).first()
        if classroom is not None:
            for ns in Membership.objects.filter(cluster=cluster).values_list(
                "namespace", flat=True
            ):
                _install_student(state, classroom, ns)
            state.reset_changes()
        _store_new(cluster, state)
        broadcast_on_commit(cluster.pk, {"type": "cluster.resync", "seq": cluster.seq})
    return cluster


def demo_cluster_ensure() -> Cluster:
    """The demo cluster (slug ``demo``) from the bundled node-failure lesson, created once."""
    existing = Cluster.objects.filter(slug="demo").first()
    if existing is not None:
        return existing
    from pathlib import Path

    text = (
        Path(__file__).resolve().parent.parent / "kubelab" / "scenarios" / "demo.yaml"
    ).read_text()
    return cluster_create(slug="demo", name="demo", scenario_text=text)


# ----- classrooms ------------------------------------------------------------------------------------
JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a projector
MAX_STUDENTS = 500
MAX_DISPLAY_NAME = 40
RESERVED_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


def _quota_policy(classroom: Classroom) -> tuple[dict[str, Any], dict[str, Any]]:
    quota = {
        "name": "student-quota",
        "hard": {
            "pods": str(classroom.quota_pods),
            "requests.cpu": classroom.quota_cpu,
            "requests.memory": classroom.quota_memory,
        },
    }
    # So that a Deployment without requests still fits the quota (what course clusters do).
    limits = {"name": "student-defaults", "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}
    return quota, limits


def _install_student(state: ClusterState, classroom: Classroom, namespace: str) -> None:
    if namespace not in state.namespaces:
        apply_text(state, f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n")
    q, lim = _quota_policy(classroom)
    quota.set_policy(state, namespace, quota=q, limits=lim)


def _scenario_with_workers(
    text: str, workers: int | None, cpu: str | None, memory: str | None
) -> str:
    """The scenario's text with its worker nodes replaced (the classroom form's node count and size)."""
    if workers is None:
        return text
    data = yaml.safe_load(text) if text else {}
    if not isinstance(data, dict):
        data = {}
    nodes = [dict(n) for n in (data.get("nodes") or DEFAULT_NODES)]
    control = [n for n in nodes if n.get("role") == "control-plane"]
    data["nodes"] = control + [
        {"name": f"worker-{i}", "cpu": cpu or "4", "memory": memory or "8Gi", "pods": 110}
        for i in range(1, workers + 1)
    ]
    return yaml.safe_dump(data, sort_keys=False)


def classroom_create(
    *,
    owner: Any,
    title: str,
    scenario_text: str = "",
    workers: int | None = None,
    worker_cpu: str | None = None,
    worker_memory: str | None = None,
    quota_pods: int = 10,
    quota_cpu: str = "2",
    quota_memory: str = "4Gi",
) -> Classroom:
    """A new classroom: its cluster from a scenario, a join code and a projector link."""
    title = title.strip()[:200]
    if not title:
        raise ServiceError("a classroom needs a title")
    if workers is not None and not 1 <= workers <= 50:
        raise ServiceError("workers must be between 1 and 50")
    _check_quota(quota_pods, quota_cpu, quota_memory)
    for label, value in (("worker CPU", worker_cpu), ("worker memory", worker_memory)):
        if value is not None:
            try:
                parse_quantity(value)
            except QuantityError:
                raise ServiceError(f"{label}: {value!r} is not a quantity") from None
    text = _scenario_with_workers(scenario_text, workers, worker_cpu, worker_memory)
    base = slugify(title)[:40] or "class"
    with transaction.atomic():
        for _ in range(20):
            code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(6))
            slug = f"{base}-{code.lower()}"
            if not Classroom.objects.filter(join_code=code).exists() and not (
                Cluster.objects.filter(slug=slug).exists()
            ):
                break
        cluster = cluster_create(slug=slug, name=title, scenario_text=text)
        return Classroom.objects.create(
            cluster=cluster,
            owner=owner,
            title=title,
            join_code=code,
            projector_token=secrets.token_urlsafe(24),
            quota_pods=quota_pods,
            quota_cpu=quota_cpu,
            quota_memory=quota_memory,
        )


def _check_quota(pods: int, cpu: str, memory: str) -> None:
    if not 0 <= pods <= 1000:
        raise ServiceError("the pod quota must be between 0 and 1000")
    for label, value in (("CPU quota", cpu), ("memory quota", memory)):
        try:
            if parse_quantity(value) < 0:
                raise QuantityError(value)
        except QuantityError:
            raise ServiceError(
                f"{label}: {value!r} is not a quantity (e.g. 2, 500m, 4Gi)"
            ) from None


def namespace_for(display_name: str, taken: set[str]) -> str:
    """A DNS-1123 label from a display name: ``Ana María`` → ``ana-maria``; unique in ``taken``."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-") or "student"
    if base in RESERVED_NAMESPACES or base.startswith("kube-"):
        base = f"student-{base}"[:40].strip("-")
    name, n = base, 2
    while name in taken:
        name = f"{base}-{n}"
        n += 1
    return name


def student_join(*, code: str, display_name: str) -> Membership:
    """A student joins with the classroom's code: a namespace of their own, with the class quota."""
    display_name = " ".join(display_name.split())
    if not display_name:
        raise ServiceError("enter the name the class should see")
    if len(display_name) > MAX_DISPLAY_NAME or not display_name.isprintable():
        raise ServiceError(f"a name is at most {MAX_DISPLAY_NAME} printable characters")
    classroom = (
        Classroom.objects.select_related("cluster")
        .filter(join_code=code.strip().upper().replace(" ", ""))
        .first()
    )
    if classroom is None:
        raise ServiceError("no classroom has that code; check it on the projector")
    if classroom.closed:
        raise ServiceError("this classroom is closed")
    with locked_state(classroom.cluster_id) as (cluster, state, now):
        members = Membership.objects.filter(cluster=cluster)
        count = members.count()
        if count >= MAX_STUDENTS:
            raise ServiceError(f"this classroom is full ({MAX_STUDENTS} students)")
        taken = set(members.values_list("namespace", flat=True)) | set(state.namespaces)
        namespace = namespace_for(display_name, taken)
        member = Membership.objects.create(
            cluster=cluster,
            role="student",
            display_name=display_name,
            namespace=namespace,
            pseudonym=f"student-{count + 1}",
        )
        _install_student(state, classroom, namespace)
        nudge_on_commit(cluster.pk)
        return member


def student_remove(*, cluster_id: int, membership_id: int, actor: Actor) -> str:
    """Remove a student: their namespace and everything in it is deleted, their session ends."""
    actor.require_operate("remove students")
    with locked_state(cluster_id) as (cluster, state, now):
        member = Membership.objects.filter(pk=membership_id, cluster=cluster).first()
        if member is None:
            raise ServiceError("no such student in this classroom")
        if member.namespace in state.namespaces:
            actions.delete(state, "Namespace", "", member.namespace)
        member.delete()
        nudge_on_commit(cluster.pk)
        return f'namespace "{member.namespace}" deleted'


def classroom_update(
    *,
    classroom_id: int,
    actor: Actor,
    closed: bool | None = None,
    anonymise: bool | None = None,
    quota_pods: int | None = None,
    quota_cpu: str | None = None,
    quota_memory: str | None = None,
) -> Classroom:
    """Close or reopen, anonymise, or change every student's quota (applies to new pods)."""
    actor.require_operate("change the classroom")
    classroom = Classroom.objects.get(pk=classroom_id)
    with locked_state(classroom.cluster_id) as (cluster, state, now):
        classroom = Classroom.objects.select_for_update().get(pk=classroom_id)
        if closed is not None:
            classroom.closed = closed
        if anonymise is not None:
            classroom.anonymise = anonymise
        if quota_pods is not None or quota_cpu is not None or quota_memory is not None:
            pods = classroom.quota_pods if quota_pods is None else quota_pods
            cpu = quota_cpu or classroom.quota_cpu
            mem = quota_memory or classroom.quota_memory
            _check_quota(pods, cpu, mem)
            classroom.quota_pods, classroom.quota_cpu, classroom.quota_memory = pods, cpu, mem
            for ns in Membership.objects.filter(cluster=cluster).values_list(
                "namespace", flat=True
            ):
                if ns in state.namespaces:
                    _install_student(state, classroom, ns)
        classroom.save()
        _commit(cluster, state, now, force=True)
        cid = cluster.pk
        broadcast_on_commit(cid, {"type": "cluster.resync", "seq": 0})
    return classroom


def classroom_delete(*, classroom_id: int, actor: Actor) -> None:
    actor.require_operate("delete the classroom")
    with transaction.atomic():
        classroom = Classroom.objects.select_for_update().get(pk=classroom_id)
        cluster_id = classroom.cluster_id
        Cluster.objects.filter(pk=cluster_id).delete()
        forget(cluster_id)
        broadcast_on_commit(cluster_id, {"type": "cluster.gone"})


def classroom_announce(*, cluster_id: int, text: str, actor: Actor) -> str:
    """Show a line of text (the next step of the lesson) on every screen of the class."""
    actor.require_operate("announce to the class")
    text = " ".join(text.split())[:300]
    with transaction.atomic():
        classroom = Classroom.objects.select_for_update().get(cluster_id=cluster_id)
        classroom.announcement = text
        classroom.save(update_fields=["announcement"])
        broadcast_on_commit(cluster_id, {"type": "cluster.announce", "text": text})
    return text


def scenario_step_run(*, cluster_id: int, index: int, actor: Actor) -> list[str]:
    """Run one step of the cluster's scenario now (the instructor moves the lesson on)."""
    actor.require_operate("run lesson steps")
    cluster = Cluster.objects.get(pk=cluster_id)
    try:
        scenario = load_scenario(cluster.scenario, "scenario") if cluster.scenario else Scenario()
    except ValueError as e:
        raise ServiceError(str(e)) from None
    if not 0 <= index < len(scenario.steps):
        raise ServiceError("no such step in this lesson")
    return cluster_mutate(cluster_id, lambda st: run_step(st, scenario.steps[index]), actor=actor)


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
