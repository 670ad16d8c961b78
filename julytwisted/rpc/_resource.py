# -*- test-case-name: tests.rpc.test_rpc_resource -*-
"""
L{JSONRPCResource}: JSON-RPC over HTTP as a twisted.web resource.

It owns what HTTP adds to the protocol: verbs, media types, body limits, GET
for safe methods, CORS, credentials from the C{Authorization} header, the
HTTP status of an answer, and cancelling the calls of a client that goes
away.  Mounted at C{/json}, it answers:

  - C{/json} and C{/json/}: POST a request or a batch; GET one in the query
    string (C{?{"jsonrpc": ...}} or C{?request=...});
  - C{/json/<method>?name=value}: GET a safe method with named params;
  - C{/json/browse/}: the service browser.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, cast
from urllib.parse import parse_qsl, unquote_to_bytes

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import Request as HTTPRequest
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from julytwisted.rpc import _browser as _rpc_browser
from julytwisted.rpc._browser import BrowserLayout
from julytwisted.rpc._describe import system_registry
from julytwisted.rpc._dispatch import Answer, Dispatcher, Incoming, Translator
from julytwisted.rpc._errors import InvalidRequest, JSONRPCError
from julytwisted.rpc._method import Method
from julytwisted.rpc._proofs import Authenticator, Credentials
from julytwisted.rpc._protocol import Reply, encode, failure
from julytwisted.rpc._registry import Registry

log = Logger()

#: The media types a POST may carry; the answer is in the request's.
MEDIA_TYPES = frozenset(
    [b"application/json", b"application/json-rpc", b"application/jsonrequest"]
)
_ALLOW = b"GET, POST, OPTIONS"
_CHARSETS = (b"utf-8", b"utf8")
_STATUSES = (401, 403, 429, 503)

#: Asked before a request's calls run, with the user its C{Authorization}
#: header proves (L{None} for none): L{None} to go on, or seconds to wait.
Admitter = Callable[[IRequest, object], Awaitable[float | None]]


async def _awaited(value: Awaitable[float | None]) -> float | None:
    return await value


_LITERALS = {"true": True, "false": False, "null": None}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")


def header_credentials(request: IRequest) -> Credentials | None:
    """
    The credentials of the request's C{Authorization} header: C{Basic} or
    C{Bearer}.  A malformed header gives credentials with no name or token,
    which prove nothing; another scheme gives L{None}.
    """
    value = request.getHeader(b"authorization")
    if not value:
        return None
    scheme, _, rest = value.strip().partition(b" ")
    scheme, rest = scheme.lower(), rest.strip()
    if scheme == b"bearer":
        try:
            token = rest.decode("ascii")
        except UnicodeDecodeError:
            token = ""
        return Credentials("bearer", token=token or None)
    if scheme != b"basic":
        return None
    try:
        decoded = base64.b64decode(rest, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return Credentials("basic")
    username, colon, password = decoded.partition(":")
    if not colon:
        return Credentials("basic")
    return Credentials("basic", username=username, password=password)


def _media_type(request: IRequest) -> bytes | None:
    """The request's JSON media type, or L{None} when it is not one of ours."""
    value = request.getHeader(b"content-type")
    if value is None:
        return None
    media, *options = value.split(b";")
    for option in options:
        key, _, charset = option.partition(b"=")
        charset = charset.strip().strip(b'"').lower()
        if key.strip().lower() == b"charset" and charset not in _CHARSETS:
            return None
    media = media.strip().lower()
    return media if media in MEDIA_TYPES else None


def _get_media_type(request: IRequest) -> bytes:
    if b"application/json-rpc" in (request.getHeader(b"accept") or b""):
        return b"application/json-rpc"
    return b"application/json"


def _query_value(text: str) -> object:
    """A GET param: JSON numbers, true, false and null as such, else the text."""
    if text in _LITERALS:
        return _LITERALS[text]
    if _NUMBER.match(text):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if not isinstance(value, float) or math.isfinite(value):
            return value
    return text


def query_params(query: str) -> list[Any] | dict[str, Any]:
    """
    The params of C{/json/<method>?query}: repeated names give arrays, and
    when the names are 0, 1, 2... the params are positional, in that order.

    @raise UnicodeDecodeError: when a name or value is not UTF-8.
    """
    grouped: dict[str, list[Any]] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True, errors="strict"):
        grouped.setdefault(key, []).append(_query_value(raw))
    params = {k: v[0] if len(v) == 1 else v for k, v in grouped.items()}
    if params and set(params) == {str(n) for n in range(len(params))}:
        return [params[str(n)] for n in range(len(params))]
    return params


