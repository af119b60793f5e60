"""Small security helpers: a content security policy for every response, and per-client rate limits."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

# Scripts only from this origin (no inline script, no eval). Inline styles stay allowed: the cluster
# view sizes capacity bars with style attributes and the Ace editor positions its layers that way.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",  # the Ace editor's syntax worker
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


def client_id(request: HttpRequest) -> str:
    """Who is asking: the session when there is one, else the address."""
    if request.session.session_key:
        return f"s:{request.session.session_key}"
    return f"a:{request.META.get('REMOTE_ADDR', '')}"


def rate_limited(
    scope: str, setting: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """At most ``settings.<setting>`` requests a minute per client for this scope; beyond, 429.

    A fixed one-minute window in Django's cache (shared by every process when the cache is Redis).
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limit = int(getattr(settings, setting))
            window = int(time.time() // 60)
            key = f"rl:{scope}:{client_id(request)}:{window}"
            count = cache.get_or_set(key, 0, 70)
            if count >= limit:
                message = (
                    f"error: too many requests: at most {limit} a minute for {scope} "
                    f"(KubeLab's limit, {setting.lower().replace('_', '-')}); try again in a moment"
                )
                response: HttpResponse
                if "application/json" in request.headers.get("Accept", ""):
                    response = JsonResponse(
                        {
                            "ok": False,
                            "error": message,
                            "output": message,
                            "code": 1,
                            "out": "",
                            "err": message,
                        },
                        status=429,
                    )
                else:
                    response = HttpResponse(
                        message, status=429, content_type="text/plain; charset=utf-8"
                    )
                response["Retry-After"] = str(60 - int(time.time()) % 60)
                return response
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, 70)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


_TOKEN_IN_PATH = re.compile(r"/k8s/kl-[A-Za-z0-9-]+")


def redact(text: str) -> str:
    """A path or log line with API tokens cut (``/k8s/kl-…`` → ``/k8s/kl-REDACTED``)."""
    return _TOKEN_IN_PATH.sub("/k8s/kl-REDACTED", text)


class RedactTokens(logging.Filter):
    """A logging filter that keeps API tokens out of every log line (Django logs the path of
    every 4xx/5xx request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "/k8s/kl-" in str(record.msg) or any("/k8s/kl-" in str(a) for a in record.args or ()):
            record.msg = redact(record.getMessage())
            record.args = ()
        return True
