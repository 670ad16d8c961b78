"""
The exception tree: every error julytwisted raises on purpose is a
L{JulythonError} and also the builtin it resembles, with the HTTP status that
reports it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from klein import Klein
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.web.iweb import IRequest

from julytwisted import errors
from julytwisted.auth.sessions import Sessions
from julytwisted.config import LiveSettings
from julytwisted.errors import JulythonError
from julytwisted.http_errors import JSON_HEADERS, error_body, http_answer
from julytwisted.live import build_live
from julytwisted.pages._render import Renderer, install_error_pages
from julytwisted.redis_service import RedisService
from julytwisted.site import JulythonSite, Root
from julytwisted.store import Store
from julytwisted.upload import UploadLimits, Uploads
from julytwisted.upload._files import FileStore
from julytwisted.web._errors import install_json_errors
from tests.builders import BOUNDARY, multipart
from tests.test_http_errors import example

FORM = f"multipart/form-data; boundary={BOUNDARY}"

ERRORS = [getattr(errors, name) for name in errors.__all__]
BUILTINS = (ValueError, PermissionError, LookupError, ConnectionError)


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
def test_rooted_and_statused(error: type[JulythonError]) -> None:
    """Each error is a JulythonError with a 4xx or 5xx status."""
    assert issubclass(error, JulythonError)
    assert 400 <= error.status < 600


@pytest.mark.parametrize(
    "error",
    [e for e in ERRORS if e not in (JulythonError, errors.RateLimited)],
    ids=lambda e: e.__name__,
)
def test_catchable_as_a_builtin(error: type[JulythonError]) -> None:
    """A caller that catches the builtin it resembles catches it too."""
    assert issubclass(error, BUILTINS)
    with pytest.raises(BUILTINS):
        raise error("boom")


def test_message_falls_back_to_the_docstring() -> None:
    """Without an argument the client reads the class's first docstring line."""
    assert errors.NotFound().message == "No such object."
    assert errors.NotFound("no player 'ada'").message == "no player 'ada'"


def test_rate_limited_carries_its_wait() -> None:
    """RateLimited says how long to wait and which limit was reached."""
    error = errors.RateLimited(2.25, "rpc")
    assert (error.retry_after, error.limit, error.status) == (2.25, "rpc", 429)
    assert error.message == "too many requests; retry in 2.2 s"


# The strays: every exception the product defines is in the tree


def _defined_exceptions() -> dict[str, list[str]]:
    """Every exception class defined by a module of julytwisted, by module."""
    import julytwisted

    found: dict[str, list[str]] = {}
    for module_info in pkgutil.walk_packages(julytwisted.__path__, "julytwisted."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found.setdefault(module.__name__, []).append(name)
    return found


def test_every_exception_is_in_a_tree() -> None:
    """
    The product's exceptions are defined in errors.py alone, each a
    JulythonError; rpc/, a reusable library that imports nothing of the
    product, keeps its own small tree in rpc/_errors.py, rooted at
    JSONRPCError.
    """
    from julytwisted.rpc._errors import JSONRPCError

    defined = _defined_exceptions()
    assert set(defined) == {"julytwisted.errors", "julytwisted.rpc._errors"}
    for name in defined["julytwisted.errors"]:
        assert issubclass(getattr(errors, name), JulythonError), name
    module = importlib.import_module("julytwisted.rpc._errors")
    for name in defined["julytwisted.rpc._errors"]:
        kind = getattr(module, name)
        assert issubclass(kind, JSONRPCError) and not issubclass(kind, JulythonError)


def test_sign_in_required_is_a_missing_credential() -> None:
    """The pages' sign-in-first is an Unauthorized, so a PermissionError."""
    assert issubclass(errors.SignInRequired, errors.Unauthorized)
    assert issubclass(errors.SignInRequired, PermissionError)
    assert errors.SignInRequired.status == 401


def test_a_failed_notification_is_a_connection_error() -> None:
    """
    A webhook receiver that refuses a notification is a JulythonError and a
    ConnectionError (502: the server it reached failed), still importable
    where the jobs are.
    """
    from julytwisted.jobs import product

    assert product.NotifyFailed is errors.NotifyFailed
    error = errors.NotifyFailed("http://example.com/hook answered 503")
    assert isinstance(error, ConnectionError) and error.status == 502
    assert str(error) == error.message == "http://example.com/hook answered 503"


def test_a_json_constant_in_a_payload_is_an_invalid_payload() -> None:
    """A NaN in a webhook body is refused as the payload it spoils, nothing else."""
    from julytwisted.game.hooks import decode_body

    with pytest.raises(errors.InvalidPayload) as refused:
        decode_body("application/json", b'{"a": [Infinity]}')
    assert refused.value.message == "body is not valid JSON: Infinity is not allowed"


def test_an_invalid_request_object_is_rpcs_own() -> None:
    """
    rpc's refusal of a request object is a JSONRPCError carrying the error
    it answers with, and the version and id it answers in.
    """
    from julytwisted.rpc._errors import InvalidRequest, InvalidRequestObject
    from julytwisted.rpc._protocol import parse_call

    with pytest.raises(InvalidRequestObject) as refused:
        parse_call({"jsonrpc": "2.0", "method": 7, "id": "x"})
    error = refused.value
    assert isinstance(error.error, InvalidRequest) and isinstance(error, ValueError)
    assert (error.version, error.id, error.code) == ("2.0", "x", -32600)
    assert error.message == error.error.message == "method must be a string"


def test_json_rpc_tells_how_long_to_wait() -> None:
    """
    The one mapping to JSON-RPC codes gives a rate limit 429 and its wait,
    which the rpc layer sends as HTTP 429 with Retry-After; every error of
    the tree maps to a code, or to an internal error when it has none.
    """
    from julytwisted.methods import translate

    limited = translate(errors.RateLimited(2.5, "rpc"))
    assert limited is not None and limited.code == 429
    assert limited.data == {"type": "RateLimited", "retry_after": 2.5}
    signin = translate(errors.SignInRequired())
    assert signin is not None and signin.code == 401
    busy = translate(errors.Overloaded())
    assert busy is not None and busy.code == 503
    assert busy.data == {"type": "Overloaded", "retry_after": 1.0}
    away = translate(errors.RedisUnavailable())
    assert away is not None and away.data["retry_after"] == 1.0
    assert translate(errors.NotifyFailed("no")) is None
    assert translate(ValueError("no")) is None


# The doors: each answers every error it can raise as the others do


class _APIDoor:
    """A klein app of the API whose routes raise the error they name."""

    app = Klein()
    install_json_errors(app)

    @app.route("/api/<name>", methods=["GET"])
    def raising(self, request: IRequest, name: str) -> bytes:
        raise _example(name)


class _PageDoor:
    """A klein app of pages whose routes raise the error they name."""

    app = Klein()
    install_error_pages(app)

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    @app.route("/pages/<name>", methods=["GET"])
    def raising(self, request: IRequest, name: str) -> bytes:
        raise _example(name)


def _example(name: str) -> JulythonError:
    return example(getattr(errors, name))


async def _identify(request: IRequest) -> str | None:
    """
    The upload door's sender: the error C{X-Raise} names, at once, or the
    one C{X-Raise-Later} names once the body is in.
    """
    now, later = request.getHeader(b"x-raise"), request.getHeader(b"x-raise-later")
    if later is not None:
        await deferLater(reactor, 0.1, lambda: None)
        raise _example(later.decode())
    raise _example((now or b"").decode())


@pytest_twisted.async_yield_fixture
async def doors(
    store: Store, redis: RedisService, tmp_path: Path
) -> AsyncIterator[str]:
    """
    A listening Site with every HTTP door: the API's and the pages' error
    answers, uploads, the live feed's upgrade (whose every address is over
    its limit) and the Site's own body limits; yields its base URL.
    """
    renderer = Renderer(Sessions(store, b"k" * 32))
    api, pages = _APIDoor().app.resource(), _PageDoor(renderer).app.resource()
    root = Root(pages, {b"api": api, b"pages": pages})
    files = FileStore(tmp_path / "files")
    files.prepare()
    uploads = Uploads(store, files, _identify, UploadLimits(types={"file": ("*",)}))
    for name, resource in uploads.resources(renderer.layout).items():
        root.putChild(name, resource)
    _, live = build_live(store, redis.subscriber, LiveSettings(ip_limit=0), reactor)
    root.putChild(b"live", live)
    site = JulythonSite(
        root, limits=[(b"/limited", 10)], streams=[(b"/upload", uploads.stream)]
    )
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}"
    await port.stopListening()


