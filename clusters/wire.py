"""What browsers receive: compact views of objects, snapshots and deltas (README, Live updates (WebSocket protocol)).

kubectl's columns (STATUS, READY, RESTARTS) are computed here, once per change, so every
browser shows exactly what kubectl would print without reimplementing ``printPod``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from kubelab.sim import kinds
from kubelab.sim.objects import KObject
from kubelab.sim.state import ClusterState


def object_key(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def view(obj: KObject, now: float) -> dict[str, Any]:
    """An object as browsers draw it: the fields every kind has, then its kind's own view."""
    v: dict[str, Any] = {
        "key": object_key(obj.kind, obj.namespace, obj.name),
        "kind": obj.kind,
        "name": obj.name,
        "namespace": obj.namespace,
        "uid": obj.uid,
        "rv": obj.resource_version,
        "created": obj.created,
        "labels": obj.labels,
    }
    if obj.deleted is not None:
        v["deleted"] = obj.deleted
        v["grace"] = obj.grace
    if obj.owner is not None:
        v["owner"] = {"kind": obj.owner.kind, "name": obj.owner.name, "uid": obj.owner.uid}
    extra = kinds.get(obj.kind).view
    if extra is not None:
        v.update(extra(obj, now))
    return v


def event_view(e: Any) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "type": e.type,
        "reason": e.reason,
        "object": e.object,
        "namespace": e.namespace,
        "message": e.message,
        "count": e.count,
        "first": e.first,
        "last": e.last,
        "source": e.source,
    }


def timers_view(state: ClusterState) -> list[dict[str, Any]]:
    return sorted(
        ({"obj": t.obj, "label": t.label, "at": t.at} for t in state.timers.values() if t.label),
        key=lambda t: (t["at"], t["obj"]),
    )


def clock_view(cluster: Any, state: ClusterState) -> dict[str, Any]:
    return {
        "time": cluster.sim_anchor,
        "speed": cluster.speed,
        "paused": cluster.paused,
        "wall": cluster.wall_anchor.timestamp(),
    }


def delta(state: ClusterState, seq: int, clock: dict[str, Any]) -> dict[str, Any]:
    now = state.now
    deletes = [object_key(k, obj.namespace, obj.name) for (k, _), obj in state.removed.items()]
    return {
        "type": "delta",
        "seq": seq,
        "time": now,
        "serverWall": time.time(),
        "clock": clock,
        "upserts": [view(obj, now) for obj in state.changed.values()],
        "deletes": deletes,
        "events": [event_view(e) for e in sorted(state.new_events.values(), key=lambda e: e.seq)],
        "activity": sorted(state.activity),
        "binds": [{"pod": p, "node": n} for p, n in state.binds],
        "timers": timers_view(state),
        **({"traffic": state.traffic} if state.traffic_changed else {}),
    }


def watch_events(state: ClusterState, epoch: float) -> list[list[Any]]:
    """One commit's changes as Kubernetes API watch events, ``[kind, type, object JSON, printer
    cells]``, the object as ``rest`` serves it (``epoch``: the wall time of simulated second 0)
    and its ``kubectl get`` row (for watches that asked for a Table). A removed object's event
    carries its last state; Events are ADDED, then MODIFIED as the correlator counts them."""
    now = state.now
    out: list[list[Any]] = []

    def event(kind: str, type_: str, obj: Any) -> list[Any]:
        k = kinds.get(kind)
        return [kind, type_, k.to_json(obj, now, epoch), k.row(obj, now) if k.row else []]

    for key, obj in state.changed.items():
        out.append(event(key[0], "ADDED" if key in state.added else "MODIFIED", obj))
    for (kind, _), obj in state.removed.items():
        out.append(event(kind, "DELETED", obj))
    for e in sorted(state.new_events.values(), key=lambda e: e.seq):
        out.append(event("Event", "ADDED" if e.count == 1 else "MODIFIED", e))
    return out


def snapshot(state: ClusterState, seq: int, clock: dict[str, Any], slug: str) -> dict[str, Any]:
    now = state.now
    events = sorted(state.events.values(), key=lambda e: e.seq)[-300:]
    return {
        "type": "snapshot",
        "seq": seq,
        "cluster": slug,
        "time": now,
        "serverWall": time.time(),
        "clock": clock,
        "objects": [view(obj, now) for obj in state.all_objects()],
        "events": [event_view(e) for e in events],
        "timers": timers_view(state),
        "traffic": state.traffic,
        "series": state.metrics.get("services", {}),
    }


# Compact, and ASCII (json's default ensure_ascii): a text's length is its size in bytes.
_encode = json.JSONEncoder(separators=(",", ":")).encode


def dumps(message: dict[str, Any]) -> str:
    return _encode(message)


# What one WebSocket message may carry. Daphne (Autobahn) refuses to send a message over 1 MiB
# (its websocket_max_message_size) and a browser parses a smaller one without a long pause, so a
# snapshot or delta larger than this goes out in parts.
MAX_MESSAGE = 256 * 1024
HARD_LIMIT = 1024 * 1024


