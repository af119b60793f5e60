"""The kubectl subset over the service layer: what ``manage.py kubectl`` and the web console use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kubelab.sim.state import ClusterState

from . import services
from .access import Actor

T = TypeVar("T")


@dataclass
class ServiceApi:
    cluster_id: int
    actor: Actor

    def query(self, fn: Callable[[ClusterState], T]) -> T:
        return services.cluster_query(self.cluster_id, fn, actor=self.actor)

    def mutate(self, fn: Callable[[ClusterState], list[str]]) -> list[str]:
        return services.cluster_mutate(self.cluster_id, fn, actor=self.actor)
