"""kubectl's imperative commands on the engine: delete and its cascade."""

from __future__ import annotations

import pytest

from kubelab.sim import actions, kinds
from kubelab.sim.apiserver import ApiError
from kubelab.sim.apiserver.apply import apply_text
from kubelab.sim.control_loop import settle
from tests.sim.helpers import cluster, deployment_yaml

HPA_AND_INGRESS = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  ingressClassName: nginx
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"""


def test_deleting_a_namespace_deletes_everything_in_it() -> None:
    """The namespace controller deletes every namespaced object in a deleted namespace (its
    pods gracefully), whatever its kind: HPAs and Ingresses too, not only workloads."""
    st = cluster()
    apply_text(st, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    apply_text(
        st, deployment_yaml(replicas=2).replace("metadata:\n", "metadata:\n  namespace: shop\n", 1)
    )
    apply_text(st, HPA_AND_INGRESS)
    settle(st)
    other = apply_text(st, deployment_yaml(name="keep"))
    settle(st)
    in_shop = {
        k.kind
        for k in kinds.stored()
        for o in st.store(k.kind).values()
        if getattr(o, "namespace", "") == "shop"
    }
    assert in_shop == {
        "Deployment",
        "ReplicaSet",
        "Pod",
        "Service",
        "HorizontalPodAutoscaler",
        "Ingress",
    }
    assert actions.delete(st, "Namespace", "", "shop") == ['namespace "shop" deleted']
    settle(st)
    left = [
        (k.kind, o.name)
        for k in kinds.stored()
        for o in st.store(k.kind).values()
        if getattr(o, "namespace", "") == "shop"
    ]
    assert left == []
    assert other == ["deployment.apps/keep created"]
    assert st.get("Deployment", "default", "keep") is not None


def test_the_built_in_ingress_class_is_not_deleted() -> None:
    st = cluster()
    with pytest.raises(
        ApiError, match="comes with its ingress controller and cannot be deleted here"
    ):
        actions.delete(st, "IngressClass", "", "nginx")
    assert "nginx" in st.ingress_classes
    with pytest.raises(ApiError, match='ingressclasses.networking.k8s.io "other" not found'):
        actions.delete(st, "IngressClass", "", "other")
