"""Safe YAML → Python, with a line number for every field.

Guards run on PyYAML's event stream *before* anything is built: size, documents, nesting
depth and aliases are bounded, and the expanded size of aliased data is computed without
expanding it, so a "billion laughs" document is refused in microseconds. Only the pure-Python
SafeLoader is used (libyaml's C loader can crash on deep nesting).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import ApiError

MAX_MANIFEST_BYTES = 1024 * 1024  # 1 MiB
MAX_DOCUMENTS = 100
MAX_DEPTH = 64
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 200_000

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


def _prescan(text: str, filename: str) -> None:
    depth = aliases = docs = 0
    try:
        for ev in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(ev, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ApiError(
                        f"error: error parsing {filename}: nesting is deeper than {MAX_DEPTH} levels "
                        f"(KubeLab's limit, max-yaml-depth={MAX_DEPTH})",
                        line=ev.start_mark.line + 1,
                        code=400,
                    )
            elif isinstance(ev, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
            elif isinstance(ev, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise ApiError(
                        f"error: error parsing {filename}: error converting YAML to JSON: yaml: document contains excessive aliasing "
                        f"(more than {MAX_ALIASES} aliases; KubeLab's limit, max-yaml-aliases={MAX_ALIASES})",
                        line=ev.start_mark.line + 1,
                        code=400,
                    )
            elif isinstance(ev, yaml.DocumentStartEvent):
                docs += 1
                if docs > MAX_DOCUMENTS:
                    raise ApiError(
                        f"error: {filename} has more than {MAX_DOCUMENTS} documents (KubeLab's limit, max-documents={MAX_DOCUMENTS})",
                        code=413,
                    )
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise _parse_error(filename, str(e.problem or e.context or "invalid YAML"), line) from None
    except yaml.YAMLError as e:
        raise _parse_error(filename, str(e).splitlines()[0] if str(e) else "invalid YAML") from None


def _expanded_size(node: Node, memo: dict[int, int], stack: set[int]) -> int:
    nid = id(node)
    if nid in memo:
        return memo[nid]
    if nid in stack:
        raise ValueError("recursive alias")
    stack.add(nid)
    if isinstance(node, MappingNode):
        size = 1 + sum(
            _expanded_size(k, memo, stack) + _expanded_size(v, memo, stack) for k, v in node.value
        )
    elif isinstance(node, SequenceNode):
        size = 1 + sum(_expanded_size(v, memo, stack) for v in node.value)
    else:
        size = 1
    stack.discard(nid)
    memo[nid] = size
    return size


_scalar_loader = yaml.SafeLoader("")


def _scalar(node: ScalarNode) -> Any:
    ctor = yaml.SafeLoader.yaml_constructors.get(node.tag)
    if ctor is None:
        return node.value
    value = ctor(_scalar_loader, node)
    if isinstance(value, datetime.datetime | datetime.date):
        return node.value  # JSON has no timestamps: Kubernetes keeps the text
    if isinstance(value, bytes):
        return node.value
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return node.value
    return value


def _build(node: Node, path: Path, lines: dict[Path, int], filename: str) -> Any:
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        out = []
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            out.append(_build(item, (*path, i), lines, filename))
        return out
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for knode, vnode in node.value:
            if isinstance(knode, ScalarNode) and knode.tag == "tag:yaml.org,2002:merge":
                sources = vnode.value if isinstance(vnode, SequenceNode) else [vnode]
                for src in sources:
                    m = _build(src, path, {}, filename)
                    if isinstance(m, dict):
                        for mk, mv in m.items():
                            merged.setdefault(mk, mv)
                continue
            if not isinstance(knode, ScalarNode):
                raise _parse_error(
                    filename,
                    "invalid map key: a key must be a plain value",
                    knode.start_mark.line + 1,
                )
            key = _scalar(knode)
            key = "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)
            if key in result:
                raise ApiError(
                    f"error: error parsing {filename}: error converting YAML to JSON: yaml: unmarshal errors:\n"
                    f'  line {knode.start_mark.line + 1}: key "{key}" already set in map',
                    line=knode.start_mark.line + 1,
                    field=".".join(str(p) for p in (*path, key)),
                    code=400,
                )
            lines[(*path, key)] = knode.start_mark.line + 1
            result[key] = _build(vnode, (*path, key), lines, filename)
        for mk, mv in merged.items():
            result.setdefault(mk, mv)
        return result
    raise _parse_error(filename, "unsupported YAML node")


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
    _prescan(text, filename)
    docs: list[Document] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise _parse_error(
            filename, str(e.problem or e.context), mark.line + 1 if mark else None
        ) from None
    except (yaml.YAMLError, RecursionError) as e:
        raise _parse_error(filename, str(e).splitlines()[0] if str(e) else "invalid YAML") from None
    memo: dict[int, int] = {}
    total = 0
    for index, node in enumerate(nodes):
        if node is None:
            continue
        try:
            total += _expanded_size(node, memo, set())
        except (ValueError, RecursionError):
            raise _parse_error(
                filename, "document contains excessive aliasing", node.start_mark.line + 1
            ) from None
        if total > MAX_EXPANDED_NODES:
            raise _parse_error(
                filename,
                f"document contains excessive aliasing (it expands to more than {MAX_EXPANDED_NODES} values)",
                node.start_mark.line + 1,
            )
        lines: dict[Path, int] = {}
        data = _build(node, (), lines, filename)
        if data is None:
            continue
        line = node.start_mark.line + 1
        if not isinstance(data, dict):
            raise ApiError(
                f'error: error validating "{filename}": error validating data: invalid object to validate: '
                f"a manifest must be a mapping with apiVersion, kind and metadata, not a {type(data).__name__}",
                line=line,
                code=400,
            )
        docs.append(Document(data, index, line, lines))
    return docs
