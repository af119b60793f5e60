"""``manage.py up``: migrate, then serve HTTP and WebSocket with Daphne on one port."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate the database and start KubeLab (Daphne; the reconcile loop runs in the same process)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        from daphne.server import Server

        from kubelab.asgi import application

        call_command("migrate", interactive=False, verbosity=0)
        host, port = opts["host"], opts["port"]
        self.stdout.write(f"KubeLab is running at http://{host}:{port}/  (Ctrl-C to stop)")
        Server(application, endpoints=[f"tcp:port={port}:interface={host}"], verbosity=0).run()
