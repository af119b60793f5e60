"""Hostile YAML: every case is refused fast, with a clear message naming the limit, and changes nothing."""

from __future__ import annotations

import pytest

from kubelab.sim.apiserver import ApiError
from kubelab.sim.apiserver.manifests import MAX_MANIFEST_BYTES, load_documents

BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def refused(text: str | bytes) -> tuple[ApiError, None]:
    with pytest.raises(ApiError) as e:
        load_documents(text)
    return e.value, None


def test_billion_laughs():
    e, _ = refused(BOMB)
    assert "document contains excessive aliasing" in e.message


def test_too_many_aliases():
    e, _ = refused("a: &a x\nb: [" + ",".join(["*a"] * 150) + "]\n")
    assert "more than 100 aliases" in e.message and "max-yaml-aliases" in e.message


def test_deep_nesting_block_and_flow():
    e, _ = refused("[" * 10_000 + "]" * 10_000)
    assert "nesting is deeper than 64 levels" in e.message
    deep = "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n"
    e, _ = refused(deep)
    assert "max-yaml-depth=64" in e.message
    assert e.line == 65


def test_too_large():
    e, _ = refused("a: " + "x" * (5 * 1024 * 1024))
    assert e.code == 413
    assert "5.0 MiB" in e.message and f"max-manifest-bytes={MAX_MANIFEST_BYTES}" in e.message


def test_binary_junk_and_bad_encoding():
    e, _ = refused(b"\x00\x01\x02binary")
    assert "control characters are not allowed" in e.message
    e, _ = refused("name: caf\xe9".encode("latin-1"))
    assert "invalid UTF-8" in e.message


def test_recursive_alias():
    e, _ = refused("a: &a [*a]\n")
    assert "error parsing STDIN" in e.message


def test_duplicate_key_line():
    e, _ = refused("a: 1\nb: 2\na: 3\n")
    assert e.message.endswith('line 3: key "a" already set in map')


def test_lines_are_recorded():
    (doc,) = load_documents(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: c\n      image: nginx\n"
    )
    assert doc.lines[("metadata", "name")] == 4
    assert doc.lines[("spec", "containers", 0)] == 7
    assert doc.line_of(("spec", "containers", 0, "image")) == 8


def test_timestamps_stay_text_and_merge_keys_work():
    (doc,) = load_documents("base: &b {x: 1}\nthing:\n  <<: *b\n  y: 2\nwhen: 2024-01-01\n")
    assert doc.data["thing"] == {"x": 1, "y": 2}
    assert doc.data["when"] == "2024-01-01"
