"""kubectl apply: created / configured / unchanged, three-way merge, defaults, admission, immutability."""

from __future__ import annotations

import pytest

from kubelab.sim import actions
from kubelab.sim.apiserver import ApiError
from kubelab.sim.apiserver.apply import apply_text
from tests.sim.helpers import apply, cluster, deployment_yaml, run_until, workers

SVC = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  selector: {app: web}\n  ports:\n    - port: 80\n"


def test_created_unchanged_configured():
    """The three answers of kubectl apply (kubectl/pkg/cmd/apply/apply.go)."""
    st = cluster(workers(1))
    assert apply_text(st, deployment_yaml()) == ["deployment.apps/web created"]
    assert apply_text(st, deployment_yaml()) == ["deployment.apps/web unchanged"]
    assert apply_text(st, deployment_yaml(replicas=5)) == ["deployment.apps/web configured"]
    assert apply_text(st, SVC) == ["service/web created"]


def test_defaults_are_filled_in():
    """replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600, grace 30, pull policy (pkg/apis/apps/v1/defaults.go, pkg/apis/core/v1/defaults.go)."""
    st = cluster(workers(1))
    apply_text(st, deployment_yaml().replace("  replicas: 3\n", "").replace("nginx:1.27", "nginx"))
    spec = st.deployments[("default", "web")].spec
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10 and spec["progressDeadlineSeconds"] == 600
    pod_spec = spec["template"]["spec"]
    assert pod_spec["terminationGracePeriodSeconds"] == 30 and pod_spec["restartPolicy"] == "Always"
    assert pod_spec["containers"][0]["imagePullPolicy"] == "Always"  # untagged image means :latest


def test_pods_get_default_toleration_seconds():
    """DefaultTolerationSeconds adds not-ready and unreachable NoExecute tolerations for 300 s (plugin/pkg/admission/defaulttolerationseconds)."""
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=1))
    pod = next(iter(st.pods.values()))
    tol = {(t["key"], t["effect"], t["tolerationSeconds"]) for t in pod.spec["tolerations"]}
    assert tol == {
        ("node.kubernetes.io/not-ready", "NoExecute", 300),
        ("node.kubernetes.io/unreachable", "NoExecute", 300),
    }


def test_reapply_keeps_replicas_set_by_scale():
    """Three-way merge: a field the manifest never set (replicas after `kubectl scale`) is kept."""
    st = cluster(workers(1))
    text = deployment_yaml().replace("  replicas: 3\n", "")
    apply_text(st, text)
    actions.scale(st, "default", "web", 4)
    assert apply_text(st, text) == ["deployment.apps/web unchanged"]
    assert st.deployments[("default", "web")].replicas == 4


def test_removing_a_field_from_the_manifest_removes_it():
    """A field present in the last applied manifest and dropped now goes back to its default."""
    st = cluster(workers(1))
    apply_text(st, deployment_yaml(replicas=5))
    apply_text(st, deployment_yaml().replace("  replicas: 3\n", ""))
    assert st.deployments[("default", "web")].replicas == 1


def test_selector_is_immutable():
    """spec.selector: Invalid value: {...}: field is immutable (pkg/registry/apps/deployment/strategy.go ValidateUpdate)."""
    st = cluster(workers(1))
    apply_text(st, deployment_yaml())
    with pytest.raises(ApiError) as e:
        apply_text(st, deployment_yaml().replace("app: web", "app: web2"))
    assert (
        e.value.message
        == 'The Deployment "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"web2"}}: field is immutable'
    )


def test_pod_spec_mostly_immutable():
    """Changing a pod's ports is Forbidden; its image may change (ValidatePodUpdate, pkg/apis/core/validation)."""
    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n"
    st = cluster(workers(1))
    apply_text(st, pod)
    assert apply_text(st, pod.replace("1.27", "1.28")) == ["pod/p configured"]
    with pytest.raises(ApiError) as e:
        apply_text(
            st,
            pod.replace(
                "image: nginx:1.27", "image: nginx:1.27\n      ports:\n        - containerPort: 80"
            ),
        )
    assert e.value.message.startswith(
        'The Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`'
    )


def test_service_cluster_ip_and_node_port_allocated():
    """ClusterIP from 10.96.0.0/12, NodePort from 30000-32767 (kubeadm DefaultServicesSubnet; kube-apiserver --service-node-port-range)."""
    import ipaddress

    st = cluster(workers(1))
    apply_text(st, SVC)
    svc = st.services[("default", "web")]
    assert ipaddress.ip_address(svc.spec["clusterIP"]) in ipaddress.ip_network("10.96.0.0/12")
    assert 30000 <= svc.spec["ports"][0]["nodePort"] <= 32767
    assert svc.spec["ports"][0]["targetPort"] == 80
    assert apply_text(st, SVC) == ["service/web unchanged"]


def test_node_port_collision():
    st = cluster(workers(1))
    apply_text(st, SVC.replace("    - port: 80\n", "    - port: 80\n      nodePort: 30080\n"))
    with pytest.raises(ApiError) as e:
        apply_text(
            st,
            SVC.replace("name: web", "name: web2").replace(
                "    - port: 80\n", "    - port: 80\n      nodePort: 30080\n"
            ),
        )
    assert (
        e.value.message
        == 'The Service "web2" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated'
    )


def test_endpoints_are_ready_pod_ips():
    """A Service's endpoints are IP:targetPort of its ready pods (ShouldPodBeInEndpoints, endpoints controller)."""
    st = cluster(workers(2))
    apply(st, deployment_yaml(replicas=2) + "---\n" + SVC)
    run_until(st, 15)
    svc = st.services[("default", "web")]
    assert sorted(svc.endpoints) == sorted(f"{p.ip}:80" for p in st.pods.values())


def test_namespace_then_deployment_in_one_file():
    st = cluster(workers(1))
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\n"
        + deployment_yaml().replace("  name: web\n", "  name: web\n  namespace: team-a\n", 1)
    )
    assert apply_text(st, text) == ["namespace/team-a created", "deployment.apps/web created"]


def test_delete_cascades():
    """Deleting a Deployment removes its ReplicaSets and pods (background cascading)."""
    st = cluster(workers(1))
    apply(st, deployment_yaml(replicas=2))
    run_until(st, 10)
    assert actions.delete(st, "Deployment", "default", "web") == ['deployment.apps "web" deleted']
    run_until(st, 60)
    assert not st.replicasets and not st.pods
    with pytest.raises(
        ApiError, match=r'Error from server \(NotFound\): deployments.apps "web" not found'
    ):
        actions.delete(st, "Deployment", "default", "web")
