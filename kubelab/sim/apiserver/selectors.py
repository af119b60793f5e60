"""``labelSelector`` and ``fieldSelector`` query parameters, parsed as kube-apiserver parses them.

Label selectors follow ``k8s.io/apimachinery/pkg/labels/selector.go`` (``Parse``): ``a=b``,
``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``, comma-separated, with the
lexer's error messages. Field selectors follow ``k8s.io/apimachinery/pkg/fields/selector.go``
(``ParseSelector``): ``field=value``, ``==``, ``!=``; which fields a kind supports is its registry
entry's ``fields`` (upstream's ``GetAttrs``/``AddFieldLabelConversionFunc``), and any other gives
``field label not supported: <name>`` as the apiserver's conversion does.
"""

from __future__ import annotations

import re
from typing import Any

from .status import Status, bad_request

Requirement = tuple[str, str, tuple[str, ...]]  # key, operator, values
_KEY = re.compile(
    r"^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith(("==", "!="), i):
            out.append(text[i : i + 2])
            i += 2
        elif c in "=!(),":
            out.append(c)
            i += 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in "=!(),":
                j += 1
            out.append(text[i:j])
            i = j
    return out


def _check_key(key: str) -> None:
    if not _KEY.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
        raise bad_request(
            f"unable to parse requirement: invalid label key {key!r}: name part must consist of "
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        )


def _check_value(value: str) -> None:
    if len(value) > 63 or not _VALUE.match(value):
        raise bad_request(
            f"unable to parse requirement: values[0][{value}]: Invalid value: {value!r}: a valid "
            "label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
            "'my_value',  or '12345', regex used for validation is "
            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        )


def parse_labels(text: str) -> list[Requirement]:
    toks = _tokens(text)
    reqs: list[Requirement] = []
    i = 0

    def expect_end_or_comma() -> None:
        nonlocal i
        if i < len(toks):
            if toks[i] != ",":
                raise bad_request(f"found '{toks[i]}', expected: ',' or 'end of string'")
            i += 1
            if i >= len(toks):
                raise bad_request("found '', expected: identifier after ','")

    while i < len(toks):
        if toks[i] == "!":
            i += 1
            if i >= len(toks) or toks[i] in "=!(),":
                raise bad_request(
                    f"found '{toks[i] if i < len(toks) else ''}', expected: identifier after '!'"
                )
            _check_key(toks[i])
            reqs.append((toks[i], "!", ()))
            i += 1
            expect_end_or_comma()
            continue
        key = toks[i]
        if key in ("=", "==", "!=", "(", ")", ","):
            raise bad_request(f"found '{key}', expected: !, identifier, or 'end of string'")
        _check_key(key)
        i += 1
        if i >= len(toks) or toks[i] == ",":
            reqs.append((key, "exists", ()))
            expect_end_or_comma()
            continue
        op = toks[i]
        i += 1
        if op in ("=", "==", "!="):
            value = ""
            if i < len(toks) and toks[i] not in (",", "(", ")", "=", "!="):
                value = toks[i]
                i += 1
            _check_value(value)
            reqs.append((key, "!=" if op == "!=" else "=", (value,)))
        elif op in ("in", "notin"):
            if i >= len(toks) or toks[i] != "(":
                raise bad_request(f"found '{toks[i] if i < len(toks) else ''}', expected: '('")
            i += 1
            values: list[str] = []
            while i < len(toks) and toks[i] != ")":
                if toks[i] != ",":
                    _check_value(toks[i])
                    values.append(toks[i])
                i += 1
            if i >= len(toks):
                raise bad_request("found '', expected: ')'")
            i += 1
            reqs.append((key, op, tuple(values)))
        else:
            raise bad_request(f"found '{op}', expected: '=', '!=', '==', 'in', notin'")
        expect_end_or_comma()
    return reqs


def labels_match(reqs: list[Requirement], labels: dict[str, str]) -> bool:
    for key, op, values in reqs:
        have = labels.get(key)
        if op == "exists" and have is None:
            return False
        if op == "!" and have is not None:
            return False
        if op == "=" and have != values[0]:
            return False
        if op == "!=" and have == values[0]:
            return False
        if op == "in" and have not in values:
            return False
        if op == "notin" and have in values:
            return False
    return True


def parse_fields(text: str, supported: dict[str, tuple[str, str]]) -> list[Requirement]:
    reqs: list[Requirement] = []
    for part in (p for p in _split(text) if p.strip()):
        m = re.match(r"^([^=!]*)(==|!=|=)(.*)$", part)
        if m is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = m.group(1).strip(), m.group(2), m.group(3)
        if field not in supported:
            raise bad_request(f"field label not supported: {field}")
        reqs.append((field, "!=" if op == "!=" else "=", (_unescape(value),)))
    return reqs


def _split(text: str) -> list[str]:
    out, cur, esc = [], "", False
    for c in text:
        if esc:
            cur += "\\" + c
            esc = False
        elif c == "\\":
            esc = True
        elif c == ",":
            out.append(cur)
            cur = ""
        else:
            cur += c
    out.append(cur)
    return out


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def field_value(data: dict[str, Any], path: str, default: str) -> str:
    """A field of an object's JSON as a selector compares it (booleans ``true``/``false``)."""
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return default
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fields_match(
    reqs: list[Requirement], data: dict[str, Any], supported: dict[str, tuple[str, str]]
) -> bool:
    """Whether an object's JSON (or ``Kind.selector_view``) meets every field requirement."""
    for field, op, (value,) in reqs:
        path, default = supported[field]
        if (field_value(data, path, default) == value) != (op == "="):
            return False
    return True


__all__ = ["Status", "fields_match", "labels_match", "parse_fields", "parse_labels"]
