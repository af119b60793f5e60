"""Serving a class safely: production settings, CSP, CSRF, size limits and rate limits on HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.sim.helpers import deployment_yaml

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "KUBELAB_ENV")
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_and_hosts():
    r = manage({"KUBELAB_ENV": "production", "ALLOWED_HOSTS": "lab.example.org"}, "check")
    assert r.returncode != 0 and "SECRET_KEY must be set when KUBELAB_ENV=production" in r.stderr
    r = manage({"KUBELAB_ENV": "production", "SECRET_KEY": "x" * 60}, "check")
    assert r.returncode != 0 and "ALLOWED_HOSTS must be set when KUBELAB_ENV=production" in r.stderr


def test_check_deploy_is_clean_in_production():
    env = {
        "KUBELAB_ENV": "production",
        "SECRET_KEY": "k" * 20 + "-Zq8vW2mX9pL4rT7yB1nC6dF3gH5jK0s",
        "ALLOWED_HOSTS": "lab.example.org",
    }
    r = manage(env, "check", "--deploy")
    assert r.returncode == 0, r.stderr
    assert "System check identified no issues (0 silenced)." in r.stdout


def test_pages_carry_a_content_security_policy(demo_cluster):
    client = Client()
    for url in ("/c/demo/", "/c/demo/apply/"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp
            and "frame-ancestors 'none'" in csp
            and "unsafe-eval" not in csp
        )
        assert response.headers["X-Frame-Options"] == "DENY"


def test_writes_need_the_csrf_token(demo_cluster):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/c/demo/nodes/worker-1/fail/")
    assert response.status_code == 403


def test_oversized_manifest_is_413_and_bomb_is_400(demo_cluster):
    client = Client()
    big = "a: " + "x" * (1024 * 1024 + 10)
    r = client.post("/c/demo/apply/", {"manifest": big}, HTTP_ACCEPT="application/json")
    assert r.status_code == 413
    # The page's own scripts get the same answer with 200, the status in the body.
    r = client.post(
        "/c/demo/apply/", {"manifest": big}, HTTP_ACCEPT="application/json", HTTP_X_KUBELAB_UI="1"
    )
    assert (r.status_code, r.json()["status"]) == (200, 413) and "max-manifest-bytes" in r.json()[
        "error"
    ]
    r = client.post("/c/demo/apply/", {"manifest": big})
    assert r.status_code == 413
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    r = client.post("/c/demo/apply/", {"manifest": bomb}, HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and "excessive aliasing" in r.json()["error"]


@override_settings(MAX_APPLIES_PER_MINUTE=3)
def test_apply_flood_is_rate_limited_per_client(demo_cluster):
    """Past the per-minute limit one client gets 429 with Retry-After; another client is unaffected."""
    from django.core.cache import cache

    cache.clear()
    flooder, other = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    codes = [
        flooder.post(
            "/c/demo/apply/",
            {"manifest": deployment_yaml(name=f"f{i}")},
            HTTP_ACCEPT="application/json",
        ).status_code
        for i in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
    r = flooder.post(
        "/c/demo/apply/", {"manifest": deployment_yaml(name="late")}, HTTP_ACCEPT="application/json"
    )
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    assert "max-applies-per-minute" in r.json()["error"]
    assert (
        other.post(
            "/c/demo/apply/",
            {"manifest": deployment_yaml(name="calm")},
            HTTP_ACCEPT="application/json",
        ).status_code
        == 200
    )
