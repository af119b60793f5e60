"""Validation messages in kubectl's words (pkg/apis/apps/validation, apimachinery
field/errors.go, kubectl/pkg/cmd/util/helpers.go), with the YAML line of the bad field."""

from __future__ import annotations

import pytest

from kubelab.sim.apiserver import ApiError
from kubelab.sim.apiserver.apply import apply_text
from tests.sim.helpers import cluster, deployment_yaml, workers


def error_of(text: str, state=None) -> ApiError:
    st = state or cluster(workers(1))
    before = st.rv
    with pytest.raises(ApiError) as e:
        apply_text(st, text)
    assert st.rv == before, "a rejected apply must change nothing"
    return e.value


def test_selector_mismatch_v134_json_rendering():
    """apps/validation + field/errors.go + kubectl helpers.go: `selector` does not match template `labels`, the value rendered as JSON (v1.34)."""
    text = deployment_yaml().replace(
        "      labels:\n        app: web\n    spec:", "      labels:\n        app: api\n    spec:"
    )
    e = error_of(text)
    assert (
        e.message
        == 'The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"api"}: `selector` does not match template `labels`'
    )
    assert e.line == text.splitlines().index("      labels:") + 1
    assert e.code == 422


def test_both_fenceposts_zero():
    """maxSurge 0 and maxUnavailable 0 (pkg/apis/apps/validation/validation.go)."""
    e = error_of(
        deployment_yaml(
            name="x", strategy="\n  strategy:\n    rollingUpdate: {maxSurge: 0, maxUnavailable: 0}"
        )
    )
    assert (
        e.message
        == 'The Deployment "x" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'
    )


def test_restart_policy_must_be_always():
    """pkg/apis/apps/validation/validation.go: the template's restartPolicy must be Always."""
    e = error_of(deployment_yaml(pod_extra="\n      restartPolicy: Never"))
    assert (
        e.message
        == 'The Deployment "web" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'
    )
    assert e.field == "spec.template.spec.restartPolicy"


def test_several_causes_one_per_line():
    """kubectl/pkg/cmd/util/helpers.go checkErr: several causes: first line ends with ": ", then one "* " line each."""
    e = error_of(
        deployment_yaml(pod_extra="\n      restartPolicy: Never").replace(
            "          image: nginx:1.27\n", ""
        )
    )
    lines = e.message.split("\n")
    assert lines[0] == 'The Deployment "web" is invalid: '
    assert lines[1] == "* spec.template.spec.containers[0].image: Required value"
    assert lines[2].startswith("* spec.template.spec.restartPolicy: Unsupported value:")


def test_name_rules():
    """apimachinery/pkg/util/validation: Deployment names are DNS-1123 subdomains; Service names DNS-1035 labels."""
    e = error_of(deployment_yaml(name="Web"))
    assert e.message.startswith(
        'The Deployment "Web" is invalid: metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of'
    )
    svc = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n  ports:\n    - port: 80\n"
    )
    e = error_of(svc)
    assert (
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character"
        in e.message
    )


def test_unknown_field_strict_decoding():
    """Unknown fields are refused the way server-side strict field validation words it."""
    e = error_of(deployment_yaml().replace("  replicas: 3", "  replica: 3"))
    assert e.message == (
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a '
        'Deployment: strict decoding error: unknown field "spec.replica"'
    )
    assert e.line == 6


def test_wrong_type():
    """A string where an int32 belongs: json's unmarshal error naming the Go struct field."""
    e = error_of(deployment_yaml().replace("  replicas: 3", "  replicas: three"))
    assert e.message.endswith(
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    )


def test_bad_quantity():
    """A resource quantity that does not parse: the Quantity regular expression message."""
    e = error_of(deployment_yaml(cpu="lots"))
    assert e.message.endswith(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )
    assert e.field == "spec.template.spec.containers[0].resources.requests.cpu"


def test_unknown_and_unsupported_kinds():
    """A misspelt kind gets kubectl's "no matches for kind"; a real kind KubeLab lacks is named as such."""
    e = error_of(deployment_yaml().replace("kind: Deployment", "kind: Deploymnet"))
    assert 'no matches for kind "Deploymnet" in version "apps/v1"' in e.message
    e = error_of("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\n")
    assert (
        e.message
        == "error: KubeLab does not simulate Job (batch/v1) yet; it simulates Namespace, Deployment, ReplicaSet, Pod, Service, HorizontalPodAutoscaler, Ingress"
    )
    e = error_of(deployment_yaml().replace("apiVersion: apps/v1", "apiVersion: v1"))
    assert 'no matches for kind "Deployment" in version "v1"' in e.message


def test_missing_api_version_and_kind():
    e = error_of("metadata:\n  name: x\n")
    assert e.message.startswith(
        'error: error validating "STDIN": error validating data: [apiVersion not set, kind not set]'
    )


def test_absurd_replicas_names_the_limit():
    """replicas 10^9 is refused with KubeLab's max-replicas limit named."""
    e = error_of(deployment_yaml(replicas=10**9))
    assert (
        e.message
        == 'The Deployment "web" is invalid: spec.replicas: Invalid value: 1000000000: must be less than or equal to 1000 (KubeLab\'s limit, max-replicas=1000)'
    )


def test_negative_replicas():
    e = error_of(deployment_yaml(replicas=-1))
    assert (
        e.message
        == 'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    )


def test_missing_namespace():
    e = error_of(deployment_yaml().replace("  name: web\n", "  name: web\n  namespace: nope\n", 1))
    assert (
        e.message
        == 'Error from server (NotFound): error when creating "STDIN": namespaces "nope" not found'
    )


def test_requests_above_limits():
    text = deployment_yaml(cpu="2").replace(
        "            requests:\n              cpu: 2",
        "            requests:\n              cpu: 2\n            limits:\n              cpu: 1",
    )
    e = error_of(text)
    assert (
        'spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'
        in e.message
    )


def test_node_port_out_of_range():
    svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  ports:\n    - port: 80\n      nodePort: 20000\n"
    e = error_of(svc)
    assert e.message == (
        'The Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 20000: provided port is not in the valid range. '
        "The range of valid ports is 30000-32767"
    )
    assert e.line == 9


def test_second_document_error_points_at_its_line():
    """Errors in a later document give the line in the whole file, and nothing from the file is applied."""
    good = deployment_yaml(name="ok")
    bad = deployment_yaml(name="bad", pod_extra="\n      restartPolicy: OnFailure")
    text = good + "---\n" + bad
    st = cluster(workers(1))
    e = error_of(text, st)
    assert (
        e.line
        == len(good.splitlines()) + 1 + bad.splitlines().index("      restartPolicy: OnFailure") + 1
    )
    assert ("default", "ok") not in st.deployments
