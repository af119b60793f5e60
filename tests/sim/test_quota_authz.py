"""ResourceQuota, LimitRange, RBAC-style refusals and the event aggregator — engine only, no database."""

from __future__ import annotations

import pytest

from kubelab.sim.apiserver import ApiError, quota
from kubelab.sim.apiserver.apply import apply_text
from kubelab.sim.apiserver.authz import forbidden
from kubelab.sim.control_loop import advance
from kubelab.sim.kubectl import LocalApi, run

from .helpers import cluster, deployment_yaml

QUOTA = {
    "name": "student-quota",
    "hard": {"pods": "10", "requests.cpu": "2", "requests.memory": "4Gi"},
}
LIMITS = {"name": "student-defaults", "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}


def student_cluster(limits: dict | None = LIMITS):  # type: ignore[no-untyped-def]
    st = cluster()
    apply_text(st, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ana\n")
    quota.set_policy(st, "ana", quota=QUOTA, limits=limits)
    return st


def test_replicas_beyond_the_pod_quota_fail_with_the_upstream_message() -> None:
    # plugin/pkg/admission/resourcequota/controller.go: "exceeded quota: %s, requested: %s, used: %s,
    # limited: %s", only the exceeded resources; the RS controller reports it as FailedCreate
    # "Error creating: <err>" (pkg/controller/replicaset/replica_set.go) and sets ReplicaFailure.
    st = student_cluster()
    apply_text(st, deployment_yaml(replicas=12, cpu=None), namespace="ana")
    advance(st, 60)
    pods = [p for p in st.pods.values() if p.namespace == "ana"]
    assert len(pods) == 10
    rs = next(iter(st.replicasets.values()))
    failed = [e for e in st.events.values() if e.reason == "FailedCreate"]
    assert failed and failed[0].source == "replicaset-controller"
    assert failed[0].message.startswith(f'Error creating: pods "{rs.name}-')
    assert failed[0].message.endswith(
        '" is forbidden: exceeded quota: student-quota, requested: pods=1, used: pods=10, '
        "limited: pods=10"
    )
    conds = {c["type"]: c for c in rs.status["conditions"]}
    assert conds["ReplicaFailure"]["reason"] == "FailedCreate"
    d = next(iter(st.deployments.values()))
    assert any(c["type"] == "ReplicaFailure" for c in d.status["conditions"])


def test_limit_range_defaults_requests_and_cpu_quota_counts_them() -> None:
    # LimitRanger sets defaultRequest on containers without one; the quota then counts requests.
    st = student_cluster()
    apply_text(st, deployment_yaml(replicas=3, cpu=None), namespace="ana")
    advance(st, 30)
    pod = next(p for p in st.pods.values() if p.namespace == "ana")
    assert pod.spec["containers"][0]["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    used = quota.usage(st, "ana")
    assert (
        used["pods"] == 3
        and used["requests.cpu"] == 300
        and used["requests.memory"] == 3 * 128 * 2**20
    )


def test_cpu_quota_names_only_the_exceeded_resource() -> None:
    st = student_cluster()
    apply_text(st, deployment_yaml(replicas=3, cpu="900m"), namespace="ana")
    advance(st, 30)
    assert len([p for p in st.pods.values() if p.namespace == "ana"]) == 2
    msg = next(e.message for e in st.events.values() if e.reason == "FailedCreate")
    assert msg.endswith(
        "exceeded quota: student-quota, requested: requests.cpu=900m, used: requests.cpu=1800m, "
        "limited: requests.cpu=2"
    )


def test_without_a_limit_range_pods_must_specify_requests() -> None:
    # "failed quota: qtest: must specify cpu for: nginx; memory for: nginx" (seen on real clusters).
    st = student_cluster(limits=None)
    with pytest.raises(ApiError) as e:
        apply_text(
            st,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: solo\nspec:\n  containers:\n"
            "  - name: nginx\n    image: nginx\n",
            namespace="ana",
        )
    assert e.value.code == 403
    assert e.value.message == (
        'Error from server (Forbidden): error when creating "STDIN": pods "solo" is forbidden: '
        "failed quota: student-quota: must specify requests.cpu for: nginx; requests.memory for: nginx"
    )
    assert ("ana", "solo") not in st.pods


def test_a_bare_pod_over_quota_is_refused_like_kubectl_run() -> None:
    st = student_cluster()
    apply_text(st, deployment_yaml(replicas=10, cpu=None), namespace="ana")
    advance(st, 30)
    r = run(
        LocalApi(st),
        "apply -f - -n ana",
        stdin="apiVersion: v1\nkind: Pod\nmetadata: {name: extra}\nspec:\n  containers: [{name: c, image: nginx}]\n",
    )
    assert r.code == 1
    assert r.err.startswith(
        'Error from server (Forbidden): error when creating "STDIN": pods "extra" is forbidden: '
        "exceeded quota: student-quota, requested: pods=1, used: pods=10, limited: pods=10"
    )


def test_terminating_pods_stop_counting_after_their_grace_period() -> None:
    # QuotaV1Pod: a pod past deletionTimestamp + grace no longer counts, so pods stuck on a lost
    # node do not block their replacements.
    st = student_cluster()
    apply_text(st, deployment_yaml(replicas=10, cpu=None), namespace="ana")
    advance(st, 30)
    pod = next(p for p in st.pods.values() if p.namespace == "ana")
    st.delete_pod(pod)
    assert quota.usage(st, "ana")["pods"] == 10
    assert quota._charged(pod, st.now + 59) and not quota._charged(pod, st.now + 61)


def test_describe_namespace_shows_quota_and_limits_like_kubectl() -> None:
    # kubectl describe.go DescribeResourceQuotas / DescribeLimitRanges layout.
    st = student_cluster()
    apply_text(st, deployment_yaml(replicas=3, cpu=None), namespace="ana")
    advance(st, 30)
    text = run(LocalApi(st), "describe namespace ana").out
    assert text == (
        "Name:         ana\n"
        "Labels:       kubernetes.io/metadata.name=ana\n"
        "Annotations:  <none>\n"
        "Status:       Active\n"
        "\n"
        "Resource Quotas\n"
        "  Name:            student-quota\n"
        "  Resource         Used   Hard\n"
        "  --------         ---    ---\n"
        "  pods             3      10\n"
        "  requests.cpu     300m   2\n"
        "  requests.memory  384Mi  4Gi\n"
        "\n"
        "Resource Limits\n"
        " Type       Resource  Min  Max  Default Request  Default Limit  Max Limit/Request Ratio\n"
        " ----       --------  ---  ---  ---------------  -------------  -----------------------\n"
        " Container  cpu       -    -    100m             -              -\n"
        " Container  memory    -    -    128Mi            -              -\n"
    )
    assert run(LocalApi(st), "describe namespace default").out.endswith(
        "Status:       Active\n\nNo resource quota.\n\nNo LimitRange resource.\n"
    )


def test_failed_creates_back_off_and_fold_into_one_combined_event() -> None:
    # client-go EventAggregator: beyond 10 distinct messages for one object and reason within
    # 10 minutes, events become "(combined from similar events): <latest message>" with a count.
    # The controller requeues with exponential back-off (5 ms doubling, at most 1000 s).
    st = student_cluster()
    apply_text(st, deployment_yaml(replicas=11, cpu=None), namespace="ana")
    advance(st, 120)
    failed = [e for e in st.events.values() if e.reason == "FailedCreate"]
    separate = [e for e in failed if not e.message.startswith("(combined")]
    combined = [e for e in failed if e.message.startswith("(combined from similar events): ")]
    assert len(separate) == 10 and len(combined) == 1
    assert combined[0].count >= 2
    attempts = 10 + combined[0].count
    assert attempts < 30  # back-off: by 120 s, 5 ms·2^n has grown past a minute


def test_rbac_message_words() -> None:
    # The RBAC authorizer's words (k8s: "User %q cannot %s resource %q in API group %q in the
    # namespace %q"; a create names no object).
    e = forbidden("ana", "create", "Deployment", "default", "web")
    assert e.message == (
        'Error from server (Forbidden): deployments.apps is forbidden: User "ana" cannot create '
        'resource "deployments" in API group "apps" in the namespace "default"'
    )
    e = forbidden("ana", "patch", "Node", "", "worker-1")
    assert e.message == (
        'Error from server (Forbidden): nodes "worker-1" is forbidden: User "ana" cannot patch '
        'resource "nodes" in API group "" at the cluster scope'
    )


def test_an_authorizer_refuses_writes_and_changes_nothing() -> None:
    st = student_cluster()

    def only_ana(verb: str, kind: str, ns: str, name: str, sub: str) -> None:
        if verb not in ("get", "list") and ns != "ana":
            raise forbidden("ana", verb, kind, ns, name, sub)

    st.authorizer = only_ana
    api = LocalApi(st)
    before = st.rv
    r = run(api, "apply -f -", stdin=deployment_yaml())
    assert r.code == 1 and r.err.startswith(
        'Error from server (Forbidden): error when creating "STDIN": deployments.apps is forbidden: '
        'User "ana" cannot create resource "deployments" in API group "apps" in the namespace "default"'
    )
    assert st.rv == before and not st.deployments
    r = run(api, "cordon worker-1")
    assert r.code == 1 and 'cannot patch resource "nodes"' in r.err
    assert not st.nodes["worker-1"].unschedulable
    r = run(api, "scale deployment web --replicas=3 -n default")
    assert r.code == 1
    assert (
        run(api, "apply -f - -n ana", stdin=deployment_yaml()).out
        == "deployment.apps/web created\n"
    )
    assert run(api, "get pods -A").code == 0  # reads are allowed by this authorizer
