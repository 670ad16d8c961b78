"""
One call to a code host, bounded: a deadline over connecting, the headers
and the body; a body never read past its limit; every failure a HostError
naming the call.  Against real listening servers on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock, LoopingCall, deferLater
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from julytwisted.hosts import (
    ConfiguredHost,
    HostError,
    HostForbidden,
    HostNotFound,
    HostRateLimited,
    HostUnreachable,
    Http,
    MalformedAnswer,
    TokenRejected,
)
from julytwisted.hosts._http import Request as Call
from julytwisted.hosts._http import get_json, link_next, pages, send

Behaviour = Callable[[Request], object]


@attrs.define
class Server(Resource):
    """Answers each path as the test says; counts what it was sent."""

    isLeaf = True
    behaviours: dict[str, Behaviour] = attrs.field(factory=dict)
    seen: list[str] = attrs.field(factory=list)
    lost: list[str] = attrs.field(factory=list)
    url: str = ""

    def __attrs_post_init__(self) -> None:
        Resource.__init__(self)

    def render(self, request: Request) -> object:
        path = request.path.decode()
        self.seen.append(path)
        request.notifyFinish().addErrback(lambda _: self.lost.append(path))
        return self.behaviours[path](request)


@pytest_twisted.async_yield_fixture
async def server() -> AsyncIterator[Server]:
    site = Server()
    port = reactor.listenTCP(0, Site(site), interface="127.0.0.1")
    site.url = f"http://127.0.0.1:{port.getHost().port}"
    yield site
    await port.stopListening()


def _host(server: Server) -> ConfiguredHost:
    return ConfiguredHost("gitlab", server.url, server.url + "/api")


def _call(server: Server, path: str, method: str = "GET") -> Call:
    return Call(method, server.url + path, f"the test's {method} {path}", "t0k")


def _json(body: object, status: int = 200, **headers: str) -> Behaviour:
    def answer(request: Request) -> bytes:
        request.setResponseCode(status)
        for name, value in headers.items():
            request.setHeader(name.replace("_", "-"), value)
        return json.dumps(body).encode()

    return answer


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("never happened")


@pytest_twisted.ensureDeferred
async def test_treq_itself_is_a_client(server: Server) -> None:
    """The treq module is an HTTP client; the call carries the bearer token."""
    server.behaviours["/api/x"] = _json({"ok": True})
    answer, node = await get_json(Http(treq, reactor), _call(server, "/api/x"))
    assert node["ok"].flag() is True
    assert answer.status == 200


@pytest_twisted.ensureDeferred
async def test_deadline_while_waiting_for_the_answer(
    server: Server, http: Http
) -> None:
    """A host that never answers: HostUnreachable at the deadline."""
    server.behaviours["/api/never"] = lambda request: NOT_DONE_YET
    clock = Clock()
    pending = Deferred.fromCoroutine(
        send(attrs.evolve(http, clock=clock), _call(server, "/api/never"))
    )
    await _until(lambda: server.seen == ["/api/never"])
    clock.advance(5)
    with pytest.raises(HostUnreachable, match="did not answer within 5 s"):
        await pending
    await _until(lambda: server.lost == ["/api/never"])


@pytest_twisted.ensureDeferred
async def test_deadline_covers_the_body(server: Server, http: Http) -> None:
    """A host that sends its headers and then drips: the deadline still holds."""

    def drip(request: Request) -> object:
        request.setHeader("content-type", "application/json")
        request.write(b'{"partial": ')
        return NOT_DONE_YET

    server.behaviours["/api/drip"] = drip
    clock = Clock()
    pending = Deferred.fromCoroutine(
        send(attrs.evolve(http, clock=clock), _call(server, "/api/drip"))
    )
    await _until(lambda: server.seen == ["/api/drip"])
    await deferLater(reactor, 0.05, lambda: None)
    assert not pending.called
    clock.advance(5)
    with pytest.raises(HostUnreachable, match="did not answer"):
        await pending
    await _until(lambda: server.lost == ["/api/drip"])


@pytest_twisted.ensureDeferred
async def test_declared_body_over_the_limit(server: Server, http: Http) -> None:
    """A Content-Length over the limit is refused before reading on."""
    server.behaviours["/api/big"] = lambda request: b"x" * 5000
    small = attrs.evolve(http, limit=4096)
    with pytest.raises(MalformedAnswer, match="is over 4096 bytes"):
        await send(small, _call(server, "/api/big"))


@pytest_twisted.ensureDeferred
async def test_streamed_body_stops_at_the_limit(server: Server, http: Http) -> None:
    """
    An endless chunked body: reading stops past the limit and the connection
    is dropped, so the host stops sending.
    """
    sent: list[int] = []

    def endless(request: Request) -> object:
        chunk = b"y" * 65536

        def more() -> None:
            request.write(chunk)
            sent.append(len(chunk))

        loop = LoopingCall(more)
        loop.start(0.001)
        request.notifyFinish().addBoth(lambda _: loop.stop())
        return NOT_DONE_YET

    server.behaviours["/api/endless"] = endless
    with pytest.raises(MalformedAnswer, match="is over 1048576 bytes"):
        await send(http, _call(server, "/api/endless"))
    await _until(lambda: server.lost == ["/api/endless"])
    assert sum(sent) < 16 * 1024 * 1024


@pytest_twisted.ensureDeferred
async def test_nobody_listening(server: Server, http: Http) -> None:
    """A host nobody answers for: HostUnreachable naming the call."""
    port = reactor.listenTCP(0, Site(Resource()), interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}/api/x"
    await port.stopListening()
    with pytest.raises(HostUnreachable, match="the test's GET could not be reached"):
        await send(http, Call("GET", url, "the test's GET"))


@pytest_twisted.ensureDeferred
async def test_not_json(server: Server, http: Http) -> None:
    """A body that is not JSON: MalformedAnswer."""
    server.behaviours["/api/html"] = lambda request: b"<html>maintenance</html>"
    with pytest.raises(MalformedAnswer, match="the test's GET /api/html is not JSON"):
        await get_json(http, _call(server, "/api/html"))


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "message"),
    [
        (
            401,
            {"message": "Bad credentials"},
            {},
            TokenRejected,
            "401: Bad credentials",
        ),
        (403, {"message": "Forbidden"}, {}, HostForbidden, "403: Forbidden"),
        (
            404,
            {"error": {"message": "Repository not found"}},
            {},
            HostNotFound,
            "not found",
        ),
        (410, {}, {}, HostNotFound, "answered 410"),
        (500, "oops", {}, HostUnreachable, "answered 500"),
        (422, {"message": "Validation Failed"}, {}, HostError, "Validation Failed"),
        (429, {}, {"Retry-After": "7"}, HostRateLimited, "answered 429"),
        (403, {}, {"Retry-After": "7"}, HostRateLimited, "answered 403"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_statuses(
    server: Server,
    http: Http,
    status: int,
    body: object,
    headers: dict[str, str],
    error: type[HostError],
    message: str,
) -> None:
    """Each refusal raises its own HostError, with the host's own words."""
    server.behaviours["/api/s"] = _json(body, status, **headers)
    with pytest.raises(error, match=message) as caught:
        await get_json(http, _call(server, "/api/s"))
    if error is HostRateLimited:
        assert caught.value.retry_after == 7  # type: ignore[attr-defined]


