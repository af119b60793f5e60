"""The kubectl subset over a cluster in memory: output held against kubectl's formats (pkg/printers/internalversion/printers.go, kubectl/pkg/cmd/util/helpers.go)."""

from __future__ import annotations

from kubelab.sim.kubectl import LocalApi, run

from .helpers import apply, cluster, deployment_yaml, run_until


def api():
    st = cluster(seed=3)
    apply(st, deployment_yaml(replicas=2))
    run_until(st, 30)
    return LocalApi(st)


def test_get_pods_columns():
    r = run(api(), "kubectl get pods")
    lines = r.out.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(lines) == 3 and all(
        line.split()[1:4] == ["1/1", "Running", "0"] for line in lines[1:]
    )
    assert lines[1].split()[4] == "30s"


def test_get_wide_and_all_namespaces():
    a = api()
    wide = run(a, "get pods -o wide").out.splitlines()[0].split()
    assert wide[-7:] == ["IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"][-7:] or wide[
        :5
    ] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert run(a, "get deploy -A").out.splitlines()[0].split() == [
        "NAMESPACE",
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
    ]


def test_get_nothing():
    r = run(api(), "get svc")
    assert r.code == 0 and r.err == "No resources found in default namespace.\n"


def test_scale_and_words():
    a = api()
    assert run(a, "scale deployment web --replicas=4").out == "deployment.apps/web scaled\n"
    assert run(a, "scale deployment/web --replicas 1").out == "deployment.apps/web scaled\n"
    assert run(a, "cordon worker-1").out == "node/worker-1 cordoned\n"
    assert run(a, "uncordon worker-1").out == "node/worker-1 uncordoned\n"
    assert (
        run(a, "set image deployment/web main=nginx:1.28").out
        == "deployment.apps/web image updated\n"
    )


def test_errors_go_to_stderr_with_exit_1():
    a = api()
    r = run(a, "get deployment nope")
    assert (r.code, r.out) == (1, "")
    assert r.err.startswith('Error from server (NotFound): deployments.apps "nope" not found')
    assert run(a, "get foos").err == 'error: the server doesn\'t have a resource type "foos"'
    assert run(a, "frobnicate").err.startswith('error: unknown command "frobnicate" for "kubectl"')


def test_apply_from_stdin_and_invalid():
    a = api()
    r = run(a, "apply -f -", stdin=deployment_yaml(name="api"))
    assert r.out == "deployment.apps/api created\n"
    r = run(a, "apply -f -", stdin=deployment_yaml(name="bad", replicas=-1))
    assert r.code == 1
    assert r.err.startswith(
        'The Deployment "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    )


def test_rollout_commands():
    a = api()
    assert (
        run(a, "rollout status deployment/web").out == 'deployment "web" successfully rolled out\n'
    )
    run(a, "set image deployment/web main=nginx:1.28")
    run_until(a.state, 120)
    hist = run(a, "rollout history deployment/web").out.splitlines()
    assert hist[:4] == [
        "deployment.apps/web ",
        "REVISION  CHANGE-CAUSE",
        "1         <none>",
        "2         <none>",
    ]
    assert run(a, "rollout undo deployment/web").out == "deployment.apps/web rolled back\n"
    assert run(a, "rollout pause deployment/web").out == "deployment.apps/web paused\n"
    assert (
        run(a, "rollout undo deployment/web").err
        == "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again"
    )


def test_describe_pod_has_events_and_tolerations():
    a = api()
    name = next(iter(a.state.pods.values())).name
    out = run(a, f"describe pod {name}").out
    # describe.go through Go's tabwriter: without volumes, "Volumes:\t<none>" joins the block of
    # the conditions rows ("%v \t%v \n", a space after the type), so the values sit at column 30.
    assert (
        "Tolerations:                  node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n"
        "                              node.kubernetes.io/unreachable:NoExecute op=Exists for 300s"
        in out
    )
    assert "  Type                        Status\n  PodReadyToStartContainers   True \n" in out
    assert "IPs:\n  IP:           10." in out
    assert "Events:\n  Type    Reason     Age   From               Message" in out
    assert "Controlled By:  ReplicaSet/web-" in out


def test_describe_node_and_deployment():
    a = api()
    out = run(a, "describe node worker-1").out
    assert "Conditions:" in out and "KubeletReady" in out and "Allocated resources:" in out
    out = run(a, "describe deployment web").out
    assert (
        "Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable"
        in out
    )
    assert "RollingUpdateStrategy:  25% max unavailable, 25% max surge" in out


def test_get_events_and_json():
    a = api()
    ev = run(a, "get events").out.splitlines()
    assert ev[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert any("ScalingReplicaSet" in line and "deployment/web" in line for line in ev)
    import json

    doc = json.loads(run(a, "get deployment web -o json").out)
    assert doc["apiVersion"] == "apps/v1" and doc["metadata"]["name"] == "web"
    assert doc["metadata"]["creationTimestamp"].endswith("Z")
