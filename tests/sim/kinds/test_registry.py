"""The kind registry: kubectl's names for each kind, its scope and group as kube-apiserver v1.34
publishes them, and the claim the registry exists for: a kind declared once is served by apply,
get, describe, delete, authorization and the browser view without another edit."""

from __future__ import annotations

from typing import Any

import pytest

from kubelab.sim import actions, kinds
from kubelab.sim.apiserver import ApiError
from kubelab.sim.apiserver.apply import apply_text
from kubelab.sim.apiserver.authz import forbidden
from kubelab.sim.kinds import Column, Kind
from kubelab.sim.kubectl import LocalApi, run
from kubelab.sim.objects import KObject
from kubelab.sim.state import QUEUES, ClusterState
from tests.sim.helpers import cluster

# `kubectl api-resources` against kube-apiserver v1.34: NAME, SHORTNAMES, APIVERSION, NAMESPACED.
API_RESOURCES = [
    ("namespaces", ("ns",), "v1", False, "Namespace"),
    ("nodes", ("no",), "v1", False, "Node"),
    ("pods", ("po",), "v1", True, "Pod"),
    ("services", ("svc",), "v1", True, "Service"),
    ("events", ("ev",), "v1", True, "Event"),
    ("deployments", ("deploy",), "apps/v1", True, "Deployment"),
    ("replicasets", ("rs",), "apps/v1", True, "ReplicaSet"),
    ("horizontalpodautoscalers", ("hpa",), "autoscaling/v2", True, "HorizontalPodAutoscaler"),
    ("ingresses", ("ing",), "networking.k8s.io/v1", True, "Ingress"),
    ("ingressclasses", (), "networking.k8s.io/v1", False, "IngressClass"),
]


@pytest.mark.parametrize(("plural", "short", "api_version", "namespaced", "kind"), API_RESOURCES)
def test_entries_say_what_api_resources_lists(
    plural: str, short: tuple[str, ...], api_version: str, namespaced: bool, kind: str
) -> None:
    k = kinds.get(kind)
    assert (k.plural, k.short_names, k.api_version, k.namespaced) == (
        plural,
        short,
        api_version,
        namespaced,
    )


def test_every_kind_is_listed_above() -> None:
    """A kind added to the registry is added to the table above, with upstream's values."""
    assert {k.kind for k in kinds.all_kinds()} == {r[4] for r in API_RESOURCES}


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("pods", "Pod"),
        ("po", "Pod"),
        ("pod", "Pod"),
        ("Pod", "Pod"),
        ("PODS", "Pod"),
        ("deploy", "Deployment"),
        ("deployments.apps", "Deployment"),
        ("deployment.apps", "Deployment"),
        ("replicasets.apps", "ReplicaSet"),
        ("hpa", "HorizontalPodAutoscaler"),
        ("horizontalpodautoscalers.autoscaling", "HorizontalPodAutoscaler"),
        ("ing", "Ingress"),
        ("ingressclasses.networking.k8s.io", "IngressClass"),
        ("ev", "Event"),
        ("no", "Node"),
    ],
)
def test_resource_arguments_resolve_as_kubectl_maps_them(word: str, kind: str) -> None:
    """kubectl's RESTMapper: plural, singular, short name, `plural.group`, case-insensitive."""
    found = kinds.resolve(word)
    assert found is not None and found.kind == kind


def test_unknown_resource_arguments_resolve_to_nothing() -> None:
    assert kinds.resolve("pdos") is None
    assert kinds.resolve("deployments.extensions") is None
    assert kinds.resolve("") is None


def test_resource_and_kubectl_names() -> None:
    """Errors name `deployments.apps`; apply and delete print `deployment.apps/web`, `pod/web`."""
    assert kinds.get("Deployment").resource == "deployments.apps"
    assert kinds.get("Pod").resource == "pods"
    assert kinds.get("Deployment").kubectl_name == "deployment.apps"
    assert kinds.get("HorizontalPodAutoscaler").kubectl_name == (
        "horizontalpodautoscaler.autoscaling"
    )
    assert kinds.get("Service").kubectl_name == "service"


