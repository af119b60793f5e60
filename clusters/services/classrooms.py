"""Classrooms: create one (with its cluster), students join and leave, the instructor's controls."""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

import yaml
from django.db import transaction
from django.utils.text import slugify

from clusters.access import Actor
from clusters.events import broadcast_on_commit, nudge_on_commit
from clusters.models import Classroom, Cluster, Membership
from kubelab.sim import actions
from kubelab.sim.quantity import QuantityError, parse_quantity
from kubelab.sim.scenario import DEFAULT_NODES, Scenario, load_scenario, run_step

from .clusters import _install_student, cluster_create
from .session import ServiceError, _commit, forget, locked_state
from .writes import cluster_mutate

JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a projector
MAX_STUDENTS = 500
MAX_DISPLAY_NAME = 40
RESERVED_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


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
