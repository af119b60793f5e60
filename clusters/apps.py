from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


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
    if name in _wal_files:
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        if cursor.fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
    _wal_files.add(name)
