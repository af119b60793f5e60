"""Workload objects of a simulated cluster: Deployments, ReplicaSets, Pods, Services."""

from __future__ import annotations

from django.db import models

from clusters.models import ObjectRow


class Deployment(ObjectRow):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace", "name"], name="uniq_deployment"
            ),
            models.UniqueConstraint(fields=["cluster", "uid"], name="uniq_deployment_uid"),
        ]


class ReplicaSet(ObjectRow):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace", "name"], name="uniq_replicaset"
            ),
            models.UniqueConstraint(fields=["cluster", "uid"], name="uniq_replicaset_uid"),
        ]


class Pod(ObjectRow):
    node_name = models.CharField(max_length=253, blank=True, default="")
    phase = models.CharField(max_length=20, blank=True, default="Pending")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "namespace", "name"], name="uniq_pod"),
            models.UniqueConstraint(fields=["cluster", "uid"], name="uniq_pod_uid"),
        ]
        indexes = [
            models.Index(fields=["cluster", "node_name"]),
            models.Index(fields=["cluster", "phase"]),
        ]


class Service(ObjectRow):
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "namespace", "name"], name="uniq_service"),
            models.UniqueConstraint(fields=["cluster", "uid"], name="uniq_service_uid"),
        ]


class HorizontalPodAutoscaler(ObjectRow):
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "namespace", "name"], name="uniq_hpa"),
            models.UniqueConstraint(fields=["cluster", "uid"], name="uniq_hpa_uid"),
        ]


class Ingress(ObjectRow):
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "namespace", "name"], name="uniq_ingress"),
            models.UniqueConstraint(fields=["cluster", "uid"], name="uniq_ingress_uid"),
        ]
