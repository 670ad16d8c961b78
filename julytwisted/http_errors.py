# -*- test-case-name: tests.test_http_errors,tests.test_errors -*-
"""
The one HTTP answer of each error, for every door that speaks HTTP: the REST
API and the webhooks, uploads, the live feed's upgrade, the Site's own body
limits, and the HTML pages.

L{http_answer} maps a L{JulythonError} to its status and headers
(C{Retry-After}, C{WWW-Authenticate}, C{Allow}); L{json_error} answers a
request with it as C{{"error": ...}}, encoded by L{json_bytes}, the one JSON
encoder of HTTP answers; L{routing_error} turns the routing errors of klein
(werkzeug's) into the same tree, so that pages and the API answer them
alike.  JSON-RPC maps the same errors to its codes in
L{julytwisted.methods.translate}.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from urllib.parse import urlsplit

import attrs
from twisted.web.iweb import IRequest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from julytwisted.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    JulythonError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    RedisUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)

#: The headers of every JSON error, whichever door writes it.
JSON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"Content-Type", b"application/json; charset=utf-8"),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Access-Control-Allow-Origin", b"*"),
    (b"Cache-Control", b"no-store"),
)

#: The challenge of a request that lacks credentials: an API token.
CHALLENGE = b'Bearer realm="julython"'

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

#: The routing statuses with a class of their own in the tree (405 aside:
#: it carries the methods allowed).
_BY_STATUS: dict[int, type[JulythonError]] = {
    kind.status: kind
    for kind in (
        InvalidInput,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        PreconditionFailed,
        UnsupportedMediaType,
        RedisUnavailable,
    )
}


def json_bytes(value: object) -> bytes:
    """
    The JSON of an HTTP answer: UTF-8, compact, with C{<}, C{>} and C{&}
    escaped so that no user text in it can close a C{<script>} or be sniffed
    as HTML.

    @raise TypeError: C{value} is not JSON.
    """
    text = _ENCODER.encode(value)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode("utf-8")


def error_body(message: str) -> bytes:
    """@return: the body of every JSON error: C{{"error": message}}."""
    return json_bytes({"error": message})


@attrs.frozen
class HTTPAnswer:
    """
    The status and headers that report an error over HTTP.

    @ivar headers: C{(name, value)} pairs beyond the body's own.
    """

    status: int
    headers: tuple[tuple[bytes, bytes], ...] = ()

    def apply(self, request: IRequest) -> None:
        """Set this status and these headers on C{request}."""
        request.setResponseCode(self.status)
        for name, value in self.headers:
            request.setHeader(name, value)


def http_answer(error: JulythonError) -> HTTPAnswer:
    """
    The one mapping of errors to HTTP: the error's status, with
    C{WWW-Authenticate} when credentials are missing or wrong, C{Retry-After}
    (whole seconds, at least one) when the error passes, and C{Allow} for a
    method not allowed.
    """
    headers: list[tuple[bytes, bytes]] = []
    if isinstance(error, Unauthorized):
        headers.append((b"WWW-Authenticate", CHALLENGE))
    if error.retry_after is not None:
        seconds = max(1, math.ceil(error.retry_after))
        headers.append((b"Retry-After", b"%d" % seconds))
    if isinstance(error, MethodNotAllowed):
        headers.append((b"Allow", ", ".join(error.allowed).encode("ascii")))
    return HTTPAnswer(error.status, tuple(headers))


def json_error(request: IRequest, error: JulythonError) -> bytes:
    """
    Answer C{request} with C{error} as JSON: its status and headers, and
    C{{"error": its message}}.

    @return: the body to send.
    """
    http_answer(error).apply(request)
    for name, value in JSON_HEADERS:
        request.setHeader(name, value)
    return error_body(error.message)


def internal_error() -> JulythonError:
    """@return: what a client is told of an error we did not mean: a 500."""
    return JulythonError("internal server error")


def routing_error(error: HTTPException, message: str | None = None) -> JulythonError:
    """
    A routing error of klein (werkzeug's 404 or 405, say) as an error of the
    tree, so that it is answered as any other.

    @param message: what the client is told; by default the status's name in
        lower case (C{"not found"}).
    """
    code = error.code or 500
    text = error.name.lower() if message is None else message
    if code == MethodNotAllowed.status:
        allowed = getattr(error, "valid_methods", None) or ()
        return MethodNotAllowed(text, allowed=allowed)
    kind = _BY_STATUS.get(code)
    if kind is not None:
        return kind(text)
    other = JulythonError(text)
    # A status the tree has no class for keeps its own.
    other.status = code
    return other


def options_answer(request: IRequest, allowed: Iterable[str]) -> bytes:
    """
    Answer C{OPTIONS}: 204, with the methods the resource allows in
    C{Allow} (RFC 9110 9.3.7), C{OPTIONS} among them.

    @return: the empty body.
    """
    request.setResponseCode(204)
    methods = ", ".join(sorted({*allowed, "OPTIONS"}))
    request.setHeader(b"Allow", methods.encode("ascii"))
    return b""


def route_redirect(request: IRequest, error: RequestRedirect) -> bytes:
    """
    Answer a route's redirect (C{/people} to C{/people/}) as one: its status,
    and a C{Location} on this host that keeps the request's query.

    @return: the empty body.
    """
    target = urlsplit(error.new_url)
    query = target.query.encode("utf-8") or request.uri.partition(b"?")[2]
    location = target.path.encode("utf-8") + (b"?" + query if query else b"")
    request.setResponseCode(error.code)
    request.setHeader(b"Location", location)
    request.setHeader(b"Cache-Control", b"no-store")
    return b""


__all__ = [
    "CHALLENGE",
    "JSON_HEADERS",
    "HTTPAnswer",
    "error_body",
    "http_answer",
    "internal_error",
    "json_bytes",
    "json_error",
    "options_answer",
    "route_redirect",
    "routing_error",
]
