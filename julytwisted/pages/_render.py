# -*- test-case-name: tests.pages.test_pages -*-
"""
How every HTML page is answered: the layout flattened with the security and
caching headers (ETag, max-age, 304), pages kept a few seconds for anonymous
visitors, HTML error pages, urlencoded forms read and their CSRF token
checked, and the package's static files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

from klein import Klein
from twisted.internet.defer import CancelledError
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.template import tags
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from julytwisted.auth.sessions import ANONYMOUS, CSRF_FIELD, Sessions, Viewer
from julytwisted.errors import InvalidInput, JulythonError, UnsupportedMediaType
from julytwisted.http_errors import http_answer, route_redirect, routing_error
from julytwisted.pages._html import Content, render

log = Logger()

_T = TypeVar("_T")

#: The most fields a form may send.
_MAX_FIELDS = 20


def read_form(request: IRequest) -> dict[str, str]:
    """
    The fields of an C{application/x-www-form-urlencoded} body, last value
    of each name winning.

    @raise UnsupportedMediaType: for another content type.
    @raise InvalidInput: for a body that is not UTF-8 or has too many fields.
    """
    kind = (request.getHeader(b"content-type") or b"").split(b";")[0].strip()
    if kind.lower() != b"application/x-www-form-urlencoded":
        raise UnsupportedMediaType("send the form as application/x-www-form-urlencoded")
    body = request.content.read()
    try:
        parsed = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=_MAX_FIELDS,
            errors="strict",
        )
    except UnicodeDecodeError:
        raise InvalidInput("the form is not UTF-8") from None
    except ValueError:
        raise InvalidInput("the form has too many fields") from None
    return {name: values[-1] for name, values in parsed.items()}


def redirect(request: IRequest, location: str) -> bytes:
    request.setResponseCode(303)
    request.setHeader(b"Location", location.encode())
    request.setHeader(b"Cache-Control", b"no-store")
    return b""


def checked_form(sessions: Sessions, request: IRequest) -> dict[str, str]:
    """
    @return: the posted form, once its CSRF token checks out.
    @raise Forbidden: when it does not.
    """
    form = read_form(request)
    sessions.check_csrf(request, form.get(CSRF_FIELD))
    return form


_HEADERS = {
    b"Content-Type": b"text/html; charset=utf-8",
    b"X-Content-Type-Options": b"nosniff",
    b"Content-Security-Policy": b"default-src 'self'; frame-ancestors 'none'; "
    b"form-action 'self'; base-uri 'none'",
    b"Referrer-Policy": b"same-origin",
}


class StaticFiles(Resource):
    """
    The package's CSS and JS at C{/static/}: read once, served from memory
    with an ETag and a day's max-age.
    """

    isLeaf = True

    _TYPES = {".css": b"text/css; charset=utf-8", ".js": b"text/javascript"}

    def __init__(self) -> None:
        Resource.__init__(self)
        from importlib.resources import files

        self._files: dict[bytes, tuple[bytes, bytes, bytes]] = {}
        for entry in files("julytwisted.pages").joinpath("static").iterdir():
            kind = self._TYPES.get(entry.name[entry.name.rfind(".") :])
            if kind is not None:
                body = entry.read_bytes()
                tag = hashlib.blake2b(body, digest_size=12).hexdigest().encode()
                self._files[entry.name.encode()] = (body, kind, b'"' + tag + b'"')

    def render_GET(self, request: IRequest) -> bytes:
        found = self._files.get(b"/".join(request.postpath))
        if found is None:
            request.setResponseCode(404)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"no such file"
        body, kind, etag = found
        request.setHeader(b"Content-Type", kind)
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Cache-Control", b"public, max-age=86400")
        request.setHeader(b"ETag", etag)
        if request.getHeader(b"If-None-Match") == etag:
            request.setResponseCode(304)
            return b""
        return body


class Renderer:
    """
    Turns page content into an answer: the layout, the security and caching
    headers, and C{304 Not Modified} for a browser that has the page.
    """

    def __init__(
        self, sessions: Sessions, max_age: int = 10, kept: Recent | None = None
    ) -> None:
        """
        @param sessions: reads who is signed in, for the header's links.
        @param max_age: seconds a browser may reuse a public page.
        @param kept: where public pages rendered for anonymous visitors are
            kept a few seconds; none kept when L{None}.
        """
        self.sessions = sessions
        self._max_age = max_age
        self._kept = kept

    async def page(
        self,
        request: IRequest,
        title: str,
        content: Content,
        status: int = 200,
        cache: bool = True,
        viewer: Viewer | None = None,
    ) -> bytes:
        """
        @param cache: whether the page may be reused for C{max_age} seconds
            (never for forms or errors).
        @return: the body to send; empty for a 304.
        """
        viewer = viewer or await self.sessions.viewer(request)
        csrf = self.sessions.csrf_token(request) if viewer.signed_in else None
        body = await render(title, content, viewer, csrf)
        return self._finish(request, body, status, cache, viewer)

    async def public(
        self, request: IRequest, build: Callable[[], Awaitable[tuple[str, Content]]]
    ) -> bytes:
        """
        A public page: built by C{build} (its title and content) for a
        signed-in visitor; for everyone else, the one rendering of its URL
        kept for a few seconds, since flattening costs more than the reads.
        Who the visitor is comes first: while Redis is away, a signed-in
        visitor gets the 503 page, never the page kept for everyone else.
        """
        viewer = await self.sessions.viewer(request)
        if viewer.signed_in or self._kept is None:
            title, content = await build()
            return await self.page(request, title, content, viewer=viewer)

        async def anonymous() -> bytes:
            title, content = await build()
            return await render(title, content, viewer, None)

        key = ("page", request.getHeader(b"host"), request.uri)
        body = await self._kept.get(key, anonymous)
        return self._finish(request, body, 200, True, viewer)

    def _finish(
        self, request: IRequest, body: bytes, status: int, cache: bool, viewer: Viewer
    ) -> bytes:
        request.setResponseCode(status)
        for name, value in _HEADERS.items():
            request.setHeader(name, value)
        if not cache or status != 200:
            request.setHeader(b"Cache-Control", b"no-store")
            return body
        if viewer.signed_in:
            # Rendered afresh for them each time anyway; asking again (a 304
            # when nothing changed) shows a player their own change at once.
            request.setHeader(b"Cache-Control", b"private, no-cache")
        else:
            request.setHeader(b"Cache-Control", b"public, max-age=%d" % self._max_age)
        request.setHeader(b"Vary", b"Cookie")
        etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        request.setHeader(b"ETag", etag)
        if etag in (request.getHeader(b"If-None-Match") or b"").split(b", "):
            request.setResponseCode(304)
            return b""
        return body

    async def error(self, request: IRequest, error: JulythonError) -> bytes:
        """
        The error page of C{error}: its status and headers as every door
        sends them, what went wrong, and where to go instead.
        """
        status = error_status(request, error)
        content = [
            tags.p(error.message, role="alert"),
            tags.p(tags.a("Home", href="/")),
        ]
        title = _TITLES.get(
            status, "Something went wrong" if status >= 500 else "Sorry"
        )
        try:
            viewer = await self.sessions.viewer(request)
        except JulythonError:
            # Redis is away, most likely the very error shown: the page
            # names nobody rather than failing too.
            viewer = ANONYMOUS
        return await self.page(request, title, content, status=status, viewer=viewer)


_TITLES = {404: "Not found", 403: "Not allowed", 503: "Try again soon"}


def error_status(request: IRequest, error: JulythonError) -> int:
    """
    Set the headers of C{error} (C{Retry-After}, ...) on C{request}, for a
    page that shows it, an error page or a form with its message.

    @return: the status to answer with.
    """
    answer = http_answer(error)
    answer.apply(request)
    return answer.status


def install_error_pages(app: Klein, attribute: str = "renderer") -> None:
    """
    Give a klein app of pages HTML error pages: a L{JulythonError} with its
    status, headers and message, an unknown path 404, a route's redirect as
    a redirect, anything else a logged 500.

    @param attribute: the name of the L{Renderer} on the app's instances.
    """

    @app.handle_errors(JulythonError)
    async def product_error(self: Any, request: IRequest, failure: Failure) -> bytes:
        error = failure.value
        assert isinstance(error, JulythonError)
        renderer: Renderer = getattr(self, attribute)
        return await renderer.error(request, error)

    @app.handle_errors(HTTPException)
    async def http_error(self: Any, request: IRequest, failure: Failure) -> bytes:
        error = failure.value
        if isinstance(error, RequestRedirect):
            return route_redirect(request, error)
        assert isinstance(error, HTTPException)
        renderer: Renderer = getattr(self, attribute)
        text = "There is no page here." if error.code == 404 else error.name
        return await renderer.error(request, routing_error(error, text))

    @app.handle_errors(Exception)
    async def internal_error(
        self: Any, request: IRequest, failure: Failure
    ) -> bytes | None:
        if failure.check(CancelledError):
            return None
        log.failure("unhandled error in {uri}", failure, uri=request.uri)
        renderer: Renderer = getattr(self, attribute)
        return await renderer.error(
            request, JulythonError("The server failed to answer.")
        )


class Recent:
    """Results kept for a few seconds, by key, on an injected clock."""

    def __init__(self, clock: IReactorTime, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._kept: dict[Any, tuple[float, Any]] = {}

    async def get(self, key: Any, fetch: Callable[[], Awaitable[_T]]) -> _T:
        now = self._clock.seconds()
        kept = self._kept.get(key)
        if kept is not None and now - kept[0] < self._seconds:
            value: _T = kept[1]
            return value
        fresh = await fetch()
        if len(self._kept) > 1000:
            self._kept.clear()
        self._kept[key] = (now, fresh)
        return fresh


__all__ = [
    "Recent",
    "Renderer",
    "StaticFiles",
    "checked_form",
    "error_status",
    "install_error_pages",
    "read_form",
    "redirect",
]
