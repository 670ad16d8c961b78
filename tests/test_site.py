"""
The Site around every resource: body limits by path, and a stop that lets
requests in flight finish.
"""

from __future__ import annotations

import socket

import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from julytwisted.site import DEFAULT_BODY_LIMIT, JulythonSite, WebService


class Slow(Resource):
    """Answers after half a second."""

    isLeaf = True

    def render_GET(self, request: Request) -> object:
        def answer() -> None:
            request.write(b"done")
            request.finish()

        reactor.callLater(0.5, answer)
        return NOT_DONE_YET

    def render_POST(self, request: Request) -> bytes:
        return str(len(request.content.read())).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_longest_prefix_gives_the_limit() -> None:
    """The longest matching prefix's limit wins; other paths get the default."""
    site = JulythonSite(Slow(), limits=[(b"/api/", 10), (b"/api/v1/github", 99)])
    assert site.body_limit(b"/api/v1/github") == 99
    assert site.body_limit(b"/api/v1/people") == 10
    assert site.body_limit(b"/elsewhere") == DEFAULT_BODY_LIMIT


@pytest_twisted.ensureDeferred
async def test_stop_lets_requests_in_flight_finish() -> None:
    """
    Stopping the web service closes the port at once, but a request already
    being answered gets its whole answer, and the stop waits for it.
    """
    port = free_port()
    site = JulythonSite(Slow())
    web = WebService(site, [f"tcp:{port}:interface=127.0.0.1"], reactor)
    web.startService()
    await deferLater(reactor, 0.1, lambda: None)
    pending = treq.get(f"http://127.0.0.1:{port}/")
    await deferLater(reactor, 0.1, lambda: None)
    assert site.active == 1
    stopped: list[object] = []
    stopping = web.stopService().addCallback(stopped.append)
    await deferLater(reactor, 0.05, lambda: None)
    assert stopped == []
    refused = socket.socket()
    try:
        assert refused.connect_ex(("127.0.0.1", port)) != 0
    finally:
        refused.close()
    response = await pending
    assert (response.code, await response.content()) == (200, b"done")
    await stopping
    assert len(stopped) == 1 and site.active == 0


@pytest_twisted.ensureDeferred
async def test_body_under_the_limit_is_read_whole() -> None:
    """A body within its path's limit reaches the resource whole."""
    site = JulythonSite(Slow(), limits=[(b"/", 1000)])
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    try:
        response = await treq.post(
            f"http://127.0.0.1:{port.getHost().port}/", data=b"x" * 1000
        )
        assert await response.content() == b"1000"
        over = await treq.post(
            f"http://127.0.0.1:{port.getHost().port}/", data=b"x" * 1001
        )
        assert over.code == 413
    finally:
        await port.stopListening()
