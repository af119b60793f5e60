"""Safe YAML → Python, with a line number for every field.

Guards run on PyYAML's event stream *before* anything is built: size, documents, nesting
depth and aliases are bounded, and the expanded size of aliased data is computed without
expanding it, so a "billion laughs" document is refused in microseconds. Only the pure-Python
SafeLoader is used (libyaml's C loader can crash on deep nesting).
"""

from __future__ import annotations

import copy
import datetime
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import ScalarNode

from . import ApiError

MAX_MANIFEST_BYTES = 1024 * 1024  # 1 MiB
MAX_DOCUMENTS = 100
MAX_DEPTH = 64
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 200_000
MAX_ALIAS_EXPANSION = (
    10_000  # values reached through aliases (real manifests reuse a few small blocks)
)

Path = tuple[str | int, ...]


@dataclass
class Document:
    data: dict[str, Any]
    index: int
    line: int  # 1-based line of the document's first token
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.line


def _parse_error(filename: str, detail: str, line: int | None = None, code: int = 400) -> ApiError:
    where = f"line {line}: " if line else ""
    return ApiError(
        f"error: error parsing {filename}: error converting YAML to JSON: yaml: {where}{detail}",
        line=line,
        code=code,
    )


_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\n]|\'\')*\'')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_PAIR = re.compile(r"\[\]|\{\}")


def _flow_too_deep(text: str) -> bool:
    """Flow collections (``[[[…]]]``) nested deeper than MAX_DEPTH, found with C-speed regexes.

    PyYAML's scanner looks ahead through a whole flow collection before it yields the first
    event, in time that grows with the square of the depth, so this guard runs first.
    """
    b = _NOT_BRACKET.sub("", _QUOTED.sub("", text))
    if len(b) <= 2 * MAX_DEPTH:
        return False
    for _ in range(MAX_DEPTH):
        nb = _PAIR.sub("", b)
        if nb == b:
            break
        b = nb
    return bool(_PAIR.search(b)) or b.count("[") + b.count("{") > MAX_DEPTH


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_scalar_loader = yaml.SafeLoader("")
_MERGE = "tag:yaml.org,2002:merge"


_scalar_cache: dict[tuple[Any, ...], Any] = {}


def _scalar(ev: yaml.ScalarEvent) -> Any:
    ck = (ev.value, ev.tag, ev.implicit, ev.style)
    try:
        return _scalar_cache[ck]
    except KeyError:
        pass
    value = _construct_scalar(ev)
    if len(_scalar_cache) > 20000:
        _scalar_cache.clear()
    _scalar_cache[ck] = value
    return value


def _construct_scalar(ev: yaml.ScalarEvent) -> Any:
    tag = ev.tag
    if tag is None or tag == "!":
        tag = _resolver.resolve(ScalarNode, ev.value, ev.implicit)
    if tag == _MERGE:
        return _MergeKey
    ctor = yaml.SafeLoader.yaml_constructors.get(tag)
    if ctor is None:
        return ev.value
    try:
        value = ctor(
            _scalar_loader, ScalarNode(tag, ev.value, ev.start_mark, ev.end_mark, ev.style)
        )
    except (yaml.YAMLError, ValueError, TypeError):
        return ev.value
    if isinstance(value, datetime.datetime | datetime.date | bytes):
        return ev.value  # JSON has no timestamps or binary: Kubernetes keeps the text
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return ev.value
    return value


class _MergeKey:
    """The ``<<`` merge key."""


