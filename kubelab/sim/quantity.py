"""Kubernetes resource quantities ("250m", "1.5", "128Mi", "1G", "1e3") parsed exactly.

Follows apimachinery's ``resource.Quantity``: a signed decimal number and an optional
suffix (binary SI ``Ki Mi Gi Ti Pi Ei``, decimal SI ``n u m k M G T P E`` or a decimal
exponent ``e3``). ``MilliValue`` and ``Value`` round *up*, as Kubernetes does.
"""

from __future__ import annotations

import re
from fractions import Fraction
from math import ceil

QUANTITY_REGEX = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
QUANTITY_ERROR = f"quantities must match the regular expression '{QUANTITY_REGEX}'"

_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_EXPONENT = re.compile(r"^[eE]([-+]?[0-9]+)$")
_cache: dict[str, Fraction] = {}


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""

    def __init__(self, value: object) -> None:
        super().__init__(QUANTITY_ERROR)
        self.value = value


def parse_quantity(value: str | int | float) -> Fraction:
    """Return the exact value of a quantity as a Fraction."""
    if isinstance(value, bool):
        raise QuantityError(value)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    if not isinstance(value, str):
        raise QuantityError(value)
    cached = _cache.get(value)
    if cached is not None:
        return cached
    text = value.strip()
    match = re.match(r"^([+-]?[0-9.]+)(.*)$", text)
    if not match or not _NUMBER.match(match.group(1)):
        raise QuantityError(value)
    number, suffix = match.group(1), match.group(2)
    base = Fraction(number)
    if suffix in _BINARY:
        result = base * _BINARY[suffix]
    elif suffix in _DECIMAL:
        result = base * _DECIMAL[suffix]
    else:
        exp = _EXPONENT.match(suffix)
        if not exp or abs(int(exp.group(1))) > 40:
            raise QuantityError(value)
        result = base * Fraction(10) ** int(exp.group(1))
    if len(_cache) < 4096:
        _cache[value] = result
    return result


def milli_value(value: str | int | float) -> int:
    """CPU in millicores, rounded up like ``Quantity.MilliValue``."""
    return ceil(parse_quantity(value) * 1000)


def int_value(value: str | int | float) -> int:
    """A quantity as a whole number (bytes, pods), rounded up like ``Quantity.Value``."""
    return ceil(parse_quantity(value))


def format_cpu(millis: int) -> str:
    """Millicores the way kubectl describe prints them: ``250m`` or ``2``."""
    if millis % 1000 == 0:
        return str(millis // 1000)
    return f"{millis}m"


def format_memory(n: int) -> str:
    """Bytes in the largest exact binary unit, as kubectl prints canonical quantities."""
    if n == 0:
        return "0"
    for suffix, size in (
        ("Ei", 2**60),
        ("Pi", 2**50),
        ("Ti", 2**40),
        ("Gi", 2**30),
        ("Mi", 2**20),
        ("Ki", 2**10),
    ):
        if n % size == 0:
            return f"{n // size}{suffix}"
    for suffix, size in (
        ("E", 10**18),
        ("P", 10**15),
        ("T", 10**12),
        ("G", 10**9),
        ("M", 10**6),
        ("k", 10**3),
    ):
        if n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)
