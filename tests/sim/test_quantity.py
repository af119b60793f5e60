"""Resource quantities parse exactly as apimachinery's resource.Quantity (MilliValue/Value round up)."""

from __future__ import annotations

import pytest

from kubelab.sim.quantity import QuantityError, format_cpu, format_memory, int_value, milli_value


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("250m", 250),
        ("1.5", 1500),
        ("2", 2000),
        ("0.1", 100),
        (".5", 500),
        ("1e3", 1_000_000),
        ("100u", 1),
        ("1n", 1),
        (1, 1000),
        (0.25, 250),
    ],
)
def test_cpu(text, millis):
    assert milli_value(text) == millis


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("128Mi", 134217728),
        ("1G", 10**9),
        ("1Gi", 2**30),
        ("1k", 1000),
        ("1Ki", 1024),
        ("1.5Gi", 1610612736),
        ("129e6", 129_000_000),
        ("123", 123),
        ("0.5", 1),
    ],
)
def test_memory(text, n):
    assert int_value(text) == n


@pytest.mark.parametrize("bad", ["abc", "1.2.3", "10 Mi", "Mi", "", "1x", "--1", True])
def test_rejects(bad):
    with pytest.raises(QuantityError):
        milli_value(bad)


def test_format():
    assert format_cpu(250) == "250m" and format_cpu(2000) == "2"
    assert format_memory(134217728) == "128Mi" and format_memory(10**9) == "1G"
