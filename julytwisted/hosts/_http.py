# -*- test-case-name: tests.hosts.test_http -*-
"""
One HTTP call to a code host, bounded: a deadline over the whole exchange
(connecting, the headers and the body), a body read up to a limit and never
further, and every way it can fail turned into a L{HostError}.

The HTTP client is handed in (treq, a C{treq.client.HTTPClient}, or a test's
own), with the clock that times the calls: nothing here imports a reactor.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectError, ConnectionClosed, DNSLookupError
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Protocol as WireProtocol
from twisted.internet.protocol import connectionDone
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone, ResponseFailed, ResponseNeverReceived
from twisted.web.error import SchemeNotSupported
from twisted.web.http import PotentialDataLoss
from twisted.web.iweb import UNKNOWN_LENGTH, IResponse

from julytwisted.errors import (
    HostError,
    HostForbidden,
    HostNotFound,
    HostRateLimited,
    HostUnreachable,
    MalformedAnswer,
    TokenRejected,
)
from julytwisted.hosts._json import Node
from julytwisted.hosts._providers import ConfiguredHost

#: Bytes one answer may carry unless a call says otherwise: a page of 100
#: repositories' hooks or e-mails is far below it.
DEFAULT_LIMIT = 1024 * 1024

_NEXT_LINK = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.I)
_MESSAGE_LENGTH = 200

#: Failures of the connection itself: the host is down, unknown or cut us off.
_UNREACHABLE = (
    ConnectError,
    ConnectionClosed,
    DNSLookupError,
    ResponseFailed,
    ResponseNeverReceived,
    SchemeNotSupported,
    OSError,
)


class TreqLike(Protocol):
    """
    What julytwisted needs of an HTTP client: C{treq} itself, a
    C{treq.client.HTTPClient}, or anything with its C{request}.
    """

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Any = ...,
        params: Any = ...,
        data: Any = ...,
        json: Any = ...,
        auth: Any = ...,
        allow_redirects: bool = ...,
        unbuffered: bool = ...,
    ) -> Awaitable[IResponse]:
        """Send one request, as C{treq.request} does."""


@attrs.frozen
class Http:
    """
    How julytwisted talks to code hosts.

    @ivar client: sends the requests.
    @ivar clock: times them.
    @ivar timeout: seconds one call may take, from connecting to the last
        byte of the answer.
    @ivar limit: bytes one answer may carry; a call may give its own.
    @ivar user_agent: the C{User-Agent} sent (GitHub refuses calls without).
    """

    client: TreqLike
    clock: IReactorTime
    timeout: float = 20.0
    limit: int = DEFAULT_LIMIT
    user_agent: str = "julytwisted"


@attrs.frozen
class Answer:
    """
    A code host's whole answer to one call.

    @ivar what: the call, for messages: C{"GitHub's GET /user"}.
    @ivar status: the HTTP status.
    @ivar headers: each header by its lower-cased name, values joined.
    @ivar body: the body, within the call's limit.
    """

    what: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Node:
        """
        @return: the body decoded as JSON.
        @raise MalformedAnswer: when it is not UTF-8 JSON.
        """
        try:
            return Node(json.loads(self.body.decode("utf-8")), self.what)
        except (UnicodeDecodeError, ValueError):
            raise MalformedAnswer(f"{self.what} is not JSON") from None

    def message(self) -> str:
        """@return: the host's own words about an error, short, if any."""
        try:
            document = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return ""
        if not isinstance(document, dict):
            return ""
        error = document.get("error")
        nested = error.get("message") if isinstance(error, dict) else error
        described = document.get("error_description")
        # Bitbucket Data Center: {"errors": [{"message": ...}, ...]}.
        listed = document.get("errors")
        first = listed[0] if isinstance(listed, list) and listed else None
        each = first.get("message") if isinstance(first, dict) else None
        for said in (document.get("message"), described, nested, each):
            if said:
                text = said if isinstance(said, str) else json.dumps(said)
                return text[:_MESSAGE_LENGTH]
        return ""


def segment(text: str) -> str:
    """@return: C{text} quoted to be one path segment, C{/} included."""
    return quote(text, safe="")