def texts(message: dict[str, Any], limit: int = MAX_MESSAGE) -> list[str]:
    """A snapshot or delta as the texts of its WebSocket messages, each at most ``limit`` bytes
    of UTF-8 (so far as one list item fits; never more than ``HARD_LIMIT``).

    A message that fits is one text. A larger one is sent as its head — every field, with its
    long lists cut short — saying ``"parts": N``, then N − 1 messages ``{"type": "part", "seq",
    "<list key>": [more items]}`` that continue those lists in order. A client applies the
    message once it has all N (``join`` does what the browser does)."""
    whole = dumps(message)
    if len(whole) <= limit:
        return [whole]
    seq = message["seq"]
    head = dict(message)
    rest: list[str] = []
    budget = limit - 200  # room for the part's own keys
    for key, value in message.items():
        if not isinstance(value, list) or not value:
            continue
        items = [_encode(v) for v in value]
        if sum(len(i) for i in items) + len(items) <= budget // 8:
            continue  # a short list stays in the head
        chunks: list[list[str]] = [[]]
        size = 0
        for item in items:
            n = len(item) + 1
            if chunks[-1] and size + n > budget:
                chunks.append([])
                size = 0
            chunks[-1].append(item)
            size += n
        head[key] = []
        for chunk in chunks:
            text = f'{{"type":"part","seq":{seq},{json.dumps(key)}:[{",".join(chunk)}]}}'
            if len(text) > HARD_LIMIT:
                raise ValueError(f"one item of {key} is over {HARD_LIMIT} bytes")
            rest.append(text)
    head["parts"] = 1 + len(rest)
    first = dumps(head)
    if len(first) > HARD_LIMIT:
        raise ValueError("the head of the message is over the WebSocket limit")
    return [first, *rest]


def join(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A message from its parts, as the browser puts it together (``texts`` in reverse)."""
    head = dict(messages[0])
    parts = head.pop("parts", 1)
    if len(messages) != parts:
        raise ValueError(f"{len(messages)} of {parts} parts")
    for part in messages[1:]:
        if part.get("type") != "part" or part.get("seq") != head["seq"]:
            raise ValueError("a part of another message")
        for key, value in part.items():
            if key not in ("type", "seq"):
                head[key] = [*head.get(key, []), *value]
    return head


def apply_delta(snap: dict[str, Any], d: dict[str, Any]) -> dict[str, Any]:
    """Apply a delta to a snapshot the way the browser does (used by tests: snapshot + deltas == fresh snapshot)."""
    objs = {o["key"]: o for o in snap["objects"]}
    for key in d["deletes"]:
        objs.pop(key, None)
    for o in d["upserts"]:
        objs[o["key"]] = o
    events = {e["seq"]: e for e in snap["events"]}
    for e in d["events"]:
        events = {
            s: x
            for s, x in events.items()
            if not (
                x["object"] == e["object"]
                and x["reason"] == e["reason"]
                and x["message"] == e["message"]
                and x["source"] == e["source"]
            )
        }
        events[e["seq"]] = e
    return {
        **snap,
        "seq": d["seq"],
        "time": d["time"],
        "clock": d["clock"],
        "objects": list(objs.values()),
        "events": [events[s] for s in sorted(events)][-300:],
        "timers": d["timers"],
    }


def anonymise(message: dict[str, Any], pseudonyms: dict[str, str]) -> dict[str, Any]:
    """The message as students of an anonymised classroom see it: every student namespace replaced
    by its pseudonym (``ana`` → ``student-3``) in namespaces, keys, names of Namespace objects,
    event messages (``Successfully assigned ana/web-…``) and timer labels."""
    if not pseudonyms:
        return message
    pattern = re.compile(
        r"(?<![A-Za-z0-9.-])("
        + "|".join(re.escape(n) for n in sorted(pseudonyms, key=len, reverse=True))
        + r")(?=/)"
    )

    def text(s: str) -> str:
        return pattern.sub(lambda m: pseudonyms[m.group(1)], s) if "/" in s else s

    def walk(v: Any, key: str = "") -> Any:
        if isinstance(v, dict):
            out = {k: walk(x, k) for k, x in v.items()}
            if out.get("kind") == "Namespace" and out.get("name") in pseudonyms:
                out["name"] = pseudonyms[out["name"]]
                out["key"] = f"Namespace/{out['name']}"
                out["labels"] = {}
            return out
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, str):
            if key == "namespace" and v in pseudonyms:
                return pseudonyms[v]
            if key == "labels":
                return v
            return text(v)
        return v

    result: dict[str, Any] = walk(message)
    # Deletes of Namespace objects are keys without a slash after the name.
    if "deletes" in result:
        result["deletes"] = [
            f"Namespace/{pseudonyms.get(k[10:], k[10:])}" if k.startswith("Namespace/") else k
            for k in result["deletes"]
        ]
    return result
