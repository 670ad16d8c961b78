# -*- test-case-name: tests.test_site -*-
"""
The HTTP server around every resource: request bodies bounded per path before
they are read, bodies streamed to a consumer instead of a buffer on the paths
that ask for it, answers gzipped where that pays
(L{julytwisted.representation}), an HTTP/1.1 request without its C{Host}
refused, and a graceful stop that lets in-flight requests finish.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from io import BytesIO
from typing import Any, Protocol

from twisted.application.service import IService, MultiService
from twisted.application.strports import service as strport_service
from twisted.internet.defer import Deferred
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.web import http
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import Request, Site

from julytwisted._compat import pending_method, pending_path
from julytwisted.errors import InvalidInput, JulythonError, PayloadTooLarge
from julytwisted.http_errors import JSON_HEADERS, error_body, http_answer, json_error
from julytwisted.representation import CodingRequest

log = Logger()

#: The access log: one event per request.
access = Logger(namespace="julytwisted.access")

_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def request_id(given: bytes | None) -> str:
    """
    @param given: the request's own X-Request-ID (from a proxy in front),
        kept when it is a plain token of up to 64 characters.
    @return: that id, or a new random one.
    """
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given.decode("ascii")
    return secrets.token_hex(8)


def _header(request: http.Request, name: bytes) -> str:
    value = request.getHeader(name)
    return "" if value is None else value.decode("latin-1")[:300]


#: Told of a request that ended: its method, path, status and seconds.
RequestObserver = Callable[[bytes, bytes, int, float], None]

#: The body limit of any path no rule names.
DEFAULT_BODY_LIMIT = 1024 * 1024

#: Seconds a refused request's connection is kept to drop the rest of its body.
LINGER = 30.0

_REASONS = {
    **http.RESPONSES,
    413: b"Payload Too Large",
    415: b"Unsupported Media Type",
}


class BodyStream(Protocol):
    """
    Takes a request's body as it arrives, instead of the request buffering
    it in C{request.content}.  The resource that answers the request finds it
    as C{request.stream}, once the whole body is in.
    """

    def write(self, data: bytes) -> None:
        """A chunk of the body, in order."""

    def end(self) -> None:
        """The whole body has arrived."""

    def abort(self) -> None:
        """The connection was lost, or the request refused, before its end."""


#: Makes the L{BodyStream} of a request from its headers, given its method,
#: path and declared length, or answers L{None} to let the body be buffered as
#: usual.  It may refuse the request instead with L{LimitedRequest.refuse}.
StreamFactory = Callable[
    ["LimitedRequest", bytes, bytes, int | None], BodyStream | None
]


class Root(Resource):
    """
    The root of the tree: its own children (C{json}, C{upload}, ...) first,
    then whole-path apps chosen by the first path segment, every other path
    to one fallback resource.  Whole-path apps (klein) see the path whole.
    """

    def __init__(
        self, fallback: IResource, apps: Mapping[bytes, IResource] | None = None
    ) -> None:
        """
        @param fallback: the resource of every path nothing else claims.
        @param apps: whole-path resources by first segment (C{b"api"}).
        """
        Resource.__init__(self)
        self._fallback = fallback
        self._apps = dict(apps or {})

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        # Resource traversal has moved the first segment to prepath; the
        # apps route on the whole path, so give it back.
        request.postpath.insert(0, request.prepath.pop())
        return self._apps.get(path, self._fallback)

    def render(self, request: IRequest) -> bytes | int:
        result: bytes | int = self._fallback.render(request)
        return result


class LimitedRequest(CodingRequest):
    """
    A request whose body is refused with 413 as soon as it is known to pass the
    limit of its path: from Content-Length before any of it is read, or while
    a chunked body streams in.  On a path with a L{StreamFactory}, the body
    goes to the L{BodyStream} it makes, never into C{content}.  Its answer
    is gzipped where that pays (L{CodingRequest}); an HTTP/1.1 request
    without exactly one C{Host} is answered 400 (RFC 9112 3.2).

    @ivar stream: the request's body stream, or L{None}.
    """

    _refused = False
    _lingering: IDelayedCall | None = None
    _received = 0
    _limit: int | None = None
    stream: BodyStream | None = None
    #: Names the request in the access log and the X-Request-ID header.
    request_id = ""
    #: When its handling began (a C{time.perf_counter}).
    started = 0.0

    def process(self) -> None:
        self.started = time.perf_counter()
        self.request_id = request_id(self.getHeader(b"x-request-id"))
        self.setHeader(b"X-Request-ID", self.request_id.encode("ascii"))
        hosts = self.requestHeaders.getRawHeaders(b"host") or []
        if self.clientproto == b"HTTP/1.1" and len(hosts) != 1:
            # Which site is meant is unknown: no resource may guess.
            error = InvalidInput(
                "an HTTP/1.1 request names its host in exactly one Host header"
            )
            self.write(json_error(self, error))
            self.finish()
            return
        Request.process(self)

    def gotLength(self, length: int | None) -> None:
        # HTTPChannel.site is set by Site.buildProtocol, not declared.
        site: JulythonSite = self.channel.site  # type: ignore[attr-defined]
        # The request line is parsed but not yet handed to the request; the
        # channel is the only place its method and path can be read this early.
        path = pending_path(self.channel)
        method = pending_method(self.channel)
        self._limit = site.body_limit(path)
        if length is not None and length > self._limit:
            self._refuse_length(length)
            return
        factory = site.stream_factory(path)
        if factory is not None:
            self.stream = factory(self, method, path, length)
        if self.stream is None:
            Request.gotLength(self, length)
        else:
            self.content = BytesIO()

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._received += len(data)
        if self._limit is not None and self._received > self._limit:
            self._refuse_length(None)
            return
        if self.stream is None:
            Request.handleContentChunk(self, data)
        else:
            self.stream.write(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self.stream is not None and not self._refused:
            self.stream.end()
        if self._refused:
            # The answer is sent; the rest of the body was read only so that
            # closing would not reset the connection under it.
            if self.channel is not None and self.channel.transport is not None:
                self.channel.transport.loseConnection()
            return
        Request.requestReceived(self, command, path, version)

    def connectionLost(self, reason: Any) -> None:
        if self._lingering is not None and self._lingering.active():
            self._lingering.cancel()
        if self.stream is not None and not self.finished:
            self.stream.abort()
        Request.connectionLost(self, reason)

    def _refuse_length(self, length: int | None) -> None:
        declared = "" if length is None else f" ({length} bytes)"
        error = f"request body{declared} is over the limit of {self._limit} bytes"
        self.refuse(PayloadTooLarge(error))

    def refuse(self, error: JulythonError, linger: bool = False) -> None:
        """
        Answer at once with C{error}, as every door answers it (its status and
        headers, C{{"error": its message}}), before the body is read or in
        the middle of it, and close the connection.  The request never
        reaches a resource.

        @param linger: keep reading (and dropping) the rest of the body until
            it ends, for at most L{LINGER} seconds, before closing, so that
            clients still sending see the answer rather than a connection
            reset; the path's body limit still bounds what is read.  Without
            it, no more of the body is read.
        """
        if self._refused:
            return
        self._refused = True
        if self.stream is not None:
            self.stream.abort()
        answer = http_answer(error)
        body = error_body(error.message)
        headers = (*JSON_HEADERS, *answer.headers, (b"Connection", b"close"))
        transport = self.channel.transport
        assert transport is not None
        transport.write(
            b"HTTP/1.1 %d %s\r\n"
            % (answer.status, _REASONS.get(answer.status, b"Error"))
            + b"".join(name + b": " + value + b"\r\n" for name, value in headers)
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
        if linger:
            # TimeoutMixin's callLater: the reactor's, unless a test set one.
            self._lingering = self.channel.callLater(LINGER, transport.loseConnection)
        else:
            transport.loseConnection()


class JulythonSite(Site):
    """
    A Site with a body limit per path prefix and a count of the requests it is
    answering, and the services it owns, which run while it listens.

    @ivar active: the requests received and not yet finished.
    @ivar observe: told of every request as it ends, for metrics: its
        method, path, status and seconds from arrival to the last byte.
    """

    requestFactory = LimitedRequest

    def __init__(
        self,
        resource: IResource,
        limits: Iterable[tuple[bytes, int]] = (),
        default_limit: int = DEFAULT_BODY_LIMIT,
        streams: Iterable[tuple[bytes, StreamFactory]] = (),
        observe: RequestObserver | None = None,
        services: Iterable[IService] = (),
        **kwargs: Any,
    ) -> None:
        """
        @param limits: C{(path prefix, bytes)} pairs; the longest prefix that
            matches a request's path gives its limit.
        @param default_limit: the limit for every other path.
        @param streams: C{(path prefix, factory)} pairs: the longest prefix
            that matches a request's path gives the factory of its
            L{BodyStream}.
        @param observe: told each finished request, for metrics.
        @param services: started with the Site's first port and stopped with
            its last, for collaborators no service tree runs (a Site built
            on its own, as tests build one).
        """
        kwargs.setdefault("parsePOSTFormSubmission", False)
        Site.__init__(self, resource, **kwargs)
        self._limits = sorted(limits, key=lambda pair: len(pair[0]), reverse=True)
        self._default_limit = default_limit
        self._streams = sorted(streams, key=lambda pair: len(pair[0]), reverse=True)
        self.active = 0
        self._counted: set[IRequest] = set()
        self._idle: list[Deferred[None]] = []
        self.observe = observe
        self._services = tuple(services)

    def startFactory(self) -> None:
        Site.startFactory(self)
        for service in self._services:
            service.startService()

    def stopFactory(self) -> None:
        for service in reversed(self._services):
            service.stopService()
        Site.stopFactory(self)

    def body_limit(self, path: bytes) -> int:
        """@return: the largest body, in bytes, a request to C{path} may send."""
        for prefix, limit in self._limits:
            if path.startswith(prefix):
                return limit
        return self._default_limit

    def stream_factory(self, path: bytes) -> StreamFactory | None:
        """@return: what streams the bodies of requests to C{path}, if anything."""
        for prefix, factory in self._streams:
            if path.startswith(prefix):
                return factory
        return None

    def getResourceFor(self, request: Request) -> IResource:
        self.active += 1
        self._counted.add(request)
        request.notifyFinish().addBoth(self._finished, request)
        resource: IResource = Site.getResourceFor(self, request)
        return resource

    def release(self, request: IRequest) -> None:
        """
        Stop counting a request whose connection another protocol has taken
        over (a websocket): it never finishes as HTTP, and a graceful stop
        must not wait for it.
        """
        self._finished(None, request)

    def _finished(self, _: object, request: IRequest) -> None:
        if request not in self._counted:
            return
        self._counted.discard(request)
        if self.observe is not None:
            path = request.path or b"/"
            seconds = time.perf_counter() - getattr(request, "started", 0.0)
            code = getattr(request, "code", 200)
            self.observe(request.method, path, code, seconds)
        self.active -= 1
        if self.active == 0:
            waiting, self._idle = self._idle, []
            for d in waiting:
                d.callback(None)

    def log(self, request: http.Request) -> None:
        """
        One structured event per request, in place of the combined log line:
        its id, method, path, status, bytes, duration, client, agent and
        referrer as fields (a JSON log observer writes them all).
        """
        started = getattr(request, "started", 0.0)
        seconds = time.perf_counter() - started if started else 0.0
        peer = request.getClientAddress()
        access.info(
            "{request_id} {client} {method} {uri} {status} {bytes} "
            "{duration_ms:.1f}ms {user_agent!r}",
            request_id=getattr(request, "request_id", ""),
            client=getattr(peer, "host", "unix"),
            method=request.method.decode("latin-1"),
            uri=request.uri.decode("latin-1"),
            status=request.code,
            bytes=request.sentLength,
            duration_ms=seconds * 1000,
            user_agent=_header(request, b"user-agent"),
            referrer=_header(request, b"referer"),
        )

    async def when_idle(self) -> None:
        """Wait until no request is in flight."""
        if self.active:
            idle: Deferred[None] = Deferred()
            self._idle.append(idle)
            await idle


class WebService(MultiService):
    """
    The Site on each listening endpoint.  Stopping closes the ports first, then
    waits (up to C{drain_timeout}) for requests in flight to finish.
    """

    name = "web"

    def __init__(
        self,
        site: JulythonSite,
        listen: Sequence[str],
        clock: IReactorTime,
        drain_timeout: float = 10.0,
    ) -> None:
        MultiService.__init__(self)
        self.site = site
        self._clock = clock
        self._drain_timeout = drain_timeout
        for description in listen:
            strport_service(description, site).setServiceParent(self)

    def stopService(self) -> Deferred[None]:
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        stopped = MultiService.stopService(self)
        if stopped is not None:
            await stopped
        if self.site.active:
            log.info("waiting for {n} requests to finish", n=self.site.active)
        idle = Deferred.fromCoroutine(self.site.when_idle())
        idle.addTimeout(self._drain_timeout, self._clock)
        try:
            await idle
        except DeferredTimeoutError:
            log.warn("{n} requests still running at shutdown", n=self.site.active)


__all__ = [
    "DEFAULT_BODY_LIMIT",
    "LINGER",
    "BodyStream",
    "JulythonSite",
    "LimitedRequest",
    "Root",
    "StreamFactory",
    "WebService",
]
