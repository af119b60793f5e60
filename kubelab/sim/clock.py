"""Simulated time: each cluster has its own clock with a speed, pause and step.

The clock never reads the wall clock: its driver decides the simulated time to reach (the
service layer from the cluster row's anchors, ``Cluster.sim_now``; the headless runner from the
scenario; a test) and the control loop advances the clock to it. "Skip" asks the control loop to
jump to the next timer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIN_SPEED = 0.25
MAX_SPEED = 60.0


@dataclass
class Clock:
    time: float = 0.0
    speed: float = 1.0
    paused: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "speed": self.speed, "paused": self.paused}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Clock:
        return cls(
            time=float(d.get("time", 0.0)),
            speed=float(d.get("speed", 1.0)),
            paused=bool(d.get("paused", False)),
        )


def parse_duration(value: object) -> float:
    """Scenario durations: ``90``, ``90s``, ``5m``, ``1m30s``, ``1h``, ``1.5s``."""
    import re

    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"invalid duration {value!r}: must not be negative")
        return float(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"invalid duration {value!r}")
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(
            f'invalid duration "{text}": use a number of seconds or forms like 90s, 5m, 1m30s'
        )
    mult = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * mult[u] for n, u in parts)
