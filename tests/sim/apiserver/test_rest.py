"""The Kubernetes API over a ClusterState (kubelab.sim.apiserver.rest), without a database.

Each test names the upstream behaviour it holds us to: the Status shapes of
k8s.io/apimachinery/pkg/api/errors, the handlers of k8s.io/apiserver/pkg/endpoints/handlers,
and what kubectl reads from discovery and Tables (the measured facts in the README's API section).
"""

from __future__ import annotations

import json

import pytest

from kubelab.sim import kinds
from kubelab.sim.apiserver import discovery, rest
from kubelab.sim.apiserver.authz import forbidden
from tests.sim.helpers import apply, cluster, deployment_yaml, run_until, workers

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def call(state, method, path, body=None, content_type="application/json", accept="", **query):
    data = (
        body
        if isinstance(body, bytes)
        else (json.dumps(body).encode() if body is not None else b"")
    )
    req = rest.Request(
        method,
        path,
        {k: [str(v)] for k, v in query.items()},
        content_type=content_type if data else "",
        accept=accept,
        body=data,
    )
    return rest.handle(state, req)


@pytest.fixture
def state():
    st = cluster(workers(3))
    apply(st, deployment_yaml(name="web", replicas=3))
    run_until(st, 60)
    return st


def deployment(name="api", replicas=2, **spec_extra):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "creationTimestamp": None},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "nginx:1.27"}]},
            },
            **spec_extra,
        },
    }


