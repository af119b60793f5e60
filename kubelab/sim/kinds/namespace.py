"""Namespace (core/v1, cluster-scoped): a name scope; a student's carries their quota."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.objects import KObject

from . import Column, Kind, register


class Namespace(KObject):
    pass


def _row(ns: Namespace, now: float) -> list[str]:
    return [ns.name, ns.status.get("phase", "Active"), printers.age(ns, now)]


def _prepare_create(state: Any, ns: Namespace) -> None:
    """namespaceStrategy.PrepareForCreate and the NamespaceLifecycle label."""
    ns.status = {"phase": "Active"}
    ns.labels.setdefault("kubernetes.io/metadata.name", ns.name)


def _view(ns: Namespace, now: float) -> dict[str, Any]:
    return {"phase": ns.status.get("phase", "Active")}


KIND = register(
    Kind(
        kind="Namespace",
        version="v1",
        plural="namespaces",
        short_names=("ns",),
        namespaced=False,
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        subresources=("finalize", "status"),
        cls=Namespace,
        store="namespaces",
        model="clusters.Namespace",
        columns=(
            Column("Name", format="name"),
            Column("Status", description="The status of the namespace"),
            Column("Age"),
        ),
        row=_row,
        sort_key=lambda o: o.name,
        describe=printers.describe_namespace,
        view=_view,
        name_rule="label",
        prepare_create=_prepare_create,
        fields={"status.phase": ("status.phase", "Active")},
    )
)
