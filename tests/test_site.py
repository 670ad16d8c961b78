"""
The Site around every resource: body limits by path, a stop that lets
requests in flight finish, and the services it owns.
"""

from __future__ import annotations

import json
import socket

import pytest_twisted
import treq
from twisted.application.service import Service
from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.logger import LogEvent, LogLevel, formatEvent, globalLogPublisher
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from julytwisted.errors import UnsupportedMediaType
from julytwisted.site import (
    DEFAULT_BODY_LIMIT,
    JulythonSite,
    LimitedRequest,
    WebService,
)


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


class Endless(Resource):
    """Never answers."""

    isLeaf = True

    def render_GET(self, request: Request) -> object:
        return NOT_DONE_YET


@pytest_twisted.ensureDeferred
async def test_stop_gives_up_on_requests_after_the_drain_timeout() -> None:
    """
    A request still running when the drain timeout passes is given up on,
    with a warning, and the stop ends.
    """
    port = free_port()
    site = JulythonSite(Endless())
    web = WebService(site, [f"tcp:{port}:interface=127.0.0.1"], reactor, 0.2)
    web.startService()
    await deferLater(reactor, 0.1, lambda: None)
    pending = treq.get(f"http://127.0.0.1:{port}/")
    await deferLater(reactor, 0.1, lambda: None)
    assert site.active == 1
    warnings: list[str] = []

    def observe(event: LogEvent) -> None:
        if event.get("log_level") == LogLevel.warn:
            warnings.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)
    try:
        began = reactor.seconds()
        await web.stopService()
    finally:
        globalLogPublisher.removeObserver(observe)
    assert reactor.seconds() - began < 2
    assert warnings == ["1 requests still running at shutdown"]
    # The client gives up too; its request is no longer of interest.
    pending.addErrback(lambda _: None)
    pending.cancel()


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


class Collect:
    """A body stream that keeps what it is given, or refuses past a size."""

    def __init__(self, request: LimitedRequest, refuse_after: int | None) -> None:
        self.request, self.refuse_after = request, refuse_after
        self.chunks: list[bytes] = []
        self.ended = self.aborted = False

    def write(self, data: bytes) -> None:
        self.chunks.append(data)
        if self.refuse_after is not None and sum(map(len, self.chunks)) > (
            self.refuse_after
        ):
            self.request.refuse(UnsupportedMediaType("no thanks"), linger=True)

    def end(self) -> None:
        self.ended = True

    def abort(self) -> None:
        self.aborted = True


class Streamed(Resource):
    """Answers what the stream saw and what request.content holds."""

    isLeaf = True

    def render_POST(self, request: LimitedRequest) -> bytes:
        stream = request.stream
        assert isinstance(stream, Collect) and stream.ended
        return b"%d %d" % (sum(map(len, stream.chunks)), len(request.content.read()))


@pytest_twisted.ensureDeferred
async def test_streamed_bodies_skip_the_buffer() -> None:
    """
    On a path with a stream factory, the body goes to the stream, not to
    request.content; other methods and paths are buffered as usual.  A
    stream that refuses mid-body is answered at once, and a client still
    sending reads the answer.
    """
    streams: list[Collect] = []

    def factory(
        request: LimitedRequest, method: bytes, path: bytes, length: int | None
    ) -> Collect | None:
        if method != b"POST":
            return None
        streams.append(Collect(request, 1000 if path == b"/picky" else None))
        return streams[-1]

    site = JulythonSite(Streamed(), streams=[(b"/", factory)])
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}"
    try:
        response = await treq.post(url + "/any", data=b"x" * 300_000)
        assert await response.content() == b"300000 0"
        response = await treq.post(url + "/picky", data=b"x" * 900_000)
        assert response.code == 415
        assert json.loads(await response.content()) == {"error": "no thanks"}
        assert streams[-1].aborted and not streams[-1].ended
    finally:
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_owned_services_run_while_it_listens() -> None:
    """
    The services a Site owns (a password pool of a Site built on its own)
    start with its first port and stop with its last, once each.
    """
    owned = Service()
    site = JulythonSite(Slow(), services=[owned])
    assert not owned.running
    one = reactor.listenTCP(0, site, interface="127.0.0.1")
    two = reactor.listenTCP(0, site, interface="127.0.0.1")
    assert owned.running
    await one.stopListening()
    assert owned.running
    await two.stopListening()
    assert not owned.running


class Hello(Resource):
    """Answers every GET with the Host it was asked for."""

    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        host = request.getHeader(b"host")
        return b"host=" + (b"-" if host is None else host)


def _exchange(port: int, head: bytes) -> bytes:
    """Send a request's head as it is; @return: the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest_twisted.ensureDeferred
async def test_http_1_1_without_one_host_is_400() -> None:
    """
    An HTTP/1.1 request without Host, or with two, is 400 and reaches no
    resource (RFC 9112 3.2); HTTP/1.0 without Host, and HTTP/1.1 with one
    (even empty, as the RFC allows), are answered.
    """
    port = reactor.listenTCP(0, JulythonSite(Hello()), interface="127.0.0.1")
    number = port.getHost().port
    try:
        for head in (
            b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n"
            b"Connection: close\r\n\r\n",
        ):
            answer = await deferToThread(_exchange, number, head)
            status, _, body = answer.partition(b"\r\n\r\n")
            assert status.startswith(b"HTTP/1.1 400 "), answer
            assert b"host=" not in body
            assert b"Host header" in body
        for head, expected in (
            (b"GET / HTTP/1.0\r\n\r\n", b"host=-"),
            (b"GET / HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n",
             b"host=a.example"),
            (b"GET / HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n", b"host="),
        ):  # fmt: skip
            answer = await deferToThread(_exchange, number, head)
            assert answer.split(b" ", 2)[1] == b"200", answer
            assert answer.endswith(b"\r\n\r\n" + expected), answer
    finally:
        await port.stopListening()