def _assert_answers(response: Any, error: JulythonError) -> None:
    """The status and headers of C{response} are those of C{error}, no more."""
    answer = http_answer(error)
    assert response.code == answer.status
    expected = dict(answer.headers)
    for name in (b"WWW-Authenticate", b"Retry-After", b"Allow"):
        shown = response.headers.getRawHeaders(name)
        assert shown == ([expected[name]] if name in expected else None), name


async def _assert_json_answers(response: Any, error: JulythonError) -> None:
    """C{response} is C{error}'s JSON answer, byte for byte in its body."""
    _assert_answers(response, error)
    for name, value in JSON_HEADERS:
        assert response.headers.getRawHeaders(name) == [value], name
    assert await response.content() == error_body(error.message)


@pytest.mark.parametrize("kind", ERRORS, ids=lambda e: e.__name__)
@pytest_twisted.ensureDeferred
async def test_every_door_answers_alike(doors: str, kind: type[JulythonError]) -> None:
    """
    Each error, raised by an API route, a page, an upload's sender before
    its body is read or once it is in, gets the same status and headers at
    every door; the JSON ones the same body, byte for byte.
    """
    error = example(kind)
    name = kind.__name__
    await _assert_json_answers(await treq.get(f"{doors}/api/{name}"), error)
    page = await treq.get(f"{doors}/pages/{name}")
    _assert_answers(page, error)
    assert page.headers.getRawHeaders("Content-Type") == ["text/html; charset=utf-8"]
    assert b"&lt;script&gt;&amp;amp;&lt;/script&gt;" in await page.content()
    body = multipart([("a.txt", "text/plain", b"hello")])
    for header in ("X-Raise", "X-Raise-Later"):
        sent = {"Content-Type": FORM, header: name}
        response = await treq.post(f"{doors}/upload/", data=body, headers=sent)
        await _assert_json_answers(response, error)


@pytest_twisted.ensureDeferred
async def test_the_site_and_the_live_feed_answer_alike(doors: str) -> None:
    """
    The Site's own body limit (before any resource) and the live feed's
    refused upgrade answer as the other doors do.
    """
    response = await treq.post(f"{doors}/limited", data=b"x" * 100)
    limit = "request body (100 bytes) is over the limit of 10 bytes"
    await _assert_json_answers(response, errors.PayloadTooLarge(limit))
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    response = await treq.get(f"{doors}/live", headers=upgrade)
    refused = "too many live connections from this address (limit 0)"
    await _assert_json_answers(response, errors.RateLimited(10, "live", refused))