def test_classes_take_their_identity_from_the_entry() -> None:
    for k in kinds.all_kinds():
        if k.cls is not None:
            assert (k.cls.kind, k.cls.api_version, k.cls.namespaced) == (
                k.kind,
                k.api_version,
                k.namespaced,
            )


def test_kinds_feed_only_queues_that_exist() -> None:
    fed = {q for k in kinds.all_kinds() for q in k.feeds}
    assert fed and fed <= set(QUEUES)
    for k in kinds.all_kinds():
        assert (k.enqueue is not None) == bool(k.feeds), k.kind


def test_a_name_claimed_by_two_kinds_is_refused(scratch_registry: None) -> None:
    with pytest.raises(ValueError, match="po claimed by Pod and Potato"):
        kinds.register(Kind(kind="Potato", version="v1", plural="potatoes", short_names=("po",)))


# ----- adding a kind ------------------------------------------------------------------------------
@pytest.fixture
def scratch_registry() -> Any:
    """The registry as it was after the test: a kind registered inside is gone again."""
    saved = dict(kinds._REGISTRY), dict(kinds._NAMES)
    yield
    kinds._REGISTRY.clear()
    kinds._REGISTRY.update(saved[0])
    kinds._NAMES.clear()
    kinds._NAMES.update(saved[1])


class PodDisruptionBudget(KObject):
    pass


def _pdb_row(p: PodDisruptionBudget, now: float) -> list[str]:
    return [
        p.name,
        str(p.spec.get("minAvailable", "N/A")),
        str(p.spec.get("maxUnavailable", "N/A")),
        str(p.status.get("disruptionsAllowed", 0)),
        "0s",
    ]


PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
"""


def test_a_kind_declared_in_one_entry_is_served_everywhere(scratch_registry: None) -> None:
    """One register() call, nothing else: apply creates it and says so in kubectl's words, get
    prints its columns, describe and delete find it, RBAC's refusal names its resource and group,
    and the browser gets its view."""
    kinds.register(
        Kind(
            kind="PodDisruptionBudget",
            group="policy",
            version="v1",
            plural="poddisruptionbudgets",
            short_names=("pdb",),
            cls=PodDisruptionBudget,
            store="pdbs",
            columns=(
                Column("NAME", format="name"),
                Column("MIN AVAILABLE"),
                Column("MAX UNAVAILABLE"),
                Column("ALLOWED DISRUPTIONS", type="integer"),
                Column("AGE"),
            ),
            row=_pdb_row,
            describe=lambda state, p: f"Name:\t{p.name}",
            view=lambda p, now: {"minAvailable": p.spec.get("minAvailable")},
        )
    )
    st = cluster()
    assert apply_text(st, PDB) == ["poddisruptionbudget.policy/web created"]
    assert apply_text(st, PDB) == ["poddisruptionbudget.policy/web unchanged"]
    api = LocalApi(st)
    got = run(api, ["get", "pdb"])
    assert got.out.splitlines() == [
        "NAME   MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE",
        "web    2               N/A               0                     0s",
    ]
    assert run(api, ["describe", "poddisruptionbudgets.policy", "web"]).out == "Name:\tweb\n"
    from clusters.wire import view

    assert view(st.get("PodDisruptionBudget", "default", "web"), st.now)["minAvailable"] == 2
    err = forbidden("ana", "create", "PodDisruptionBudget", "default", "web")
    assert 'poddisruptionbudgets.policy is forbidden: User "ana" cannot create resource' in (
        err.message
    )
    assert 'in API group "policy"' in err.message
    assert actions.delete(st, "PodDisruptionBudget", "default", "web") == [
        'poddisruptionbudget.policy "web" deleted'
    ]
    assert st.get("PodDisruptionBudget", "default", "web") is None
    with pytest.raises(ApiError, match='poddisruptionbudgets.policy "web" not found'):
        actions.delete(st, "PodDisruptionBudget", "default", "web")


def test_without_its_entry_the_same_kind_is_named_as_not_simulated() -> None:
    """The control for the test above: the registry entry is what makes the difference."""
    with pytest.raises(ApiError, match=r"does not simulate PodDisruptionBudget \(policy/v1\) yet"):
        apply_text(cluster(), PDB)
    assert not hasattr(ClusterState(), "pdbs")
