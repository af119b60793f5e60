"""`manage.py simulate`: the headless runner's output and its answers to bad input (exit 1, kubectl's words)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "kubelab" / "scenarios"


def simulate(
    *args: str, stdin: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "simulate", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_json_output_has_the_documented_shape():
    """--format json prints time, nodes, pods, deployments, replicasets, services, events (README, "Scenario files")."""
    r = simulate(str(SCENARIOS / "node-failure.yaml"), "--until", "420s", "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["time"] == 420.0
    assert {n["name"]: n["status"] for n in d["nodes"]}["worker-2"] == "NotReady"
    statuses = sorted(p["status"] for p in d["pods"])
    assert statuses == ["Running", "Running", "Running", "Terminating"]
    pod = d["pods"][0]
    assert set(pod) >= {
        "namespace",
        "name",
        "node",
        "phase",
        "status",
        "ready",
        "restarts",
        "owner",
    }
    assert set(d["deployments"][0]) >= {
        "namespace",
        "name",
        "replicas",
        "ready",
        "updated",
        "available",
        "revision",
        "conditions",
    }
    assert set(d["replicasets"][0]) >= {
        "namespace",
        "name",
        "desired",
        "current",
        "ready",
        "revision",
        "images",
    }
    assert set(d["services"][0]) >= {
        "namespace",
        "name",
        "type",
        "cluster_ip",
        "ports",
        "endpoints",
    }
    assert len(d["services"][0]["endpoints"]) == 3
    ev = d["events"][0]
    assert set(ev) >= {"time", "type", "reason", "object", "message", "count"}
    assert any(
        e["reason"] == "TaintManagerEviction" and e["object"].startswith("pod/web-")
        for e in d["events"]
    )


def test_text_output_is_kubectl_tables():
    r = simulate(str(SCENARIOS / "deploy-and-scale.yaml"))
    assert r.returncode == 0
    out = r.stdout.decode()
    assert (
        "$ kubectl get nodes\nNAME            STATUS   ROLES           AGE     VERSION\ncontrol-plane   Ready    control-plane"
        in out
    )
    assert "deployment.apps/web scaled" in out


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        ("malformed", b"steps: [\n", "error parsing"),
        (
            "bomb",
            b'a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
            "excessive aliasing",
        ),
        ("deep", b"[" * 10_000 + b"]" * 10_000, "nesting is deeper than 64 levels"),
        ("huge", b"a: " + b"x" * (5 * 1024 * 1024), "is too large: 5.0 MiB"),
        (
            "unknown-kind",
            b"steps:\n  - at: 0s\n    apply: |\n      apiVersion: v1\n      kind: Frobnicator\n      metadata: {name: x}\n",
            'no matches for kind "Frobnicator" in version "v1"',
        ),
        (
            "replicas",
            b"steps:\n  - at: 0s\n    apply: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: web}\n      spec:\n        replicas: 1000000000\n        selector: {matchLabels: {app: web}}\n        template:\n          metadata: {labels: {app: web}}\n          spec: {containers: [{name: c, image: nginx}]}\n",
            "max-replicas=1000",
        ),
        (
            "bad-step",
            b"steps:\n  - {at: 10s, node: {name: worker-1, action: explode}}\n",
            "needs a name and an action",
        ),
        ("bad-duration", b"until: soon\n", 'invalid duration "soon"'),
    ],
)
def test_bad_input_exits_1_with_a_clear_error(name, payload, expected):
    """Each hostile or mistaken input: exit code 1, the error on stderr, no traceback."""
    r = simulate("-", stdin=payload)
    err = r.stderr.decode()
    assert r.returncode == 1, (name, err)
    assert expected in err, err
    assert "Traceback" not in err
    assert r.stdout == b""


def test_missing_file():
    r = simulate("/no/such/file.yaml")
    assert r.returncode == 1
    assert 'the path "/no/such/file.yaml" does not exist' in r.stderr.decode()
