"""``manage.py reconcile``: a reconcile worker as its own process (scale-out mode with Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a reconcile worker: it takes leases on clusters and ticks them (needs REDIS_URL to reach browsers)."

    def handle(self, *args: Any, **opts: Any) -> None:
        from channels.layers import get_channel_layer

        from clusters.events import use_event_loop
        from clusters.worker import Reconciler

        reconciler = Reconciler(get_channel_layer())

        async def main() -> None:
            loop = asyncio.get_running_loop()
            use_event_loop(loop)
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, reconciler.stop)
            self.stdout.write(f"reconcile worker {reconciler.worker_id} started")
            task = asyncio.create_task(reconciler.run())
            while not reconciler.shutdown:
                await asyncio.sleep(0.2)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        asyncio.run(main())
