"""
The one HTTP answer of each error: its status and headers, its JSON body and
the one encoder of that body, and klein's routing errors as errors of the
tree.  Pure: no reactor, no listening port (the doors are in test_errors).
"""

from __future__ import annotations

import json

import pytest
from twisted.web.test.requesthelper import DummyRequest
from werkzeug import exceptions as werkzeug
from werkzeug.routing import RequestRedirect

from julytwisted import errors
from julytwisted.errors import (
    JulythonError,
    MethodNotAllowed,
    Overloaded,
    RateLimited,
    RedisUnavailable,
    Unauthorized,
)
from julytwisted.http_errors import (
    CHALLENGE,
    JSON_HEADERS,
    error_body,
    http_answer,
    json_bytes,
    json_error,
    route_redirect,
    routing_error,
)

ERRORS = [getattr(errors, name) for name in errors.__all__]

#: User text at its worst: quotes, a backslash, control characters, markup,
#: an ampersand, non-ASCII letters and a character outside the BMP.
NASTY = 'say "hi" \\ back\x01slash\n<script>&amp;</script> é ü 💥 \u2028'


def example(kind: type[JulythonError], message: str = NASTY) -> JulythonError:
    """@return: an instance of C{kind}, with C{message}."""
    if kind is RateLimited:
        return RateLimited(2.25, "test", message)
    if kind is MethodNotAllowed:
        return MethodNotAllowed(message, allowed=("POST", "GET", "GET"))
    return kind(message)


def expected_headers(error: JulythonError) -> dict[bytes, bytes]:
    """The headers DESIGN's error table gives C{error}, by name."""
    headers = {}
    if isinstance(error, Unauthorized):
        headers[b"WWW-Authenticate"] = CHALLENGE
    if isinstance(error, RateLimited):
        headers[b"Retry-After"] = b"3"
    if isinstance(error, RedisUnavailable | Overloaded):
        headers[b"Retry-After"] = b"1"
    if isinstance(error, MethodNotAllowed):
        headers[b"Allow"] = b"GET, POST"
    return headers


@pytest.mark.parametrize("kind", ERRORS, ids=lambda e: e.__name__)
def test_status_and_headers_of_every_error(kind: type[JulythonError]) -> None:
    """
    Each error answers with its own status; credentials missing get the
    Bearer challenge, errors that pass a Retry-After, a method not allowed
    the methods that are; no other header.
    """
    error = example(kind)
    answer = http_answer(error)
    assert answer.status == kind.status
    assert dict(answer.headers) == expected_headers(error)
    assert len(answer.headers) == len(dict(answer.headers))


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    """Retry-After rounds up, and is never 0 (which would invite a retry now)."""
    for wait, shown in [(0.0, b"1"), (0.2, b"1"), (1.0, b"1"), (59.01, b"60")]:
        assert dict(http_answer(RateLimited(wait)).headers) == {b"Retry-After": shown}


def test_signing_in_is_a_missing_credential() -> None:
    """A page's sign-in-required is answered as any 401 outside the pages."""
    error = errors.SignInRequired()
    assert http_answer(error) == http_answer(Unauthorized())
    assert error.message == "This page is for signed-in players."


def test_json_bytes_escapes_markup_and_round_trips() -> None:
    """
    The one encoder: compact UTF-8 with markup characters escaped, so no user
    text can close a script or be sniffed as HTML; it decodes to the same
    value, control characters, line separators and astral letters included.
    """
    encoded = json_bytes({"error": NASTY})
    assert json.loads(encoded) == {"error": NASTY}
    assert not {b"<", b">", b"&"} & {bytes([c]) for c in encoded}
    assert b"\\u003cscript\\u003e\\u0026amp;" in encoded
    assert "é ü 💥".encode() in encoded
    assert b"\\u0001" in encoded and b"\\n" in encoded and b"\\\\" in encoded
    assert encoded.startswith(b'{"error":"say \\"hi\\"')


def test_error_body_is_the_error_alone() -> None:
    """Every JSON error body is {"error": message}, through the one encoder."""
    assert error_body(NASTY) == json_bytes({"error": NASTY})
    assert json.loads(error_body("gone")) == {"error": "gone"}


def test_json_error_answers_a_request() -> None:
    """json_error sets the status, the error's headers and the JSON headers."""
    request = DummyRequest([b""])
    body = json_error(request, example(RateLimited))
    assert request.responseCode == 429
    headers = request.responseHeaders
    assert headers.getRawHeaders(b"Retry-After") == [b"3"]
    for name, value in JSON_HEADERS:
        assert headers.getRawHeaders(name) == [value]
    assert body == error_body(NASTY)


def test_routing_errors_join_the_tree() -> None:
    """
    klein's 404 and 405 become NotFound and MethodNotAllowed (with the
    methods allowed); a status without a class keeps its own.
    """
    found = routing_error(werkzeug.NotFound())
    assert isinstance(found, errors.NotFound) and found.message == "not found"
    allowed = routing_error(werkzeug.MethodNotAllowed(["POST", "GET"]), "no")
    assert isinstance(allowed, MethodNotAllowed)
    assert (allowed.message, allowed.allowed) == ("no", ("GET", "POST"))
    teapot = routing_error(werkzeug.ImATeapot())
    assert (teapot.status, teapot.message) == (418, "i'm a teapot")
    assert http_answer(teapot).status == 418


def test_a_route_redirect_is_a_redirect() -> None:
    """
    A route's redirect answers its status and a Location on this host, with
    the request's query when the target has none.
    """
    request = DummyRequest([b""])
    request.uri = b"/api/v1?game=x"
    body = route_redirect(request, RequestRedirect("http://127.0.0.1:8080/api/v1/?a=1"))
    assert (request.responseCode, body) == (308, b"")
    assert request.responseHeaders.getRawHeaders(b"Location") == [b"/api/v1/?a=1"]
    request = DummyRequest([b""])
    request.uri = b"/people?game=x&page=2"
    route_redirect(request, RequestRedirect("http://127.0.0.1:8080/people/"))
    location = request.responseHeaders.getRawHeaders(b"Location")
    assert location == [b"/people/?game=x&page=2"]