class _Frame:
    __slots__ = ("anchor", "key", "key_line", "path", "size", "start", "value")

    def __init__(self, value: Any, path: Path, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.key: Any = None
        self.key_line = 0
        self.size = 1
        self.start = 0


def _parse(text: str, filename: str) -> list[Document]:
    """Build documents from libyaml's event stream, enforcing every limit as events arrive."""
    docs: list[Document] = []
    anchors: dict[str, tuple[Any, int]] = {}
    aliases = 0
    expanded = 0
    via_aliases = 0
    stack: list[_Frame] = []
    lines: dict[Path, int] = {}
    root: Any = None
    doc_line = 1
    index = 0
    ev: Any = None

    def add(value: Any, size: int, line: int) -> None:
        nonlocal root, expanded
        expanded += size
        if expanded > MAX_EXPANDED_NODES:
            raise _parse_error(
                filename,
                f"document contains excessive aliasing (it expands to more than {MAX_EXPANDED_NODES} values)",
                line,
            )
        if not stack:
            root = value
            return
        top = stack[-1]
        top.size += size
        if isinstance(top.value, list):
            lines[(*top.path, len(top.value))] = line
            top.value.append(value)
            return
        if top.key is None:
            if isinstance(value, dict | list):
                raise _parse_error(filename, "invalid map key: a key must be a plain value", line)
            top.key = (
                _MergeKey
                if value is _MergeKey
                else (
                    "null"
                    if value is None
                    else str(value).lower()
                    if isinstance(value, bool)
                    else str(value)
                )
            )
            top.key_line = line
            return
        key, top.key = top.key, None
        if key is _MergeKey:
            for src in value if isinstance(value, list) else [value]:
                if isinstance(src, dict):
                    for mk, mv in src.items():
                        top.value.setdefault(mk, mv)
            return
        if key in top.value:
            raise ApiError(
                f"error: error parsing {filename}: error converting YAML to JSON: yaml: unmarshal errors:\n"
                f'  line {top.key_line}: key "{key}" already set in map',
                line=top.key_line,
                field=".".join(str(p) for p in (*top.path, key)),
                code=400,
            )
        lines[(*top.path, key)] = top.key_line
        top.value[key] = value

    def child_path() -> Path:
        if not stack:
            return ()
        top = stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        return (
            (*top.path, top.key) if top.key is not None and top.key is not _MergeKey else top.path
        )

    try:
        for ev in yaml.parse(text, Loader=_Loader):
            line = ev.start_mark.line + 1 if ev.start_mark else 0
            if isinstance(ev, yaml.ScalarEvent):
                value = _scalar(ev)
                add(value, 1, line)
                if ev.anchor:
                    anchors[ev.anchor] = (value, 1)
            elif isinstance(ev, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise ApiError(
                        f"error: error parsing {filename}: nesting is deeper than {MAX_DEPTH} levels "
                        f"(KubeLab's limit, max-yaml-depth={MAX_DEPTH})",
                        line=line,
                        code=400,
                    )
                frame = _Frame(
                    {} if isinstance(ev, yaml.MappingStartEvent) else [], child_path(), ev.anchor
                )
                frame.start = line
                stack.append(frame)
            elif isinstance(ev, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                frame = stack.pop()
                if frame.anchor:
                    anchors[frame.anchor] = (frame.value, frame.size)
                expanded -= frame.size - 1  # its children were counted as they arrived
                add(frame.value, frame.size, frame.start)
            elif isinstance(ev, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise ApiError(
                        f"error: error parsing {filename}: error converting YAML to JSON: yaml: document contains excessive aliasing "
                        f"(more than {MAX_ALIASES} aliases; KubeLab's limit, max-yaml-aliases={MAX_ALIASES})",
                        line=line,
                        code=400,
                    )
                if ev.anchor not in anchors:
                    raise _parse_error(filename, f'unknown anchor "{ev.anchor}" referenced', line)
                value, size = anchors[ev.anchor]
                via_aliases += size
                if (
                    via_aliases > MAX_ALIAS_EXPANSION or expanded + size > MAX_EXPANDED_NODES
                ):  # refuse before copying
                    raise _parse_error(
                        filename,
                        f"document contains excessive aliasing (it expands to more than {MAX_EXPANDED_NODES} values)",
                        line,
                    )
                add(copy.deepcopy(value) if isinstance(value, dict | list) else value, size, line)
            elif isinstance(ev, yaml.DocumentStartEvent):
                if len(docs) >= MAX_DOCUMENTS:
                    raise ApiError(
                        f"error: {filename} has more than {MAX_DOCUMENTS} documents (KubeLab's limit, max-documents={MAX_DOCUMENTS})",
                        code=413,
                    )
                root, lines, anchors, stack = None, {}, {}, []
                doc_line = line
            elif isinstance(ev, yaml.DocumentEndEvent):
                if root is not None:
                    if not isinstance(root, dict):
                        raise ApiError(
                            f'error: error validating "{filename}": error validating data: invalid object to validate: '
                            f"a manifest must be a mapping with apiVersion, kind and metadata, not a {type(root).__name__}",
                            line=doc_line,
                            code=400,
                        )
                    docs.append(Document(root, index, doc_line, lines))
                index += 1
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise _parse_error(
            filename, str(e.problem or e.context or "invalid YAML"), mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as e:
        raise _parse_error(filename, str(e).splitlines()[0] if str(e) else "invalid YAML") from None
    return docs


def load_documents(raw: str | bytes, filename: str = "STDIN") -> list[Document]:
    """Parse one or more YAML documents safely; empty documents are skipped."""
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > MAX_MANIFEST_BYTES:
        raise ApiError(
            f"error: {filename} is too large: {size / 1048576:.1f} MiB (KubeLab accepts at most "
            f"{MAX_MANIFEST_BYTES // 1048576} MiB per apply, max-manifest-bytes={MAX_MANIFEST_BYTES})",
            code=413,
        )
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise _parse_error(
                filename, f"invalid UTF-8 at byte {e.start}: manifests must be UTF-8 text"
            ) from None
    else:
        text = raw
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = next(
        (ch for ch in text if (ord(ch) < 32 and ch not in "\t\n\r") or ch in "\ufffe\uffff"), None
    )
    if bad is not None:
        line = text[: text.index(bad)].count("\n") + 1
        raise _parse_error(filename, "control characters are not allowed", line)
    if _flow_too_deep(text):
        raise ApiError(
            f"error: error parsing {filename}: nesting is deeper than {MAX_DEPTH} levels "
            f"(KubeLab's limit, max-yaml-depth={MAX_DEPTH})",
            code=400,
        )
    return _parse(text, filename)
