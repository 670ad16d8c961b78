# -*- test-case-name: tests.test_site -*-
"""
The HTTP server around every resource: request bodies bounded per path before
they are read, and a graceful stop that lets in-flight requests finish.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from twisted.application.service import MultiService
from twisted.application.strports import service as strport_service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import Request, Site

log = Logger()

#: The body limit of any path no rule names.
DEFAULT_BODY_LIMIT = 1024 * 1024


class Root(Resource):
    """
    The root of the tree: its own children (C{json}, C{upload}, ...) first,
    every other path to one fallback resource, the klein app, which sees the
    path whole.
    """

    def __init__(self, fallback: IResource) -> None:
        Resource.__init__(self)
        self._fallback = fallback

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        # Resource traversal has moved the first segment to prepath; the
        # fallback routes on the whole path, so give it back.
        request.postpath.insert(0, request.prepath.pop())
        return self._fallback

    def render(self, request: IRequest) -> bytes | int:
        result: bytes | int = self._fallback.render(request)
        return result


class LimitedRequest(Request):
    """
    A request whose body is refused with 413 as soon as it is known to pass the
    limit of its path: from Content-Length before any of it is read, or while
    a chunked body streams in.
    """

    _refused = False
    _received = 0
    _limit: int | None = None

    def gotLength(self, length: int | None) -> None:
        # HTTPChannel.site is set by Site.buildProtocol, not declared.
        site: JulythonSite = self.channel.site  # type: ignore[attr-defined]
        # The request line is parsed but not yet handed to the request; the
        # channel is the only place its path can be read this early.
        path = getattr(self.channel, "_path", b"")
        self._limit = site.body_limit(path)
        if length is not None and length > self._limit:
            self._refuse(length)
            return
        Request.gotLength(self, length)

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._received += len(data)
        if self._limit is not None and self._received > self._limit:
            self._refuse(None)
            return
        Request.handleContentChunk(self, data)

    def _refuse(self, length: int | None) -> None:
        self._refused = True
        declared = "" if length is None else f" ({length} bytes)"
        error = f"request body{declared} is over the limit of {self._limit} bytes"
        body = json.dumps({"error": error}).encode()
        transport = self.channel.transport
        assert transport is not None
        transport.write(
            b"HTTP/1.1 413 Payload Too Large\r\n"
            b"Content-Type: application/json\r\n"
            b"Access-Control-Allow-Origin: *\r\n"
            b"Connection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        transport.loseConnection()


class JulythonSite(Site):
    """
    A Site with a body limit per path prefix and a count of the requests it is
    answering.

    @ivar active: the requests received and not yet finished.
    """

    requestFactory = LimitedRequest

    def __init__(
        self,
        resource: IResource,
        limits: Iterable[tuple[bytes, int]] = (),
        default_limit: int = DEFAULT_BODY_LIMIT,
        **kwargs: Any,
    ) -> None:
        """
        @param limits: C{(path prefix, bytes)} pairs; the longest prefix that
            matches a request's path gives its limit.
        @param default_limit: the limit for every other path.
        """
        kwargs.setdefault("parsePOSTFormSubmission", False)
        Site.__init__(self, resource, **kwargs)
        self._limits = sorted(limits, key=lambda pair: len(pair[0]), reverse=True)
        self._default_limit = default_limit
        self.active = 0
        self._counted: set[IRequest] = set()
        self._idle: list[Deferred[None]] = []

    def body_limit(self, path: bytes) -> int:
        """@return: the largest body, in bytes, a request to C{path} may send."""
        for prefix, limit in self._limits:
            if path.startswith(prefix):
                return limit
        return self._default_limit

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
        self.active -= 1
        if self.active == 0:
            waiting, self._idle = self._idle, []
            for d in waiting:
                d.callback(None)

    def when_idle(self) -> Deferred[None]:
        """@return: a Deferred that fires once no request is in flight."""
        if self.active == 0:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._idle.append(d)
        return d


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
        stopped = MultiService.stopService(self)
        d: Deferred[Any] = stopped if stopped is not None else succeed(None)

        def drain(_: object) -> Deferred[None]:
            if self.site.active:
                log.info("waiting for {n} requests to finish", n=self.site.active)
            idle = self.site.when_idle()
            idle.addTimeout(self._drain_timeout, self._clock)
            return idle.addErrback(self._gave_up)

        return d.addCallback(drain)

    def _gave_up(self, _: object) -> None:
        log.warn("{n} requests still running at shutdown", n=self.site.active)


__all__ = ["DEFAULT_BODY_LIMIT", "JulythonSite", "LimitedRequest", "Root", "WebService"]
