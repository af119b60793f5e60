"""The kubectl subset KubeLab offers, over any store of a cluster.

``run(api, argv)`` parses kubectl's arguments and answers ``(exit code, stdout, stderr)`` with
kubectl's output. ``api`` hides where the cluster lives: ``LocalApi`` works on a ClusterState in
memory (the headless runner, tests); the web app passes one that reads from and writes through
its service layer, so both answer with the same words.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from . import KUBERNETES_VERSION, actions, kinds, printers
from .apiserver import ApiError
from .apiserver.apply import apply_text
from .apiserver.authz import authorize
from .control_loop import settle
from .state import ClusterState

Mutation = Callable[[ClusterState], list[str]]
T = TypeVar("T")


class Api(Protocol):
    def query(self, fn: Callable[[ClusterState], T]) -> T: ...

    def mutate(self, fn: Mutation) -> list[str]: ...


@dataclass
class LocalApi:
    state: ClusterState

    def query(self, fn: Callable[[ClusterState], T]) -> T:
        return fn(self.state)

    def mutate(self, fn: Mutation) -> list[str]:
        lines = fn(self.state)
        settle(self.state)
        return lines


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out if self.code == 0 else self.err


class UsageError(Exception):
    pass


def _kind(word: str) -> str:
    k = kinds.resolve(word)
    if k is None:
        raise UsageError(f'error: the server doesn\'t have a resource type "{word}"')
    return k.kind


def _parse(argv: list[str]) -> tuple[list[str], dict[str, str | bool]]:
    pos: list[str] = []
    flags: dict[str, str | bool] = {}
    takes_value = {
        "-n",
        "--namespace",
        "-o",
        "--output",
        "-f",
        "--filename",
        "--replicas",
        "--to-revision",
        "--revision",
        "--grace-period",
        "--min",
        "--max",
        "--cpu-percent",
        "--cpu",
        "--name",
    }
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and "=" in a:
            k, v = a.split("=", 1)
            flags[k] = v
        elif (
            a.startswith("-")
            and len(a) > 2
            and not a.startswith("--")
            and a[:2] in ("-n", "-o", "-f")
        ):
            flags[a[:2]] = a[2:]
        elif a in takes_value:
            if i + 1 >= len(argv):
                raise UsageError(f"error: flag needs an argument: {a}")
            flags[a] = argv[i + 1]
            i += 1
        elif a.startswith("-") and a != "-":
            flags[a] = True
        else:
            pos.append(a)
        i += 1
    return pos, flags


def _flag(flags: dict[str, str | bool], *names: str) -> str | None:
    for n in names:
        v = flags.get(n)
        if isinstance(v, str):
            return v
    return None


def _kind_name(pos: list[str], verb: str) -> tuple[str, str]:
    if not pos:
        raise UsageError("error: You must provide one or more resources by argument or filename.")
    if "/" in pos[0]:
        k, n = pos[0].split("/", 1)
        return _kind(k), n
    if len(pos) < 2:
        raise UsageError(
            "error: arguments in resource/name form must have a single resource and name"
            if verb != "describe"
            else "error: you must specify the name of the resource to describe"
        )
    return _kind(pos[0]), pos[1]


def run(
    api: Api,
    argv: list[str] | str,
    *,
    stdin: str | None = None,
    read_file: Callable[[str], str] | None = None,
    namespace: str = "default",
) -> Result:
    if isinstance(argv, str):
        try:
            argv = shlex.split(argv)
        except ValueError as e:
            return Result(1, "", f"error: {e}")
    if argv and argv[0] == "kubectl":
        argv = argv[1:]
    if not argv:
        return Result(1, "", 'error: a command is required, e.g. "kubectl get pods"')
    verb, rest = argv[0], argv[1:]
    try:
        pos, flags = _parse(rest)
        ns = _flag(flags, "-n", "--namespace") or namespace
        all_ns = bool(flags.get("-A") or flags.get("--all-namespaces"))
        handler = VERBS.get(verb)
        if handler is None:
            return Result(
                1,
                "",
                f'error: unknown command "{verb}" for "kubectl"\n\nDid you mean this?\n\t{_closest(verb)}'
                if _closest(verb)
                else f'error: unknown command "{verb}" for "kubectl"',
            )
        return handler(api, pos, flags, ns, all_ns, stdin, read_file)
    except UsageError as e:
        return Result(1, "", str(e))
    except ApiError as e:
        return Result(1, "", e.with_location())


def _closest(verb: str) -> str:
    import difflib

    m = difflib.get_close_matches(verb, list(VERBS), n=1)
    return m[0] if m else ""


def _ok(lines: list[str]) -> Result:
    return Result(0, "\n".join(lines) + ("\n" if lines else ""), "")


def cmd_apply(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    fname = _flag(flags, "-f", "--filename")
    if fname is None:
        raise UsageError("error: must specify one of -f and -k")
    if fname == "-":
        if stdin is None:
            raise UsageError("error: no input on stdin")
        text, label = stdin, "STDIN"
    else:
        if read_file is None:
            raise UsageError(f'error: the path "{fname}" does not exist')
        try:
            text = read_file(fname)
        except OSError:
            raise UsageError(f'error: the path "{fname}" does not exist') from None
        label = fname
    dry = _flag(flags, "--dry-run") in ("client", "server")
    lines = api.mutate(lambda st: apply_text(st, text, filename=label, namespace=ns, dry_run=dry))
    return _ok(lines)


def cmd_get(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    if not pos:
        raise UsageError(
            'error: You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.'
        )
    return api.query(lambda state: _get(state, pos, flags, ns, all_ns))


def _get(
    state: ClusterState, pos: list[str], flags: dict[str, str | bool], ns: str, all_ns: bool
) -> Result:
    words = pos[0].split(",")
    out_fmt = _flag(flags, "-o", "--output") or ""
    name = pos[1] if len(pos) > 1 else None
    if "/" in pos[0]:
        k, name = pos[0].split("/", 1)
        words = [k]
    blocks = []
    for w in words:
        kind = _kind(w)
        k = kinds.get(kind)
        namespace = None if all_ns and k.namespaced else ns
        authorize(
            state,
            "list" if name is None else "get",
            kind,
            kinds.namespace_of(kind, namespace or ""),
            name or "",
        )
        if out_fmt == "json":
            try:
                blocks.append(printers.get_json(state, kind, namespace, name))
            except KeyError:
                raise ApiError(actions.not_found(kind, name or "").message, code=404) from None
            continue
        if name is not None:
            obj = state.get(kind, namespace or "default", name)
            if obj is None:
                raise actions.not_found(kind, name)
            headers, rows = kinds.rows(state, kind, namespace, out_fmt == "wide")
            col = 1 if namespace is None and k.namespaced else 0
            rows = [r for r in rows if r[col] == name]
            blocks.append(printers.table(headers, rows))
            continue
        if out_fmt == "name":
            objs = k.objects(state)
            blocks.append(
                "\n".join(
                    f"{k.kubectl_name}/{o.name}"
                    for o in sorted(objs, key=lambda o: o.name)
                    if namespace is None or not k.namespaced or o.namespace == namespace
                )
            )
            continue
        if out_fmt not in ("", "wide"):
            raise UsageError(
                f'error: unable to match a printer suitable for the output format "{out_fmt}", allowed formats are: json,name,wide'
            )
        text = kinds.get_table(state, kind, namespace, out_fmt == "wide")
        if text.startswith("No resources found"):
            return Result(0, "", text + "\n")
        blocks.append(text)
    return Result(0, "\n\n".join(blocks) + "\n", "")


def cmd_describe(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    kind, name = _kind_name(pos, "describe")
    try:

        def read(st: ClusterState) -> str:
            authorize(st, "get", kind, kinds.namespace_of(kind, ns), name)
            return kinds.describe(st, kind, ns, name)

        return Result(0, api.query(read) + "\n", "")
    except KeyError:
        raise actions.not_found(kind, name) from None


def cmd_scale(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    kind, name = _kind_name(pos, "scale")
    r = _flag(flags, "--replicas")
    if r is None:
        raise UsageError('error: required flag(s) "replicas" not set')
    if not re.fullmatch(r"-?\d+", r):
        raise UsageError(
            f'error: invalid argument "{r}" for "--replicas" flag: strconv.ParseInt: parsing "{r}": invalid syntax'
        )
    if kind not in ("Deployment", "ReplicaSet"):
        raise UsageError(f"error: cannot scale {kind.lower()}s")
    return _ok(api.mutate(lambda st: actions.scale(st, ns, name, int(r), kind)))


def cmd_set(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    if not pos or pos[0] != "image":
        raise UsageError("error: only `kubectl set image` is available in KubeLab")
    rest = pos[1:]
    if not rest:
        raise UsageError(
            "error: one or more resources must be specified as <resource> <name> or <resource>/<name>"
        )
    if "/" in rest[0]:
        kind, name = _kind_name(rest[:1], "set")
        pairs = rest[1:]
    else:
        kind, name = _kind_name(rest[:2], "set")
        pairs = rest[2:]
    if kind != "Deployment":
        raise UsageError("error: KubeLab can set images on deployments only")
    images = {}
    for p in pairs:
        if "=" not in p:
            raise UsageError("error: at least one image update is required")
        c, img = p.split("=", 1)
        images[c] = img
    if not images:
        raise UsageError("error: at least one image update is required")
    return _ok(api.mutate(lambda st: actions.set_image(st, ns, name, images)))


def cmd_rollout(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    if not pos:
        raise UsageError("error: Required resource not specified.")
    sub, rest = pos[0], pos[1:]
    kind, name = _kind_name(rest, "rollout")
    if kind != "Deployment":
        raise UsageError(f"error: no rollout support for {kind.lower()}s in KubeLab")
    if sub in ("status", "history"):
        api.query(lambda st: authorize(st, "get", kind, ns, name))
    if sub == "status":
        done, msg = api.query(lambda st: actions.rollout_status(st, ns, name))
        return Result(0, msg + "\n", "")
    if sub == "history":
        rev = int(_flag(flags, "--revision") or 0)
        return Result(
            0,
            "\n".join(api.query(lambda st: actions.rollout_history(st, ns, name, rev))) + "\n",
            "",
        )
    if sub == "undo":
        to = int(_flag(flags, "--to-revision") or 0)
        return _ok(api.mutate(lambda st: actions.rollout_undo(st, ns, name, to)))
    if sub in ("pause", "resume"):
        return _ok(api.mutate(lambda st: actions.rollout_pause(st, ns, name, sub == "pause")))
    if sub == "restart":
        return _ok(api.mutate(lambda st: actions.rollout_restart(st, ns, name)))
    raise UsageError(f'error: unknown command "{sub}" for "kubectl rollout"')


def cmd_delete(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    kind, name = _kind_name(pos, "delete")
    if kind == "Event":
        raise UsageError("error: KubeLab keeps events; they expire on their own")
    return _ok(api.mutate(lambda st: actions.delete(st, kind, ns, name)))


def _node_cmd(fn: Callable[..., list[str]], **kw: bool) -> Callable[..., Result]:
    def handler(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
        if not pos:
            raise UsageError("error: USAGE: kubectl cordon|uncordon|drain NODE")
        name = pos[0].split("/", 1)[-1]
        extra = {}
        if fn is actions.drain:
            extra = {
                "force": bool(flags.get("--force")),
                "delete_emptydir_data": bool(flags.get("--delete-emptydir-data")),
            }
        return _ok(api.mutate(lambda st: fn(st, name, **kw, **extra)))

    return handler


def cmd_top(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    """``kubectl top pods|nodes`` from the simulated metrics-server (kubelab/sim/traffic.py)."""
    what = (pos[0] if pos else "").lower()
    if what in ("pod", "pods", "po"):

        def read(st: ClusterState) -> str:
            authorize(st, "list", "Pod", "" if all_ns else ns, "")
            return printers.top_pods(st, None if all_ns else ns)

        try:
            return Result(0, api.query(read) + "\n", "")
        except KeyError:
            return Result(1, "", "error: metrics not available yet")
    if what in ("node", "nodes", "no"):
        return Result(0, api.query(printers.top_nodes) + "\n", "")
    raise UsageError(
        'error: unknown command "' + (what or "") + '" for "kubectl top": use pods or nodes'
    )


def cmd_autoscale(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    """``kubectl autoscale deployment NAME --min=N --max=N --cpu-percent=N`` (creates an HPA)."""
    kind, name = _kind_name(pos, "autoscale")
    if kind != "Deployment":
        raise UsageError(f"error: cannot autoscale a {kind}: KubeLab autoscales Deployments")
    hi = _flag(flags, "--max")
    if hi is None:
        raise UsageError('error: required flag(s) "max" not set')
    cpu = _flag(flags, "--cpu-percent") or (_flag(flags, "--cpu") or "").rstrip("%") or None
    lo = _flag(flags, "--min")
    for label, v in (("max", hi), ("min", lo), ("cpu-percent", cpu)):
        if v is not None and not re.fullmatch(r"-?\d+", v):
            raise UsageError(
                f'error: invalid argument "{v}" for "--{label}" flag: strconv.ParseInt: parsing "{v}": invalid syntax'
            )
    hpa_name = _flag(flags, "--name") or name
    lines = [
        "apiVersion: autoscaling/v2",
        "kind: HorizontalPodAutoscaler",
        f"metadata: {{name: {hpa_name}}}",
        "spec:",
        f"  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}",
        f"  maxReplicas: {int(hi)}",
    ]
    if lo is not None:
        lines.append(f"  minReplicas: {int(lo)}")
    if cpu is not None:
        lines.append(
            "  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, "
            f"averageUtilization: {int(cpu)}}}}}}}]"
        )
    text = "\n".join(lines) + "\n"

    def create(st: ClusterState) -> list[str]:
        if st.deployments.get((ns, name)) is None:
            raise actions.not_found("Deployment", name)
        if st.hpas.get((ns, hpa_name)) is not None:
            raise ApiError(
                f'Error from server (AlreadyExists): horizontalpodautoscalers.autoscaling "{hpa_name}" already exists',
                code=409,
            )
        apply_text(st, text, namespace=ns)
        return [f"horizontalpodautoscaler.autoscaling/{hpa_name} autoscaled"]

    return _ok(api.mutate(create))


def cmd_version(api: Api, pos, flags, ns, all_ns, stdin, read_file) -> Result:  # type: ignore[no-untyped-def]
    return Result(
        0,
        f"Client Version: {KUBERNETES_VERSION}\nKustomize Version: v5.7.1\nServer Version: {KUBERNETES_VERSION}\n",
        "",
    )


VERBS: dict[str, Callable[..., Result]] = {
    "apply": cmd_apply,
    "get": cmd_get,
    "describe": cmd_describe,
    "scale": cmd_scale,
    "set": cmd_set,
    "rollout": cmd_rollout,
    "delete": cmd_delete,
    "cordon": _node_cmd(actions.cordon, on=True),
    "uncordon": _node_cmd(actions.cordon, on=False),
    "drain": _node_cmd(actions.drain),
    "version": cmd_version,
    "top": cmd_top,
    "autoscale": cmd_autoscale,
}
