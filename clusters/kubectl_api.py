"""The kubectl subset over the service layer: what ``manage.py kubectl`` and the web console use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kubelab.sim.state import ClusterState

from . import services

T = TypeVar("T")


@dataclass
class ServiceApi:
    cluster_id: int

    def query(self, fn: Callable[[ClusterState], T]) -> T:
        return services.cluster_query(self.cluster_id, fn)

    def mutate(self, fn: Callable[[ClusterState], list[str]]) -> list[str]:
        return services.cluster_mutate(self.cluster_id, fn)
