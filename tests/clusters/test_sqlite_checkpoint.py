"""`up` on SQLite checkpoints the WAL from a thread of its own (clusters.apps), so that no commit
of a tick or a request pays for copying it back (10–15 ms every ~20 ticks of a 1,000-pod
cluster, tests/perf/bench_live.py db). Run in a process of its own: it changes how that
process's connections are opened."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import shutil, sqlite3, time, django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from clusters.apps import checkpoint_in_background
stop = checkpoint_in_background(interval=0.05)
from clusters import services
services.demo_cluster_ensure()
with connection.cursor() as c:
    c.execute("PRAGMA wal_autocheckpoint")
    print("autocheckpoint", c.fetchone()[0])
time.sleep(0.5)  # the connection stays open (closing the last one would checkpoint)
# The database file alone, without its WAL: what has been checkpointed into it.
name = connection.settings_dict["NAME"]
shutil.copyfile(name, name + ".copy")
raw = sqlite3.connect(name + ".copy")
print("checkpointed", ",".join(r[0] for r in raw.execute("SELECT slug FROM clusters_cluster")) or "-")
stop.set()
"""


def test_up_checkpoints_the_wal_off_the_commit_path(tmp_path):
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path}/kubelab.sqlite3",
        DJANGO_SETTINGS_MODULE="kubelab.settings",
    )
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert lines["autocheckpoint"] == "16384"  # writers leave it to the thread
    # The demo cluster was created after the thread started, with writers no longer checkpointing
    # below 64 MiB: it is in the database file only because the thread copied it there.
    assert lines["checkpointed"] == "demo"
