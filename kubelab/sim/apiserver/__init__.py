"""The simulated kube-apiserver: manifests → validated, defaulted, admitted objects.

Modules: ``manifests`` (safe YAML with line numbers), ``validation`` and ``defaults`` (the
upstream schema's decoding checks, the kinds' validation and defaulting), ``admission`` and
``quota`` (limit ranges, resource quota), ``authz`` (RBAC's answers), ``apply`` (``kubectl apply``
as the editor and console run it), ``preview`` (what an apply would do). The HTTP API: ``rest``
(every verb over a ClusterState), ``discovery``, ``openapi`` (v3 documents from the bundled
upstream schema), ``patch`` (JSON, merge and strategic merge patches), ``selectors`` (label and
field selectors), ``status`` (kube-apiserver's ``Status`` errors).
"""

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
