"""IngressClass (networking.k8s.io/v1, cluster-scoped): the cluster's one class, ``nginx``,
installed with its ingress controller (ingress-nginx), not created through the API here."""

from __future__ import annotations

from typing import Any

from kubelab.sim import printers
from kubelab.sim.objects import KObject

from . import Column, Kind, register


class IngressClass(KObject):
    pass


def _row(c: IngressClass, now: float) -> list[str]:
    """printIngressClass."""
    return [c.name, c.spec.get("controller", ""), "<none>", printers.age(c, now)]


def _items(state: Any) -> Any:
    return state.ingress_classes.values()


KIND = register(
    Kind(
        kind="IngressClass",
        group="networking.k8s.io",
        version="v1",
        plural="ingressclasses",
        namespaced=False,
        cls=IngressClass,
        columns=(
            Column("Name", format="name"),
            Column(
                "Controller", description="Controller that is responsible for handling this class"
            ),
            Column(
                "Parameters", description="A reference to a resource with additional parameters"
            ),
            Column("Age"),
        ),
        row=_row,
        items=_items,
        sort_key=lambda o: o.name,
        describe=printers.describe_ingressclass,
        applicable=False,
        built_in_by="its ingress controller",
        refusal="error: KubeLab's one IngressClass, nginx, comes with its ingress controller "
        "(kubectl get ingressclass); IngressClasses are not created or changed here",
    )
)
