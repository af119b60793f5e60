"""The reconcile worker: ticks every cluster it owns, about four times a second while something is due.

It is a thin driver in the style of healthchecks' ``sendalerts``: ``step()`` does one round of
work and the loop repeats it until asked to stop. Each cluster is owned by exactly one worker
at a time through a lease row (``Cluster.lease_owner``/``lease_until``); a worker that dies
loses its leases when they expire and another worker takes the clusters over.

A cluster is ticked when a user's change nudged it, when its next timer is due, or every
few seconds to notice writes made elsewhere. A converged cluster with no timer costs nothing
but that check: no rows written, no deltas sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from . import services
from .events import reconciler_group
from .models import Cluster

T = TypeVar("T")

# The worker's database work runs on a thread of its own. Channels runs every
# database_sync_to_async call of a process on ONE shared thread, so a tick of a large cluster
# (seconds, at 20,000 pods) would hold up every page request's and socket's session lookup
# behind it: browsers that connect then miss Daphne's 5-second handshake timeout.
_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kubelab-reconciler")


async def in_worker_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn`` on the worker's database thread, with Django's connection upkeep around it."""

    def run() -> T:
        close_old_connections()
        try:
            return fn(*args)
        finally:
            close_old_connections()

    return await asyncio.get_running_loop().run_in_executor(_THREAD, run)


log = logging.getLogger(__name__)

TICK_INTERVAL = 0.25  # seconds of wall time between ticks of a busy cluster
LEASE_SECONDS = 8.0
LEASE_RENEW_EVERY = 2.0
RECHECK_EVERY = 1.0  # look for writes made by other processes (one small query)
RESYNC_EVERY = 30.0  # a full tick even when nothing seems to have changed


class Reconciler:
    def __init__(self, layer: Any, worker_id: str | None = None) -> None:
        self.layer = layer
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.channel = ""
        self.owned: set[int] = set()
        self.dirty: set[int] = set()
        self.due: dict[int, dt.datetime | None] = {}
        self.last_tick: dict[int, float] = {}
        self.last_check: dict[int, float] = {}
        self.known_rv: dict[int, int] = {}
        self.rv_checked = 0.0
        self.wake = asyncio.Event()
        self.shutdown = False
        self.lease_checked = 0.0
        self.ticks = 0

    # ----- lifecycle -------------------------------------------------------------------------------
    async def run(self) -> None:
        if self.layer is not None:
            self.channel = await self.layer.new_channel("reconciler.")
        tasks = [asyncio.create_task(self._ticker())]
        if self.layer is not None:
            tasks.append(asyncio.create_task(self._listen()))
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await in_worker_thread(self._release_all)

    def stop(self) -> None:
        self.shutdown = True
        self.wake.set()

    async def _listen(self) -> None:
        while not self.shutdown:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reconciler receive failed")
                await asyncio.sleep(1)
                continue
            if message.get("type") == "cluster.nudge":
                cid = int(message.get("cluster", 0))
                if cid in self.owned:
                    self.dirty.add(cid)
                    self.wake.set()

    async def _ticker(self) -> None:
        while not self.shutdown:
            try:
                busy = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reconcile step failed")
                busy = False
                await asyncio.sleep(1)  # no crash loop
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=TICK_INTERVAL)
                self.wake.clear()

    # ----- one round ---------------------------------------------------------------------------------
    async def step(self) -> bool:
        """Renew leases, then tick the clusters that need it. Returns True if more work is waiting."""
        loop_now = asyncio.get_running_loop().time()
        if loop_now - self.lease_checked >= LEASE_RENEW_EVERY or not self.owned:
            self.lease_checked = loop_now
            owned = await in_worker_thread(self._renew_leases)
            for cid in owned - self.owned:
                self.dirty.add(cid)
                if self.layer is not None:
                    await self.layer.group_add(reconciler_group(cid), self.channel)
            for cid in self.owned - owned:
                if self.layer is not None:
                    await self.layer.group_discard(reconciler_group(cid), self.channel)
                self.due.pop(cid, None)
            self.owned = owned
        if self.owned and loop_now - self.rv_checked >= RECHECK_EVERY:
            self.rv_checked = loop_now
            for cid, rv in await in_worker_thread(self._current_rvs):
                if rv != self.known_rv.get(cid):
                    self.dirty.add(cid)
        now = timezone.now()
        more = False
        for cid in sorted(self.owned):
            due = self.due.get(cid)
            nudged = cid in self.dirty
            timer_due = due is not None and due <= now
            recheck = loop_now - self.last_check.get(cid, 0.0) >= RESYNC_EVERY
            if not (nudged or timer_due or recheck):
                continue
            if not nudged and loop_now - self.last_tick.get(cid, 0.0) < TICK_INTERVAL:
                continue  # at most ~4 ticks a second for timers
            self.dirty.discard(cid)
            self.last_check[cid] = loop_now
            self.last_tick[cid] = loop_now
            try:
                info = await in_worker_thread(services.cluster_tick, cid)
            except Cluster.DoesNotExist:
                self.owned.discard(cid)
                continue
            self.ticks += 1
            self.known_rv[cid] = info.rv
            self.due[cid] = info.next_due_wall()
            if info.pending:
                self.dirty.add(cid)
                more = True
        return more

    # ----- leases ------------------------------------------------------------------------------------
    def _renew_leases(self) -> set[int]:
        now = timezone.now()
        until = now + dt.timedelta(seconds=LEASE_SECONDS)
        Cluster.objects.filter(lease_owner=self.worker_id).update(lease_until=until)
        free = Q(lease_owner="") | Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        for cid in Cluster.objects.filter(free).values_list("id", flat=True):
            Cluster.objects.filter(Q(pk=cid) & free).update(
                lease_owner=self.worker_id, lease_until=until
            )
        return set(
            Cluster.objects.filter(lease_owner=self.worker_id, lease_until__gte=now).values_list(
                "id", flat=True
            )
        )

    def _current_rvs(self) -> list[tuple[int, int]]:
        return list(Cluster.objects.filter(pk__in=self.owned).values_list("id", "rv"))

    def release_all(self) -> None:
        """Give up every lease (on shutdown)."""
        self._release_all()

    def _release_all(self) -> None:
        Cluster.objects.filter(lease_owner=self.worker_id).update(lease_owner="", lease_until=None)
