"""``manage.py up``: the embedded default — migrate, create the demo cluster, serve HTTP and
WebSocket with Daphne, and run the reconcile loop inside the same process and event loop."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

log = logging.getLogger(__name__)


SWITCH_INTERVAL = 0.0005  # seconds (CPython's default: 0.005)


class Command(BaseCommand):
    help = "Migrate, create the demo cluster if there is none, and serve KubeLab with the reconcile loop in-process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="do not create the demo cluster")

    def handle(self, *args: Any, **opts: Any) -> None:
        from channels.layers import get_channel_layer
        from daphne.server import Server

        from clusters import services
        from clusters.apps import checkpoint_in_background
        from clusters.events import use_event_loop
        from clusters.worker import Reconciler
        from kubelab.asgi import application

        call_command("migrate", interactive=False, verbosity=0)
        if not opts["no_demo"]:
            services.demo_cluster_ensure()
        host, port = opts["host"], opts["port"]
        checkpoints = checkpoint_in_background()
        # One process serves the page requests, the reconciler and every socket. The event loop
        # is busy writing frames to a classroom of sockets, and a request thread re-takes the GIL
        # after each database call; at the default 5 ms switch interval those waits added up to
        # hundreds of milliseconds per request (tests/perf/bench_classroom.py). Switch sooner.
        sys.setswitchinterval(SWITCH_INTERVAL)
        reconciler = Reconciler(get_channel_layer())

        def start_reconciler() -> None:
            # Daphne runs Twisted on an asyncio loop; the reconciler runs on that same loop so
            # that its group_send reaches the sockets of the in-memory channel layer.
            loop = asyncio.get_event_loop()
            use_event_loop(loop)
            loop.create_task(reconciler.run())

        self.stdout.write(f"KubeLab is running at http://{host}:{port}/  (Ctrl-C to stop)")
        server = Server(
            application,
            endpoints=[f"tcp:port={port}:interface={host}"],
            ready_callable=start_reconciler,
            verbosity=0,
        )
        try:
            server.run()
        finally:
            reconciler.stop()
            # The event loop is gone, so release the leases here: a restart ticks at once.
            reconciler.release_all()
            if checkpoints is not None:
                checkpoints.set()
            self.stdout.write("KubeLab stopped.")
