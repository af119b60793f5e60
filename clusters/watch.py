"""Kubernetes API watches: ``GET …?watch=true`` streamed from the after-commit watch events.

The data flow: a commit on a watched cluster (``Cluster.watched_until`` in the future) serialises
its changed objects once (``wire.watch_events``) and sends them, after commit, to the channel
group ``watch.<cluster>`` (``events.publish_watch_on_commit``), on the in-process layer or on
Redis. Each process that serves watches of a cluster holds one ``Hub`` for it: one channel in that
group, a history of recent batches (the watch cache), and its open watches. A watch is a
``StreamingHttpResponse`` over an async generator: newline-delimited JSON (``{"type": "ADDED",
"object": …}``), held open up to ``timeoutSeconds`` (or ``MAX_TIMEOUT``), with BOOKMARK events
when asked (``allowWatchBookmarks``).

Where a watch starts, as kube-apiserver's watch cache: ``resourceVersion`` empty or ``"0"`` (or
``sendInitialEvents=true``) first sends an ADDED event for every object that matches, then what
changes; ``resourceVersion=N`` replays the history after N, or answers ``410 Gone`` ("too old
resource version") when N is older than what this process has kept. A list marks the cluster
watched before it reads (``interest``), so the watch that follows a list (``kubectl get -w``,
``rollout status``, informers) finds every change after the list's resourceVersion.

Limits: ``MAX_WATCHES_PER_USER`` open watches per person and process (then 429 with
``Retry-After``); a watch's hub lingers ``LINGER`` seconds after its last watch closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from kubelab.sim.apiserver import rest
from kubelab.sim.apiserver import status as st
from kubelab.sim.apiserver.selectors import fields_match, labels_match, parse_fields, parse_labels

from . import access, services
from .events import watch_group
from .models import Cluster

log = logging.getLogger(__name__)

HISTORY = 500  # batches (commits) of events kept per cluster
MAX_WATCHES_PER_USER = 25
MAX_TIMEOUT = 1800.0  # kube-apiserver's --min-request-timeout: a watch lasts 30–60 minutes
BOOKMARK_EVERY = 60.0
MARK_EVERY = 20.0  # how often a hub renews Cluster.watched_until
MARK_FOR = 60.0
LINGER = 600.0


@dataclass(eq=False)
class Watch:
    kind: Any  # kinds.Kind
    namespace: str | None
    labels: list[Any]
    fields: list[Any]
    table: bool
    include: str
    user: str
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    columns_sent: bool = False

    def wants(self, kind: str, obj: dict[str, Any]) -> bool:
        if kind != self.kind.kind:
            return False
        meta = obj.get("metadata") or {}
        if (
            self.kind.namespaced
            and self.namespace is not None
            and meta.get("namespace") != self.namespace
        ):
            return False
        if self.labels and not labels_match(self.labels, meta.get("labels") or {}):
            return False
        return not self.fields or fields_match(self.fields, obj, self.kind.selectable())


class Hub:
    """This process's subscription to one cluster's watch events."""

    def __init__(self, cluster_id: int) -> None:
        self.cluster_id = cluster_id
        self.start_rv = 0  # the history is complete after this resourceVersion
        self.rv = 0
        self.history: deque[tuple[int, list[list[Any]], dict[int, bytes]]] = deque(maxlen=HISTORY)
        self.watches: set[Watch] = set()
        self.idle_since = asyncio.get_running_loop().time()
        self.channel = ""
        self.task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        layer = get_channel_layer()
        self.channel = await layer.new_channel("watch.")
        await layer.group_add(watch_group(self.cluster_id), self.channel)
        self.start_rv = self.rv = await sync_to_async(_mark, thread_sensitive=False)(
            self.cluster_id
        )
        self.task = asyncio.get_running_loop().create_task(self.run())
        self.ready.set()

    async def run(self) -> None:
        layer = get_channel_layer()
        loop = asyncio.get_running_loop()
        marked = loop.time()
        try:
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(self.channel), MARK_EVERY)
                except TimeoutError:
                    message = None
                now = loop.time()
                if message is not None and message.get("type") == "watch.events":
                    rv = int(message["rv"])
                    if rv > self.rv:
                        self.rv = rv
                        batch = (rv, message["events"], {})  # {event index: its JSON line}
                        self.history.append(batch)
                        for w in list(self.watches):
                            w.queue.put_nowait(batch)
                if self.watches:
                    self.idle_since = now
                elif now - self.idle_since > LINGER:
                    break
                if now - marked >= MARK_EVERY:
                    marked = now
                    await sync_to_async(_mark, thread_sensitive=False)(self.cluster_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("watch hub of cluster %s stopped", self.cluster_id)
        finally:
            _hubs.pop(self.cluster_id, None)
            for w in list(self.watches):
                w.queue.put_nowait(None)
            with contextlib.suppress(Exception):  # the layer is closing
                await layer.group_discard(watch_group(self.cluster_id), self.channel)


def _mark(cluster_id: int) -> int:
    """Mark the cluster watched for a while; its current resourceVersion."""
    until = timezone.now() + dt.timedelta(seconds=MARK_FOR)
    Cluster.objects.filter(pk=cluster_id).update(watched_until=until)
    return int(Cluster.objects.filter(pk=cluster_id).values_list("rv", flat=True).first() or 0)


_hubs: dict[int, Hub] = {}
_open: dict[str, int] = {}  # open watches per user


async def hub_for(cluster_id: int) -> Hub:
    hub = _hubs.get(cluster_id)
    if hub is None:
        hub = _hubs[cluster_id] = Hub(cluster_id)
        try:
            await hub.start()
        except BaseException:
            _hubs.pop(cluster_id, None)
            raise
    await hub.ready.wait()
    return hub


def interest(cluster_id: int) -> None:
    """Called before a list: from now on, commits publish watch events this process keeps."""
    try:
        async_to_sync(hub_for)(cluster_id)
    except Exception:  # no channel layer or event loop: lists still work, watches will say so
        log.exception("could not subscribe to watch events of cluster %s", cluster_id)


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


def _timeout(req: rest.Request) -> float:
    try:
        t = float(req.param("timeoutSeconds") or MAX_TIMEOUT)
    except ValueError:
        raise st.bad_request(f"invalid timeoutSeconds: {req.param('timeoutSeconds')!r}") from None
    return max(0.0, min(t, MAX_TIMEOUT))


def _encode(w: Watch, type_: str, obj: dict[str, Any], cells: list[Any]) -> bytes:
    if not w.table:
        return _line({"type": type_, "object": obj})
    k = w.kind
    row: dict[str, Any] = {"cells": rest.typed_cells(k, cells)}
    if w.include == "Object":
        row["object"] = obj
    elif w.include != "None":
        row["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata") or {},
        }
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": (obj.get("metadata") or {}).get("resourceVersion", "")},
        "columnDefinitions": [] if w.columns_sent else rest.table_columns(k),
        "rows": [row],
    }
    w.columns_sent = True
    return _line({"type": type_, "object": table})


def _bookmark(w: Watch, rv: int, initial_end: bool = False) -> bytes:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return _line(
        {
            "type": "BOOKMARK",
            "object": {"kind": w.kind.kind, "apiVersion": w.kind.api_version, "metadata": meta},
        }
    )


def stream(cluster: Cluster, actor: access.Actor, req: rest.Request) -> HttpResponse:
    """The response to a watch request (a sync view's answer; the body streams on the loop)."""
    from .apiserver import status_response

    try:
        r = rest.route(rest.split(req.path))
        if r.name or r.sub:
            raise st.not_allowed()
        labels = parse_labels(req.param("labelSelector"))
        fields = parse_fields(req.param("fieldSelector"), r.kind.selectable())
        timeout = _timeout(req)
    except st.Status as s:
        return status_response(s)
    if _open.get(actor.user, 0) >= MAX_WATCHES_PER_USER:
        return status_response(st.too_many_requests(1))
    try:
        hub = async_to_sync(hub_for)(cluster.pk)
    except Exception:
        log.exception("watch of cluster %s refused", cluster.pk)
        return status_response(st.Status(503, "ServiceUnavailable", "watches are not available"))
    w = Watch(
        r.kind,
        r.namespace,
        labels,
        fields,
        rest.table_wanted(req.accept),
        req.param("includeObject", "Metadata"),
        actor.user,
    )
    async_to_sync(_attach)(hub, w)
    rv_param = req.param("resourceVersion")
    initial = rv_param in ("", "0") or req.param("sendInitialEvents") == "true"

    def read(state: Any) -> rest.Response:
        rest.check_watch(state, r)  # authorization (the person's RBAC) and the namespace
        body: list[Any] = []
        if initial:
            now, epoch = state.now, rest.epoch_of(state)
            for o in rest.matching(state, r, req):
                body.append(
                    [r.kind.to_json(o, now, epoch), r.kind.row(o, now) if r.kind.row else []]
                )
        return rest.Response(200, {"rv": state.rv, "objects": body})

    try:
        answer = services.api_call(cluster.pk, read, actor=actor)
    except access.Forbidden as e:
        async_to_sync(_detach)(hub, w)
        return status_response(st.Status(403, "Forbidden", str(e)))
    if answer.code != 200:
        async_to_sync(_detach)(hub, w)
        return rest_response(answer)
    state_rv = int(answer.body["rv"])
    lines: list[bytes] = []
    if initial:
        since = state_rv
        lines = [_encode(w, "ADDED", obj, cells) for obj, cells in answer.body["objects"]]
        if req.param("sendInitialEvents") == "true":
            lines.append(_bookmark(w, state_rv, initial_end=True))
    else:
        try:
            since = int(rv_param)
        except ValueError:
            async_to_sync(_detach)(hub, w)
            return status_response(st.bad_request(f'invalid resource version "{rv_param}"'))
        if since < hub.start_rv and since < state_rv:
            async_to_sync(_detach)(hub, w)
            return status_response(st.gone(f"too old resource version: {since} ({hub.start_rv})"))
    bookmarks = req.param("allowWatchBookmarks") == "true"
    response = StreamingHttpResponse(
        _events(hub, w, lines, since, timeout, bookmarks), content_type="application/json"
    )
    response["Cache-Control"] = "no-cache, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def rest_response(r: rest.Response) -> HttpResponse:
    from .apiserver import respond

    return respond(r)


async def _attach(hub: Hub, w: Watch) -> None:
    hub.watches.add(w)
    _open[w.user] = _open.get(w.user, 0) + 1
    # Replays come from the history, not the queue: start the queue empty.
    for batch in list(hub.history):
        w.queue.put_nowait(batch)


async def _detach(hub: Hub, w: Watch) -> None:
    if w in hub.watches:
        hub.watches.discard(w)
        _open[w.user] = max(0, _open.get(w.user, 1) - 1)
        if not _open[w.user]:
            _open.pop(w.user, None)


async def _events(
    hub: Hub, w: Watch, lines: list[bytes], since: int, timeout: float, bookmarks: bool
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = since
    try:
        for line in lines:
            yield line
        if not lines:
            yield b""  # send the headers now: kubectl waits for them before it prints anything
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                batch = await asyncio.wait_for(w.queue.get(), min(remaining, BOOKMARK_EVERY))
            except TimeoutError:
                if bookmarks and loop.time() < deadline:
                    yield _bookmark(w, max(last, hub.rv))
                continue
            if batch is None:
                return  # the hub stopped: the client re-lists and watches again
            rv, events, lines_of = batch
            if rv <= last:
                continue
            last = rv
            parts = []
            for i, (kind, type_, obj, cells) in enumerate(events):
                if not w.wants(kind, obj):
                    continue
                if w.table:
                    parts.append(_encode(w, type_, obj, cells))
                else:  # the same line for every plain watch: encode it once per batch
                    line = lines_of.get(i)
                    if line is None:
                        line = lines_of[i] = _line({"type": type_, "object": obj})
                    parts.append(line)
            out = b"".join(parts)
            if out:
                yield out
    finally:
        await _detach(hub, w)
