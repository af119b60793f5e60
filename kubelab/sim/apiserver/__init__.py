"""The simulated kube-apiserver: manifests → validated, defaulted, admitted objects."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ApiError(Exception):
    """An error in kubectl's words. ``line``/``field`` point into the submitted YAML where known."""

    message: str
    line: int | None = None
    field: str | None = None
    doc: int | None = None
    code: int = 422  # HTTP status the API server would answer

    def __str__(self) -> str:
        return self.message

    def with_location(self) -> str:
        """The kubectl message, then where in the YAML it applies."""
        if self.line is None:
            return self.message
        where = f"line {self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{self.message}\n  at {where}"