class _Body(WireProtocol):
    """Collects a response's body up to a limit, and stops reading there."""

    def __init__(self, limit: int, declared: int | None, what: str) -> None:
        self.done: Deferred[bytes] = Deferred(self._cancel)
        self._limit = limit
        self._declared = declared
        self._what = what
        self._parts: list[bytes] = []
        self._size = 0

    def connectionMade(self) -> None:
        if self._declared is not None and self._declared > self._limit:
            self._refuse()

    def dataReceived(self, data: bytes) -> None:
        if self.done.called:
            return
        self._size += len(data)
        if self._size > self._limit:
            self._refuse()
        else:
            self._parts.append(data)

    def _refuse(self) -> None:
        self._stop()
        self.done.errback(MalformedAnswer(f"{self._what} is over {self._limit} bytes"))

    def _stop(self) -> None:
        if self.transport is not None:
            self.transport.stopProducing()  # type: ignore[attr-defined]

    def _cancel(self, _: Deferred[bytes]) -> None:
        self._stop()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self.done.called:
            return
        if reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(b"".join(self._parts))
        else:
            self.done.errback(
                HostUnreachable(f"{self._what} broke off: {reason.getErrorMessage()}")
            )


async def _read(response: IResponse, limit: int, what: str) -> bytes:
    """@return: the body of C{response}, unless it is over C{limit} bytes."""
    length = response.length
    body = _Body(limit, None if length is UNKNOWN_LENGTH else length, what)
    response.deliverBody(body)
    return await body.done


def _headers(response: IResponse) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): ", ".join(v.decode("latin-1") for v in values)
        for name, values in response.headers.getAllRawHeaders()
    }


@attrs.frozen
class Request:
    """
    One call to make.

    @ivar method: the HTTP method.
    @ivar url: the whole URL.
    @ivar what: the call, for messages.
    @ivar token: the OAuth access token to send as a bearer token, if any.
    @ivar options: more keyword arguments for the client's C{request}
        (C{params}, C{data}, C{json}, C{auth}, C{headers}).
    @ivar limit: bytes the answer may carry; L{None} for the client's limit.
    """

    method: str
    url: str
    what: str
    token: str | None = attrs.field(default=None, repr=False)
    options: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    limit: int | None = None


def api_request(
    host: ConfiguredHost,
    method: str,
    path: str,
    token: str,
    limit: int | None = None,
    **options: Any,
) -> Request:
    """
    @param path: under the host's API root, from its leading C{/}; its
        user-given segments quoted with L{segment}.
    @param token: the access token.
    @param options: as L{Request.options}.
    @return: the call, named C{"GitHub's GET /user"} in messages.
    """
    what = f"{host.spec.title}'s {method} {path}"
    return Request(method, host.api(path), what, token, options, limit)


async def _exchange(http: Http, request: Request) -> Answer:
    options = dict(request.options)
    headers = {
        "User-Agent": http.user_agent,
        "Accept": "application/json",
        **options.pop("headers", {}),
    }
    if request.token is not None:
        headers["Authorization"] = f"Bearer {request.token}"
    try:
        response = await http.client.request(
            request.method,
            request.url,
            headers=headers,
            unbuffered=True,
            # Redirects are followed for reads only (a renamed repository);
            # Twisted drops the Authorization header on another origin.
            allow_redirects=request.method == "GET",
            **options,
        )
        body = await _read(response, request.limit or http.limit, request.what)
    except HostError:
        # Ours already (a body over its limit, cut off): itself, not wrapped.
        raise
    except _UNREACHABLE as error:
        problem = f"{request.what} could not be reached: {error}"
        raise HostUnreachable(problem) from error
    return Answer(request.what, response.code, _headers(response), body)


async def send(http: Http, request: Request) -> Answer:
    """
    Make one call, whatever status it answers with.

    @return: the answer.
    @raise HostUnreachable: when the host cannot be reached, breaks off, or
        takes longer than C{http.timeout} seconds over the whole call.
    @raise MalformedAnswer: when the body is over the limit.
    """
    call = Deferred.fromCoroutine(_exchange(http, request))
    expired: list[bool] = []

    def expire() -> None:
        expired.append(True)
        call.cancel()

    deadline = http.clock.callLater(http.timeout, expire)
    try:
        return await call
    except Exception as error:
        if expired:
            raise HostUnreachable(
                f"{request.what} did not answer within {http.timeout:g} s"
            ) from error
        raise
    finally:
        if deadline.active():
            deadline.cancel()


