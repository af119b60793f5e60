"""kill -9 of `manage.py up` in the middle of ticking loses nothing that was acknowledged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.sim.helpers import deployment_yaml

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_up(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "up", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("up did not start: " + proc.stdout.read().decode() if proc.stdout else "")


def kubectl(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "kubectl", "--cluster", "demo", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_kill_9_then_restart(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/kubelab.sqlite3")
    port = free_port()
    up = start_up(env, port)
    try:
        r = kubectl(env, "apply", "-f", "-", stdin=deployment_yaml(name="api", replicas=2))
        assert r.returncode == 0, r.stderr
        assert "deployment.apps/api created" in r.stdout
        r = kubectl(env, "scale", "deployment", "api", "--replicas=12")
        assert r.stdout == "deployment.apps/api scaled\n"
        time.sleep(0.4)  # the reconciler is creating and starting pods now
        up.send_signal(signal.SIGKILL)
        up.wait(10)
    finally:
        if up.poll() is None:
            up.kill()
    up = start_up(env, free_port())
    try:
        r = kubectl(env, "get", "deployments")
        assert "api " in r.stdout and "web " in r.stdout
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            r = kubectl(env, "get", "deployment", "api")
            if " 12/12 " in r.stdout:
                break
            time.sleep(1)
        assert " 12/12 " in r.stdout, r.stdout
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(10)
        except subprocess.TimeoutExpired:
            up.kill()
