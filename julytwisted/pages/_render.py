# -*- test-case-name: tests.pages.test_pages -*-
"""
How every HTML page is answered: the layout flattened with the security and
caching headers (ETag, max-age, 304 and 412 by
L{julytwisted.representation.conditional}), pages kept a few seconds for
anonymous visitors, the layout lent to the doors that are not pages, HTML
error pages, C{OPTIONS} answered with the methods a page allows, urlencoded
forms read and their CSRF token checked, and the package's static files.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs

from klein import Klein
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.template import tags
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from julytwisted.auth.sessions import ANONYMOUS, CSRF_FIELD, Sessions, Viewer
from julytwisted.errors import (
    InvalidInput,
    JulythonError,
    MethodNotAllowed,
    PreconditionFailed,
    UnsupportedMediaType,
)
from julytwisted.http_errors import (
    http_answer,
    options_answer,
    route_redirect,
    routing_error,
)
from julytwisted.pages._html import Content, render
from julytwisted.representation import HTML_HEADERS, conditional, entity_tag

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


class StaticFile(Resource):
    """
    One of the package's static files, served from memory with its ETag and
    a day's max-age.
    """

    isLeaf = True

    def __init__(self, body: bytes, kind: bytes) -> None:
        Resource.__init__(self)
        self._body = body
        self._kind = kind
        self._etag = entity_tag(body)

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"Content-Type", self._kind)
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Cache-Control", b"public, max-age=86400")
        try:
            if conditional(request, self._etag):
                return b""
        except PreconditionFailed as error:
            return _plain(request, error.status, error.message)
        return self._body

    def render_OPTIONS(self, request: IRequest) -> bytes:
        return options_answer(request, ("GET", "HEAD"))


def _plain(request: IRequest, status: int, text: str) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
    request.setHeader(b"Cache-Control", b"no-store")
    request.responseHeaders.removeHeader(b"etag")
    return text.encode("utf-8")


class StaticFiles(Resource):
    """
    The package's CSS, JS and icon at C{/static/}, each a L{StaticFile}
    read once.
    """

    _TYPES = {
        ".css": b"text/css; charset=utf-8",
        ".js": b"text/javascript; charset=utf-8",
        ".ico": b"image/vnd.microsoft.icon",
    }

    def __init__(self) -> None:
        Resource.__init__(self)
        from importlib.resources import files

        for entry in files("julytwisted.pages").joinpath("static").iterdir():
            kind = self._TYPES.get(entry.name[entry.name.rfind(".") :])
            if kind is not None:
                self.putChild(entry.name.encode(), StaticFile(entry.read_bytes(), kind))

    def file(self, name: bytes) -> IResource:
        """@return: the resource of the static file called C{name}."""
        found: IResource = self.children[name]
        return found

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        return _NoSuchFile()

    def render_GET(self, request: IRequest) -> bytes:
        return _plain(request, 404, "no such file")


class _NoSuchFile(Resource):
    isLeaf = True

    def render(self, request: IRequest) -> bytes:
        return _plain(request, 404, "no such file")


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
        head: Sequence[Content] = (),
    ) -> bytes:
        """
        @param cache: whether the page may be reused for C{max_age} seconds
            (never for forms or errors).
        @param head: the page's own scripts and style sheets.
        @return: the body to send; empty for a 304.
        @raise PreconditionFailed: the request's If-Match names another
            version of the page.
        """
        viewer = viewer or await self.sessions.viewer(request)
        csrf = self.sessions.csrf_token(request) if viewer.signed_in else None
        body = await render(title, content, viewer, csrf, head)
        return self._finish(request, body, status, cache, viewer)

    def layout(
        self,
        request: IRequest,
        title: str,
        content: Content,
        head: Sequence[Content] = (),
    ) -> Deferred[bytes]:
        """
        The site's layout for the doors that are not its own pages: a
        L{julytwisted.representation.Layout}.  While Redis is away the page
        names nobody rather than failing.
        """
        return Deferred.fromCoroutine(self._framed(request, title, content, head))

    async def _framed(
        self, request: IRequest, title: str, content: Content, head: Sequence[Content]
    ) -> bytes:
        try:
            viewer = await self.sessions.viewer(request)
        except JulythonError:
            viewer = ANONYMOUS
        return await self.page(request, title, content, viewer=viewer, head=head)

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
        for name, value in HTML_HEADERS:
            request.setHeader(name, value)
        if not cache or status != 200:
            request.setHeader(b"Cache-Control", b"no-store")
            # Set before a precondition failed, it names no answer now.
            request.responseHeaders.removeHeader(b"etag")
            return _sized(request, body)
        if viewer.signed_in:
            # Rendered afresh for them each time anyway; asking again (a 304
            # when nothing changed) shows a player their own change at once.
            request.setHeader(b"Cache-Control", b"private, no-cache")
        else:
            request.setHeader(b"Cache-Control", b"public, max-age=%d" % self._max_age)
        request.setHeader(b"Vary", b"Cookie")
        etag = entity_tag(body)
        if conditional(request, etag):
            return b""
        return _sized(request, body)

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


_TITLES = {
    404: "Not found",
    403: "Not allowed",
    412: "Changed meanwhile",
    503: "Try again soon",
}


def _sized(request: IRequest, body: bytes) -> bytes:
    """
    Declare the body's length: klein would stream it chunked, and the
    Site's coding skips small bodies only when it knows their size.
    """
    request.setHeader(b"Content-Length", b"%d" % len(body))
    return body


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
        found = routing_error(error, text)
        if isinstance(found, MethodNotAllowed):
            # Every page answers OPTIONS with the methods it allows.
            allowed = (*found.allowed, "OPTIONS")
            if request.method == b"OPTIONS":
                return options_answer(request, allowed)
            found = MethodNotAllowed(text, allowed=allowed)
        return await renderer.error(request, found)

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
    "StaticFile",
    "StaticFiles",
    "checked_form",
    "error_status",
    "install_error_pages",
    "read_form",
    "redirect",
]
