"""``metav1.Status``: how kube-apiserver answers a request it refuses, in its own words.

Each constructor mirrors one in ``k8s.io/apimachinery/pkg/api/errors/errors.go`` (``NewNotFound``,
``NewAlreadyExists``, ``NewConflict``, ``NewInvalid``, ``NewForbidden``, ``NewBadRequest``,
``NewMethodNotSupported``, ``NewRequestEntityTooLargeError``, ``NewTooManyRequests``,
``NewUnauthorized``); the reason, code, message and ``details`` are upstream's, because kubectl
prints from them (``Error from server (NotFound): pods "nope" not found``; an Invalid is printed
from ``details.causes``, not from ``message``).

The simulation's other doors (the console, ``kubectl apply`` in the editor) raise ``ApiError``
with the message as kubectl prints it; ``from_api_error`` turns one of those into the Status the
HTTP API answers, so every door refuses with the same words.
"""

from __future__ import annotations

import re
from typing import Any

from . import ApiError


class Status(Exception):
    """A failed request: raise it anywhere under ``rest.handle``; it becomes the response."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            out["details"] = self.details
        if not self.reason:
            del out["reason"]
        return out


def _details(resource: str, group: str, name: str, **more: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name} if name else {}
    if group:
        d["group"] = group
    d["kind"] = resource
    d.update(more)
    return d


def qualified(resource: str, group: str) -> str:
    """``schema.GroupResource.String()``: ``deployments.apps``, ``pods``."""
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, group: str, name: str) -> Status:
    return Status(
        404,
        "NotFound",
        f'{qualified(resource, group)} "{name}" not found',
        _details(resource, group, name),
    )


def already_exists(resource: str, group: str, name: str) -> Status:
    return Status(
        409,
        "AlreadyExists",
        f'{qualified(resource, group)} "{name}" already exists',
        _details(resource, group, name),
    )


def conflict(resource: str, group: str, name: str, why: str) -> Status:
    return Status(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {why}',
        _details(resource, group, name),
    )


MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> Status:
    """``NewInvalid``: causes are (reason, field, message) with message *without* the field, as
    ``field.Error.ErrorBody()``; the Status message joins ``field: body`` (brackets for several)."""
    parts = [f"{f}: {m}" if f else m for _, f, m in causes]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    qkind = f"{kind}.{group}" if group else kind
    return Status(
        422,
        "Invalid",
        f'{qkind} "{name}" is invalid: {joined}',
        _details(
            kind,
            group,
            name,
            causes=[{"reason": r, "message": m, "field": f} for r, f, m in causes],
        ),
    )


# field.ErrorType → metav1.CauseType (k8s.io/apimachinery/pkg/util/validation/field/errors.go)
CAUSE_TYPES = {
    "Required value": "FieldValueRequired",
    "Invalid value": "FieldValueInvalid",
    "Unsupported value": "FieldValueNotSupported",
    "Forbidden": "FieldValueForbidden",
    "Duplicate value": "FieldValueDuplicate",
    "Too long": "FieldValueTooLong",
    "Too many": "FieldValueTooMany",
    "Not found": "FieldValueNotFound",
    "Internal error": "InternalError",
}


def invalid_from_errors(kind: str, group: str, name: str, errors: list[Any]) -> Status:
    """An Invalid Status from the simulation's ``validation.FieldError`` list."""
    causes = []
    for e in errors:
        body = e.render()[len(e.path) + 2 :] if e.path else e.render()
        causes.append((CAUSE_TYPES.get(e.type, "FieldValueInvalid"), e.path, body))
    return invalid(kind, group, name, causes)


def forbidden_status(message: str, resource: str, group: str, name: str) -> Status:
    return Status(403, "Forbidden", message, _details(resource, group, name))


def bad_request(message: str) -> Status:
    return Status(400, "BadRequest", message)


def method_not_supported(resource: str, group: str, action: str) -> Status:
    return Status(
        405,
        "MethodNotAllowed",
        f"{action} is not supported on resources of kind {qualified(resource, group)!r}",
        _details(resource, group, ""),
    )


def not_allowed() -> Status:
    return Status(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )


def no_resource() -> Status:
    """What kube-apiserver answers for a path under a served group that names no resource."""
    return Status(404, "NotFound", "the server could not find the requested resource", {})


def too_large(limit: int) -> Status:
    return Status(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def unsupported_media(accepted: list[str]) -> Status:
    return Status(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def too_many_requests(retry_after: int = 1) -> Status:
    return Status(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        {"retryAfterSeconds": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def unauthorized() -> Status:
    return Status(401, "Unauthorized", "Unauthorized")


def gone(message: str) -> Status:
    return Status(410, "Expired", message)


_PREFIX = re.compile(r"^Error from server \((\w+)\): (?:error when [a-z ]+ \"[^\"]*\": )?", re.S)
_REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    422: "Invalid",
    429: "TooManyRequests",
}


def from_api_error(e: ApiError) -> Status:
    """The Status for an ``ApiError`` raised by the simulation (worded as kubectl prints it)."""
    m = _PREFIX.match(e.message)
    if m:
        return Status(e.code, m.group(1), e.message[m.end() :])
    message = e.message
    if message.startswith("error: "):
        message = message[len("error: ") :]
    return Status(e.code, _REASONS.get(e.code, ""), message)
