"""The cluster's store (our "etcd"): one row per API object, plus the cluster's clock and engine state.

Users write ``spec``; controllers write ``status`` and create or delete children. Every object
row keeps uid, resourceVersion and the JSON KubeLab's engine works on; a few columns are
copied out of the JSON and indexed for the queries the hot paths make.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone


class Cluster(models.Model):
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    seed = models.BigIntegerField(default=0)
    scenario = models.TextField(blank=True, default="")
    # The clock: simulated time is sim_anchor + (wall now − wall_anchor) × speed while not paused.
    sim_anchor = models.FloatField(default=0.0)
    wall_anchor = models.DateTimeField(default=timezone.now)
    speed = models.FloatField(default=1.0)
    paused = models.BooleanField(default=False)
    # Optimistic concurrency and delta ordering.
    rv = models.BigIntegerField(default=0)
    seq = models.BigIntegerField(default=0)
    engine = models.JSONField(default=dict)  # ClusterState.engine_json()
    # Which reconcile worker owns the cluster (scale-out) and until when.
    lease_owner = models.CharField(max_length=100, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    # Until when some process holds API watches (or a list that precedes one) on this cluster:
    # while it is in the future, each commit also publishes its changed objects as watch events.
    watched_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def sim_now(self, now: dt.datetime | None = None) -> float:
        if self.paused:
            return self.sim_anchor
        now = now or timezone.now()
        return self.sim_anchor + max((now - self.wall_anchor).total_seconds(), 0.0) * self.speed


class ObjectRow(models.Model):
    """Columns shared by every stored API object: the abstract base of each kind's model (the
    kind's registry entry names its model; ``clusters.store`` maps objects to rows)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    namespace = models.CharField(max_length=63, blank=True, default="")
    name = models.CharField(max_length=253)
    uid = models.CharField(max_length=36)
    resource_version = models.BigIntegerField(default=0)
    generation = models.BigIntegerField(default=1)
    created = models.FloatField(default=0.0)
    deleted = models.FloatField(null=True, blank=True)
    grace = models.IntegerField(null=True, blank=True)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    owner = models.JSONField(null=True, blank=True)
    owner_uid = models.CharField(max_length=36, blank=True, default="", db_index=True)
    spec = models.JSONField(default=dict)
    status = models.JSONField(default=dict)
    sim = models.JSONField(default=dict)

    class Meta:
        abstract = True


class Namespace(ObjectRow):
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="uniq_namespace"),
            models.UniqueConstraint(fields=["cluster", "uid"], name="uniq_namespace_uid"),
        ]


class Node(ObjectRow):
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="uniq_node"),
            models.UniqueConstraint(fields=["cluster", "uid"], name="uniq_node_uid"),
        ]


class Event(models.Model):
    """A core/v1 Event; a cluster keeps its newest 1,000 (like an event TTL)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)  # hash of the correlator's dedupe key
    seq = models.BigIntegerField()
    data = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "key"], name="uniq_event")]
        indexes = [models.Index(fields=["cluster", "seq"])]


class Decision(models.Model):
    """The scheduler's decision record for a pod: written once per attempt, deleted with the pod."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    pod_uid = models.CharField(max_length=36)
    data = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "pod_uid"], name="uniq_decision")]


class Classroom(models.Model):
    """A lesson: one cluster, one instructor, students who join with a short code."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="classroom")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="classrooms"
    )
    title = models.CharField(max_length=200)
    join_code = models.CharField(max_length=12, unique=True)
    projector_token = models.CharField(max_length=64, unique=True)
    closed = models.BooleanField(default=False)
    anonymise = models.BooleanField(default=False)
    announcement = models.CharField(max_length=300, blank=True, default="")
    quota_pods = models.PositiveIntegerField(default=10)
    quota_cpu = models.CharField(max_length=20, default="2")
    quota_memory = models.CharField(max_length=20, default="4Gi")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.join_code})"


class Membership(models.Model):
    """A student of a classroom: a display name, a namespace of their own, a session."""

    ROLE_CHOICES = [("student", "Student")]

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    role = models.CharField(max_length=20, choices=ROLE_CHOICES, default="student")
    display_name = models.CharField(max_length=100, blank=True, default="")
    namespace = models.CharField(max_length=63, blank=True, default="")
    pseudonym = models.CharField(max_length=63, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "namespace"], name="uniq_member_namespace")
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.namespace})"
