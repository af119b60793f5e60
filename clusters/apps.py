from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.backends.signals import connection_created

log = logging.getLogger(__name__)


class ClustersConfig(AppConfig):
    name = "clusters"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(_sqlite_wal, dispatch_uid="kubelab-sqlite-wal")


_wal_files: set[str] = set()


def _sqlite_wal(sender: object, connection: Any, **kwargs: Any) -> None:
    """Put a SQLite database in WAL mode (readers never wait for the writer) — once per file and
    process: the mode is kept in the file, and setting it takes a lock."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"])
    if _checkpointer is not None:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKGROUND_AUTOCHECKPOINT}")
    if name in _wal_files:
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        if cursor.fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
    _wal_files.add(name)


# With a checkpointer running, a writer checkpoints only if the WAL reaches 64 MiB (SQLite's default
# is 1,000 pages, 4 MiB: every ~20 ticks of a 1,000-pod cluster, 10–15 ms added to that tick).
BACKGROUND_AUTOCHECKPOINT = 16384  # pages
_checkpointer: threading.Event | None = None


def checkpoint_in_background(interval: float = 1.0) -> threading.Event | None:
    """For a long-running server on SQLite (``up``): copy the WAL back into the database from a
    thread of its own, so that no tick or request commit pays for it. PASSIVE checkpoints never
    wait for, nor block, the writer. Returns the event that stops it (None off SQLite)."""
    global _checkpointer
    conn = connections["default"]
    if conn.vendor != "sqlite" or _checkpointer is not None:
        return _checkpointer
    name = str(conn.settings_dict["NAME"])
    stop = _checkpointer = threading.Event()
    connections.close_all()  # reopened with the writers' checkpoint threshold raised

    def run() -> None:
        db = sqlite3.connect(name, timeout=20)
        try:
            while not stop.wait(interval):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    log.warning(
                        "WAL checkpoint failed; writers checkpoint past 64 MiB", exc_info=True
                    )
        finally:
            db.close()

    threading.Thread(target=run, name="sqlite-checkpoint", daemon=True).start()
    return stop