def _retry_after(http: Http, answer: Answer) -> float | None:
    """The wait a refusal asks for: C{Retry-After}, or GitHub's reset time."""
    for header, base in (("retry-after", 0.0), ("x-ratelimit-reset", None)):
        value = answer.headers.get(header, "").strip()
        if value.isdigit():
            start = http.clock.seconds() if base is None else base
            return max(0.0, int(value) - start)
    return None


def check(http: Http, answer: Answer) -> Answer:
    """
    @return: C{answer}, when its status is 2xx.
    @raise HostError: the subclass that names what the status means.
    """
    status = answer.status
    if 200 <= status < 300:
        return answer
    said = answer.message()
    text = f"{answer.what} answered {status}" + (f": {said}" if said else "")
    # GitHub's limits answer 403 (or 429) with no calls left, or with a wait.
    limited = answer.headers.get("x-ratelimit-remaining") == "0" or (
        "retry-after" in answer.headers
    )
    if status == 429 or (status == 403 and limited):
        raise HostRateLimited(text, _retry_after(http, answer))
    errors: dict[int, type[HostError]] = {
        401: TokenRejected,
        403: HostForbidden,
        404: HostNotFound,
        410: HostNotFound,
    }
    if status in errors:
        raise errors[status](text)
    if status >= 500:
        raise HostUnreachable(text)
    raise HostError(text)


async def get_json(http: Http, request: Request) -> tuple[Answer, Node]:
    """
    Make a call that must succeed and answer JSON.

    @return: the answer and its decoded body.
    @raise HostError: as L{send} and L{check} raise.
    """
    answer = check(http, await send(http, request))
    return answer, answer.json()


async def delete(http: Http, request: Request) -> bool:
    """
    Send a C{DELETE}; a thing already gone is no failure.

    @return: whether it was there to delete.
    """
    try:
        check(http, await send(http, request))
    except HostNotFound:
        return False
    return True


def link_next(answer: Answer, _: Node) -> str | None:
    """@return: the C{rel="next"} URL of a C{Link} header (GitHub, GitLab)."""
    found = _NEXT_LINK.search(answer.headers.get("link", ""))
    return found.group(1) if found else None


def body_next(_: Answer, page: Node) -> str | None:
    """@return: the C{next} URL of a paginated body (Bitbucket)."""
    following = page.get("next")
    return None if following is None else following.text()


def _within_api(host: ConfiguredHost, url: str, what: str) -> str:
    """
    @return: C{url}, when it is under C{host}'s API: a next page elsewhere
        would carry the token to another server.
    @raise MalformedAnswer: when it is not.
    """
    api, there = urlsplit(host.api_url), urlsplit(url)
    inside = there.path == api.path or there.path.startswith(api.path + "/")
    if (there.scheme, there.netloc.lower()) != (api.scheme, api.netloc.lower()) or (
        not inside
    ):
        raise MalformedAnswer(f"{what} names a next page outside its API: {url!r}")
    return url


async def pages(
    http: Http,
    host: ConfiguredHost,
    first: Request,
    following: Callable[[Answer, Node], str | None],
    most: int,
) -> AsyncGenerator[Node, None]:
    """
    Read a paginated list, page after page.

    @param first: the call for the first page.
    @param following: finds the next page's URL in an answer.
    @param most: pages read at most.
    @return: each page's decoded body, in order.
    @raise MalformedAnswer: when there are more than C{most} pages, or a next
        page is outside the host's API.
    """
    request: Request | None = first
    for _ in range(most):
        assert request is not None
        answer, page = await get_json(http, request)
        yield page
        url = following(answer, page)
        if url is None:
            return
        # The next page's URL carries the query; the headers stay.
        options = {k: v for k, v in first.options.items() if k != "params"}
        request = attrs.evolve(
            first, url=_within_api(host, url, first.what), options=options
        )
    raise MalformedAnswer(f"{first.what} goes on for more than {most} pages")


__all__ = [
    "DEFAULT_LIMIT",
    "Answer",
    "Http",
    "Request",
    "TreqLike",
    "api_request",
    "body_next",
    "check",
    "delete",
    "get_json",
    "link_next",
    "pages",
    "segment",
    "send",
]