@pytest_twisted.ensureDeferred
async def test_github_rate_limit(server: Server, http: Http) -> None:
    """GitHub's 403 with no calls left: HostRateLimited until its reset time."""
    clock = Clock()
    clock.advance(1_000_000)
    server.behaviours["/api/limited"] = _json(
        {"message": "API rate limit exceeded"},
        403,
        x_ratelimit_remaining="0",
        x_ratelimit_reset="1000060",
    )
    with pytest.raises(HostRateLimited) as caught:
        await get_json(attrs.evolve(http, clock=clock), _call(server, "/api/limited"))
    assert caught.value.retry_after == 60


@pytest_twisted.ensureDeferred
async def test_get_follows_a_redirect_post_does_not(server: Server, http: Http) -> None:
    """A renamed repository's GET is followed; a POST is not sent twice."""

    def moved(request: Request) -> bytes:
        request.setResponseCode(307 if request.method == b"POST" else 301)
        request.setHeader("location", server.url + "/api/new")
        return b""

    server.behaviours["/api/old"] = moved
    server.behaviours["/api/new"] = _json({"id": 1})
    _, node = await get_json(http, _call(server, "/api/old"))
    assert node["id"].number() == 1
    with pytest.raises(HostError, match="answered 307"):
        await get_json(http, _call(server, "/api/old", "POST"))
    assert server.seen == ["/api/old", "/api/new", "/api/old"]


async def _all(http: Http, host: ConfiguredHost, first: Call, most: int) -> list[Any]:
    return [page.value async for page in pages(http, host, first, link_next, most)]


@pytest_twisted.ensureDeferred
async def test_pages_stay_inside_the_api(server: Server, http: Http) -> None:
    """
    A next page outside the host's API is refused: the token would go
    there.  Pages within it are followed, up to a bound.
    """
    host = _host(server)
    server.behaviours["/api/p1"] = _json([1], link=f'<{server.url}/api/p2>; rel="next"')
    server.behaviours["/api/p2"] = _json(
        [2], link='<http://evil.example/api/p3>; rel="next"'
    )
    with pytest.raises(MalformedAnswer, match="outside its API"):
        await _all(http, host, _call(server, "/api/p1"), 10)
    server.behaviours["/api/loop"] = _json(
        [0], link=f'<{server.url}/api/loop?page=2>; rel="next", <x>; rel="last"'
    )
    with pytest.raises(MalformedAnswer, match="more than 3 pages"):
        await _all(http, host, _call(server, "/api/loop"), 3)
    server.behaviours["/elsewhere"] = _json([9])
    server.behaviours["/api/p3"] = _json(
        [3], link=f'<{server.url}/elsewhere>; rel="next"'
    )
    with pytest.raises(MalformedAnswer, match="outside its API"):
        await _all(http, host, _call(server, "/api/p3"), 10)
    assert "/elsewhere" not in server.seen