def test_discovery_lists_every_registered_kind_with_its_scope_and_verbs():
    # kubectl's RESTMapper reads resource, kind, scope, verbs and short names from discovery.
    agg = discovery.aggregated(False)
    names = {r["resource"]: r for g in agg["items"] for v in g["versions"] for r in v["resources"]}
    core = {
        r["resource"]: r
        for g in discovery.aggregated(True)["items"]
        for v in g["versions"]
        for r in v["resources"]
    }
    for k in kinds.all_kinds():
        entry = (core if not k.group else names)[k.plural]
        assert entry["responseKind"] == {"group": k.group, "version": k.version, "kind": k.kind}
        assert entry["scope"] == ("Namespaced" if k.namespaced else "Cluster")
    assert names["deployments"]["shortNames"] == ["deploy"]
    scale = next(s for s in names["deployments"]["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    legacy = discovery.resource_list("", "v1")
    eviction = next(r for r in legacy["resources"] if r["name"] == "pods/eviction")
    assert (eviction["group"], eviction["version"], eviction["kind"]) == (
        "policy",
        "v1",
        "Eviction",
    )


def test_aggregated_discovery_has_the_content_type_kubectl_requires(state):
    # Measured: with plain application/json kubectl misreads aggregated discovery.
    r = call(
        state,
        "GET",
        "/apis",
        accept="application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    )
    assert r.content_type == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    plain = call(state, "GET", "/apis")
    assert plain.body["kind"] == "APIGroupList"


def test_version_is_v1_34(state):
    body = call(state, "GET", "/version").body
    assert (body["major"], body["minor"], body["gitVersion"]) == ("1", "34", "v1.34.2")


def test_table_list_carries_columns_and_row_metadata(state):
    # kubectl prints -A's NAMESPACE and --show-labels from rows[].object (PartialObjectMetadata).
    r = call(state, "GET", "/api/v1/pods", accept=TABLE)
    assert r.body["kind"] == "Table"
    names = [c["name"] for c in r.body["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert [c["priority"] for c in r.body["columnDefinitions"]][5:] == [1, 1, 1, 1]
    assert len(r.body["rows"]) == 3
    row = r.body["rows"][0]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["namespace"] == "default"
    assert row["object"]["metadata"]["labels"]["app"] == "web"
    assert row["cells"][1] == "1/1" and row["cells"][2] == "Running"


def test_label_and_field_selectors_filter_a_list(state):
    node = next(iter(state.nodes))
    by_label = call(state, "GET", "/api/v1/namespaces/default/pods", labelSelector="app=web")
    assert len(by_label.body["items"]) == 3
    none = call(state, "GET", "/api/v1/namespaces/default/pods", labelSelector="app in (db,cache)")
    assert none.body["items"] == []
    on_node = call(state, "GET", "/api/v1/pods", fieldSelector=f"spec.nodeName={node}")
    assert all(p["spec"]["nodeName"] == node for p in on_node.body["items"])
    bad = call(state, "GET", "/api/v1/pods", fieldSelector="spec.image=x")
    assert (bad.code, bad.body["message"]) == (400, "field label not supported: spec.image")


def test_limit_and_continue_page_through_a_list(state):
    first = call(state, "GET", "/api/v1/pods", limit=2)
    assert len(first.body["items"]) == 2 and first.body["metadata"]["remainingItemCount"] == 1
    rest_ = call(
        state, "GET", "/api/v1/pods", limit=2, **{"continue": first.body["metadata"]["continue"]}
    )
    names = [p["metadata"]["name"] for p in first.body["items"] + rest_.body["items"]]
    assert len(set(names)) == 3 and "continue" not in rest_.body["metadata"]


def test_not_found_is_upstreams_status(state):
    r = call(state, "GET", "/apis/apps/v1/namespaces/default/deployments/nope")
    assert r.code == 404
    assert r.body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'deployments.apps "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "group": "apps", "kind": "deployments"},
        "code": 404,
    } | {"code": 404}


def test_create_then_already_exists(state):
    r = call(
        state,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        deployment(),
        fieldValidation="Strict",
    )
    assert r.code == 201 and r.changed
    assert r.body["metadata"]["creationTimestamp"] is not None  # null from kubectl is replaced
    assert r.body["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%"  # defaulted
    assert state.deployments[("default", "api")].replicas == 2
    again = call(state, "POST", "/apis/apps/v1/namespaces/default/deployments", deployment())
    assert (again.code, again.body["reason"], again.body["message"]) == (
        409,
        "AlreadyExists",
        'deployments.apps "api" already exists',
    )


def test_invalid_names_its_causes_as_kubectl_prints_them(state):
    # kubectl builds "The Deployment "api" is invalid: spec.replicas: ..." from details.causes.
    r = call(state, "POST", "/apis/apps/v1/namespaces/default/deployments", deployment(replicas=-1))
    assert r.code == 422 and r.body["reason"] == "Invalid"
    assert r.body["details"]["kind"] == "Deployment" and r.body["details"]["group"] == "apps"
    assert r.body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: -1: must be greater than or equal to 0",
            "field": "spec.replicas",
        }
    ]
    assert r.body["message"] == (
        'Deployment.apps "api" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    )
    assert ("default", "api") not in state.deployments


def test_unknown_fields_per_field_validation(state):
    body = deployment()
    body["spec"]["replicass"] = 3
    strict = call(
        state,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        body,
        fieldValidation="Strict",
    )
    assert strict.code == 400
    assert strict.body["message"].endswith('strict decoding error: unknown field "spec.replicass"')
    warn = call(
        state, "POST", "/apis/apps/v1/namespaces/default/deployments", body
    )  # Warn by default
    assert warn.code == 201 and warn.warnings == ['unknown field "spec.replicass"']


def test_update_with_a_stale_resource_version_conflicts(state):
    live = call(state, "GET", "/apis/apps/v1/namespaces/default/deployments/web").body
    live["spec"]["replicas"] = 5
    live["metadata"]["resourceVersion"] = "1"
    r = call(state, "PUT", "/apis/apps/v1/namespaces/default/deployments/web", live)
    assert r.code == 409 and r.body["message"].startswith(
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified'
    )
    assert state.deployments[("default", "web")].replicas == 3


def test_patch_types(state):
    path = "/apis/apps/v1/namespaces/default/deployments/web"
    merge = call(state, "PATCH", path, {"spec": {"replicas": 4}}, "application/merge-patch+json")
    assert merge.code == 200 and state.deployments[("default", "web")].replicas == 4
    jp = call(
        state,
        "PATCH",
        path,
        [{"op": "replace", "path": "/spec/replicas", "value": 5}],
        "application/json-patch+json",
    )
    assert jp.code == 200 and state.deployments[("default", "web")].replicas == 5
    smp = {
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.28"}]}}}
    }
    r = call(state, "PATCH", path, smp, "application/strategic-merge-patch+json")
    containers = state.deployments[("default", "web")].spec["template"]["spec"]["containers"]
    assert r.code == 200 and containers[0]["image"] == "nginx:1.28"
    assert containers[0]["resources"]  # merged by name, not replaced
    failed = call(
        state,
        "PATCH",
        path,
        [{"op": "test", "path": "/spec/replicas", "value": 9}],
        "application/json-patch+json",
    )
    assert failed.code == 422
    bad_type = call(state, "PATCH", path, {"spec": {}}, "text/plain")
    assert bad_type.code == 415 and bad_type.body["reason"] == "UnsupportedMediaType"


def test_scale_subresource(state):
    path = "/apis/apps/v1/namespaces/default/deployments/web/scale"
    scale = call(state, "GET", path).body
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 3} and scale["status"]["selector"] == "app=web"
    r = call(state, "PATCH", path, {"spec": {"replicas": 6}}, "application/merge-patch+json")
    assert r.code == 200 and state.deployments[("default", "web")].replicas == 6
    bad = call(state, "PATCH", path, {"spec": {"replicas": -2}}, "application/merge-patch+json")
    assert bad.code == 422 and bad.body["message"].startswith('Scale.autoscaling "web" is invalid')


def test_delete_returns_status_and_cascades(state):
    r = call(
        state,
        "DELETE",
        "/apis/apps/v1/namespaces/default/deployments/web",
        {"propagationPolicy": "Background"},
    )
    assert r.code == 200 and r.body["status"] == "Success"
    assert r.body["details"]["kind"] == "deployments"
    assert ("default", "web") not in state.deployments
    # The garbage collector takes the ReplicaSet (background cascading deletion).
    assert [rs for rs in state.replicasets.values() if rs.name.startswith("web-")]
    run_until(state, state.now + 5)
    assert not [rs for rs in state.replicasets.values() if rs.name.startswith("web-")]


def test_delete_pod_returns_the_terminating_pod(state):
    pod = next(iter(state.pods.values()))
    r = call(state, "DELETE", f"/api/v1/namespaces/default/pods/{pod.name}")
    assert r.code == 200 and r.body["kind"] == "Pod"
    assert r.body["metadata"]["deletionGracePeriodSeconds"] == 30


def test_eviction_deletes_gracefully(state):
    pod = next(iter(state.pods.values()))
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": pod.name, "namespace": "default"},
    }
    r = call(state, "POST", f"/api/v1/namespaces/default/pods/{pod.name}/eviction", body)
    assert r.code == 201 and r.body["status"] == "Success"
    assert pod.deleted is not None


def test_forbidden_uses_rbac_words_and_changes_nothing(state):
    def student(verb, kind, namespace, name, sub):
        if namespace != "team-a":
            raise forbidden("ana", verb, kind, namespace, name, sub)

    state.authorizer = student
    r = call(
        state,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web",
        {"spec": {"replicas": 9}},
        "application/merge-patch+json",
    )
    assert r.code == 403
    assert r.body["message"] == (
        'deployments.apps "web" is forbidden: User "ana" cannot patch resource "deployments" '
        'in API group "apps" in the namespace "default"'
    )
    assert state.deployments[("default", "web")].replicas == 3


@pytest.mark.parametrize(
    "body",
    [b"{", b"[1,2", b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b'"just a string"', b"null"],
)
def test_malformed_bodies_are_400_never_500(state, body):
    r = call(state, "POST", "/apis/apps/v1/namespaces/default/deployments", body)
    assert r.code == 400 and r.body["reason"] == "BadRequest"


def test_a_body_over_3_mib_is_413(state):
    r = call(state, "POST", "/api/v1/namespaces/default/pods", b" " * (3 * 1024 * 1024 + 1))
    assert r.code == 413 and r.body["message"] == "Request entity too large: limit is 3145728"


def test_unknown_paths(state):
    assert call(state, "GET", "/api/v1/widgets").code == 404
    assert (
        call(state, "GET", "/apis/batch/v1/jobs").body["message"]
        == "the server could not find the requested resource"
    )
    assert call(state, "GET", "/nope").content_type.startswith("text/plain")


def test_timestamps_follow_the_simulated_clock(state):
    # An object created 30 simulated seconds ago reads 30 s old against the wall clock, so
    # kubectl's client-side ages (describe, events) agree with the server's AGE column.
    import datetime as dt
    import time

    pod = next(iter(state.pods.values()))
    body = call(state, "GET", f"/api/v1/namespaces/default/pods/{pod.name}").body
    created = dt.datetime.fromisoformat(
        body["metadata"]["creationTimestamp"].replace("Z", "+00:00")
    )
    assert abs((time.time() - created.timestamp()) - (state.now - pod.created)) < 2