def _request_in_query(query: bytes) -> bytes:
    """The JSON of C{?{...}} or of C{?request={...}}, still to be parsed."""
    for part in query.split(b"&"):
        if part.startswith(b"request="):
            return unquote_to_bytes(part[len(b"request=") :].replace(b"+", b" "))
    return unquote_to_bytes(query)


class JSONRPCResource(Resource):
    """
    A JSON-RPC 1.0, 1.1 and 2.0 endpoint for the methods of a L{Registry},
    with the introspection methods (C{system.*}, C{rpc.discover}) of its own.

    @ivar registry: the application's methods; one of the same name as an
        introspection method takes its place.
    """

    isLeaf = True

    def __init__(
        self,
        registry: Registry,
        *,
        authenticate: Authenticator | None = None,
        cors_origins: Iterable[str] | None = ("*",),
        timeout: float = 30.0,
        translate: Translator | None = None,
        clock: IReactorTime | None = None,
        max_body: int = 1024 * 1024,
        max_batch: int = 1000,
        title: str = "JSON-RPC service",
        version: str = "1.0.0",
        observe: Callable[[str | None, int], None] | None = None,
        admit: Admitter | None = None,
        present: Callable[[object], object] | None = None,
        layout: BrowserLayout | None = None,
    ) -> None:
        """
        @param authenticate: C{authenticate(request, credentials)} returns the
            user the credentials prove, or L{None}; or a Deferred or
            coroutine of that.  Called once for every request with an
            C{Authorization} header, before its calls run, and for the
            calls of authenticated methods that pass C{username, password}
            params instead: one set at a time, each distinct set once per
            request, and none after one failed, whose error then answers
            the rest of the batch.  What it raises answers the calls
            concerned, through C{translate}.
        @param cors_origins: the origins browsers may call from: C{"*"} for
            any (without credentials), or a list whose members are echoed
            with credentials allowed; empty or L{None} for no CORS headers.
        @param timeout: seconds a call may run before it is cancelled and
            answered with a server error.
        @param translate: maps an exception of the application to a
            L{JSONRPCError}, or to L{None} for an internal error.
        @param clock: the clock of the deadlines; the reactor by default.
        @param max_body: the largest request body, in bytes.
        @param max_batch: the most calls one batch may hold.
        @param title: the service's name in its descriptions.
        @param version: the service's version in its OpenRPC document.
        @param observe: told of every call, for metrics: the method's name
            (L{None} when no method has the name called) and C{0} or the
            error code.
        @param admit: C{admit(request, user)}, asked before each request's
            calls run (a rate limit), once its C{Authorization} header is
            proved: C{user} is what C{authenticate} returned for it
            (L{None} without one, or when it proves nothing), so that a
            limit can count per user, and per address otherwise.  Returns
            L{None} to go on, or the seconds to wait, which answers the
            request with error 429 and HTTP 429 with C{Retry-After}.  A
            request whose header C{authenticate} refused by raising is
            answered with that error, without asking.
        @param present: turns each method's result into JSON-ready data
            before it is encoded, so that methods may return the
            application's own records; results are sent as they are by
            default.
        @param layout: puts the service browser (C{browse/}) in the
            application's own page layout, which then sets the page's
            headers; the browser is a document of its own by default.
        """
        Resource.__init__(self)
        self.registry = registry
        if isinstance(cors_origins, str):
            cors_origins = [cors_origins]
        self.cors_origins = tuple(cors_origins or ())
        self.max_body = max_body
        self._admit = admit
        self._layout = layout
        self.title = title
        self._clock = clock
        self._system = system_registry(self.all_methods, title, version)
        self.dispatcher = Dispatcher(
            lookup=self.lookup,
            clock=self._get_clock,
            authenticate=authenticate,
            translate=translate,
            timeout=timeout,
            max_batch=max_batch,
            observe=observe,
            present=present,
        )

    def _get_clock(self) -> IReactorTime:
        if self._clock is None:
            from twisted.internet import reactor

            self._clock = cast(IReactorTime, reactor)
        return self._clock

    def lookup(self, name: str) -> Method | None:
        """@return: the method called C{name}, or L{None}."""
        return self.registry.methods.get(name) or self._system.methods.get(name)

    def all_methods(self) -> Mapping[str, Method]:
        """@return: every method this resource answers, by name."""
        return {**self._system.methods, **self.registry.methods}

    def render(self, request: IRequest) -> bytes | int:
        self._cors(request)
        verb = request.method
        if verb == b"OPTIONS":
            return self._preflight(request)
        path = request.postpath
        if path and path[0] == b"browse":
            return self._browse(request, path[1:])
        if verb in (b"GET", b"HEAD"):
            return self._get(request, path)
        if verb == b"POST" and path in ([], [b""]):
            return self._post(request)
        allow = _ALLOW if path in ([], [b""]) else b"GET, HEAD, OPTIONS"
        request.setHeader(b"Allow", allow)
        shown = verb.decode("ascii", "replace")
        return self._http_error(request, 405, f"{shown} is not allowed here")

    # HTTP around the protocol

    def _cors(self, request: IRequest) -> None:
        if not self.cors_origins:
            return
        if "*" in self.cors_origins:
            request.setHeader(b"Access-Control-Allow-Origin", b"*")
        else:
            request.setHeader(b"Vary", b"Origin")
            origin = request.getHeader(b"origin")
            if origin is None or origin.decode("latin-1") not in self.cors_origins:
                return
            request.setHeader(b"Access-Control-Allow-Origin", origin)
            request.setHeader(b"Access-Control-Allow-Credentials", b"true")
        if request.getHeader(b"origin") is not None:
            request.setHeader(
                b"Access-Control-Expose-Headers", b"WWW-Authenticate, Retry-After"
            )

    def _preflight(self, request: IRequest) -> bytes:
        request.setResponseCode(204)
        request.setHeader(b"Allow", _ALLOW)
        if self.cors_origins:
            request.setHeader(b"Access-Control-Allow-Methods", _ALLOW)
            request.setHeader(
                b"Access-Control-Allow-Headers", b"Content-Type, Authorization"
            )
            request.setHeader(b"Access-Control-Max-Age", b"86400")
        return b""

    def _http_error(self, request: IRequest, status: int, message: str) -> bytes:
        request.setResponseCode(status)
        request.setHeader(b"Content-Type", b"application/json; charset=utf-8")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        return encode(failure("2.0", None, InvalidRequest(message))).encode("ascii")

    def _post(self, request: IRequest) -> bytes | int:
        media = _media_type(request)
        if media is None:
            return self._http_error(
                request,
                415,
                "the body must be application/json or application/json-rpc, in UTF-8",
            )
        declared = request.getHeader(b"content-length") or b""
        if declared.isdigit() and int(declared) > self.max_body:
            return self._too_large(request)
        body = request.content.read(self.max_body + 1)
        if len(body) > self.max_body:
            return self._too_large(request)
        incoming = Incoming(request, header_credentials(request))
        answer = self._admitted(
            incoming, lambda user: self.dispatcher.handle_body(body, incoming, user)
        )
        return self._answer(request, answer, media)

    def _too_large(self, request: IRequest) -> bytes:
        message = f"the body is over the limit of {self.max_body} bytes"
        return self._http_error(request, 413, message)

    def _get(self, request: IRequest, path: list[bytes]) -> bytes | int:
        query = request.uri.partition(b"?")[2]
        incoming = Incoming(request, header_credentials(request), via_get=True)
        media = _get_media_type(request)
        if path in ([], [b""]):
            if not query:
                return self._bare_get(request, path)
            body = _request_in_query(query)
            answer = self._admitted(
                incoming,
                lambda user: self.dispatcher.handle_body(body, incoming, user),
            )
            return self._answer(request, answer, media)
        if len(path) > 1:
            return self._http_error(request, 404, "no such resource")
        try:
            # twisted.web has unquoted the path's segments already.
            name = path[0].decode("utf-8")
            params = query_params(query.decode("latin-1"))
        except UnicodeDecodeError:
            return self._http_error(request, 400, "the method or params are not UTF-8")
        call = {"jsonrpc": "2.0", "method": name, "params": params, "id": None}
        answer = self._admitted(
            incoming, lambda user: self.dispatcher.handle(call, incoming, user)
        )
        return self._answer(request, answer, media)

    def _admitted(self, incoming: Incoming, run: Callable[[object], Answer]) -> Answer:
        """
        C{run(user)}, once the request's header credentials are proved and
        C{admit} lets it through; C{user} is the L{Failure} that refuses
        every call when proving them raised.
        """
        if incoming.credentials is None and self._admit is None:
            return run(None)
        identified = self.dispatcher.identify(incoming)
        if self._admit is None:
            return identified.addBoth(run)
        admit = self._admit

        def identified_as(user: object) -> Answer:
            if isinstance(user, Failure):
                return run(user)
            asked = _awaited(admit(incoming.request, user))
            d: Deferred[Any] = Deferred.fromCoroutine(asked)
            return d.addCallback(decided, user)

        def decided(wait: float | None, user: object) -> Answer:
            if wait is None:
                return run(user)
            error = JSONRPCError(429, "rate limited", {"retry_after": wait})
            return Reply(encode(failure("2.0", None, error)), error)

        answer: Deferred[Reply] = identified.addBoth(identified_as)
        return answer

    def _bare_get(self, request: IRequest, path: list[bytes]) -> bytes:
        if b"text/html" in (request.getHeader(b"accept") or b""):
            # Relative, so that it holds wherever the resource is mounted.
            here = request.prepath[-1] if request.prepath else b""
            target = b"browse/" if path else here + b"/browse/"
            request.setResponseCode(303)
            request.setHeader(b"Location", target)
            return b""
        return self._http_error(
            request,
            400,
            "GET needs a request in the query string or a method in the path",
        )

    def _answer(self, request: IRequest, answer: Answer, media: bytes) -> int:
        if isinstance(answer, Reply):
            self._write(request, answer, media)
            return NOT_DONE_YET
        gone: list[bool] = []
        if not answer.called or answer.paused:
            # A client that goes away cancels the calls it was waiting for.
            def disconnected(_: object) -> None:
                gone.append(True)
                answer.cancel()

            cast(HTTPRequest, request).notifyFinish().addErrback(disconnected)
        answer.addCallback(
            lambda reply: None if gone else self._write(request, reply, media)
        )
        answer.addErrback(self._broken, request)
        return NOT_DONE_YET

    def _broken(self, reason: Failure, request: IRequest) -> None:
        log.failure("answering a JSON-RPC request failed", reason)
        if not getattr(request, "finished", True):
            request.setResponseCode(500)
            request.finish()

    def _write(self, request: IRequest, reply: Reply, media: bytes) -> None:
        if reply.text is None:
            request.setResponseCode(204)
            request.finish()
            return
        self._status(request, reply.error)
        request.setHeader(b"Content-Type", media + b"; charset=utf-8")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Cache-Control", b"no-store")
        body = reply.text.encode("ascii")
        request.setHeader(b"Content-Length", b"%d" % len(body))
        request.write(body)
        request.finish()

    def _status(self, request: IRequest, error: JSONRPCError | None) -> None:
        """
        The one place an error object sets the HTTP status: a single call's
        401, 403, 429 or 503 is also the answer's, with a challenge for 401
        and C{Retry-After} for 429 and 503 when the error's data says when
        (C{retry_after}).
        """
        if error is None or error.code not in _STATUSES:
            return
        request.setResponseCode(error.code)
        if error.code == 401:
            scheme = b"Basic"
            credentials = header_credentials(request)
            if credentials is not None and credentials.scheme == "bearer":
                scheme = b"Bearer"
            request.setHeader(b"WWW-Authenticate", scheme + b' realm="jsonrpc"')
        data = error.data
        if error.code in (429, 503) and isinstance(data, dict):
            retry = data.get("retry_after")
            if isinstance(retry, int | float) and not isinstance(retry, bool):
                request.setHeader(b"Retry-After", b"%d" % max(0, math.ceil(retry)))

    # The browser

    def _browse(self, request: IRequest, rest: list[bytes]) -> bytes | int:
        if request.method not in (b"GET", b"HEAD"):
            request.setHeader(b"Allow", b"GET, HEAD, OPTIONS")
            return self._http_error(request, 405, "the browser is read-only")
        if not rest:
            request.setResponseCode(301)
            request.setHeader(b"Location", b"browse/")
            return b""
        if rest == [b""]:
            return self._browser_page(request)
        found = _rpc_browser.static_file(rest[0].decode("latin-1"))
        if found is None or len(rest) > 1:
            return self._http_error(request, 404, "no such resource")
        self._browser_headers(request, found[0])
        return found[1]

    def _browser_headers(self, request: IRequest, kind: bytes) -> None:
        request.setHeader(b"Content-Type", kind)
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Content-Security-Policy", _rpc_browser.POLICY)
        request.setHeader(b"Referrer-Policy", b"no-referrer")

    def _browser_page(self, request: IRequest) -> int:
        """The browser: in the application's layout, or a page of its own."""
        if self._layout is None:
            self._browser_headers(request, b"text/html; charset=utf-8")
            page = _rpc_browser.own_page(self.all_methods(), self.title)
        else:
            body = _rpc_browser.browser_body(self.all_methods())
            head = _rpc_browser.browser_head()
            page = self._layout(request, "JSON-RPC service browser", body, head)
        gone: list[bool] = []
        cast(HTTPRequest, request).notifyFinish().addErrback(
            lambda _: gone.append(True)
        )

        def send(body: bytes) -> None:
            if not gone:
                request.write(body)
                request.finish()

        page.addCallback(send)
        page.addErrback(self._broken, request)
        return NOT_DONE_YET


__all__ = ["MEDIA_TYPES", "JSONRPCResource", "header_credentials", "query_params"]
