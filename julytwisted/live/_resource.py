# -*- test-case-name: tests.live.test_live -*-
"""
The live feed: every scored commit, and every change in a board's top ten,
pushed to websocket watchers on every node, with replay for those who
dropped off.

C{ingest.lua} appends each entry to a capped stream per channel and publishes
it once on Redis; each process's L{LiveBridge} holds one subscription and fans
entries out to its own watchers (L{LiveProtocol}).  L{LiveResource} sits at
C{/live} on the Site: the websocket upgrade at C{/live}, the page at C{/live/}
in the site's layout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

from autobahn.twisted.resource import WebSocketResource
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.template import tags

from julytwisted._compat import is_disconnected
from julytwisted.config import LiveSettings
from julytwisted.errors import Forbidden, JulythonError, RateLimited
from julytwisted.http_errors import internal_error, json_error, options_answer
from julytwisted.live._bridge import LiveBridge, Subscribe
from julytwisted.live._protocol import (
    ADMIT_AGAIN,
    BOARD_PREFIX,
    REPLAY_TAIL,
    TRY_AGAIN_LATER,
    LiveFactory,
    LiveProtocol,
    check_channels,
    render_entry,
)
from julytwisted.representation import Layout, conditional, entity_tag
from julytwisted.site import JulythonSite
from julytwisted.store import Store
from julytwisted.store.ratelimit import RateLimiter

log = Logger()

#: The page's script, served beside it at C{/live/live.js}.
_SCRIPT = files("julytwisted.live").joinpath("page", "live.js").read_bytes()


class _Script(Resource):
    """The page's script, read once, revalidated by its entity tag."""

    isLeaf = True
    _etag = entity_tag(_SCRIPT)

    def render_GET(self, request: IRequest) -> bytes:
        request.setHeader(b"Content-Type", b"text/javascript; charset=utf-8")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        request.setHeader(b"Cache-Control", b"no-cache")
        try:
            if conditional(request, self._etag):
                return b""
        except JulythonError as error:
            return json_error(request, error)
        return _SCRIPT


class _Page(Resource):
    """
    C{/live/}: the feed as it arrives, in the site's layout; the script
    fills the list.
    """

    isLeaf = True

    def __init__(self, layout: Layout) -> None:
        Resource.__init__(self)
        self._layout = layout

    def render_GET(self, request: IRequest) -> int:
        state = tags.span("connecting", id="state", **{"data-state": "connecting"})
        content = [
            tags.p("Connection: ", state, class_="live-state"),
            tags.ol(id="feed", class_="commits"),
        ]
        head = [tags.script(src="/live/live.js", defer="defer")]
        d = self._layout(request, "Live commits", content, head)
        d.addCallback(lambda body: _send(request, body))
        d.addErrback(_failed, request)
        return NOT_DONE_YET

    def render_OPTIONS(self, request: IRequest) -> bytes:
        return options_answer(request, ("GET", "HEAD"))


def _send(request: IRequest, body: bytes) -> None:
    if not is_disconnected(request):
        request.write(body)
        request.finish()


def _failed(failure: Failure, request: IRequest) -> None:
    error = failure.value
    if not isinstance(error, JulythonError):
        log.failure("rendering the live page", failure)
        error = internal_error()
    _send(request, json_error(request, error))


def _is_upgrade(request: IRequest) -> bool:
    upgrade = request.getHeader(b"upgrade") or b""
    return upgrade.lower() == b"websocket"


MayWatch = Callable[[IRequest, str], Awaitable[bool]]
"""Whether an upgrade request may watch a private board (by its id)."""


def _boards_asked(request: IRequest) -> list[str]:
    """@return: the ids of the private boards whose channels C{?channels=} names."""
    names = b",".join(request.args.get(b"channels", [])).split(b",")
    prefix = BOARD_PREFIX.encode()
    return [
        n[len(prefix) :].decode("ascii", "replace")
        for n in names
        if n.startswith(prefix)
    ]


class _Admitted:
    """
    The factory as one upgrade sees it: the watcher it builds counts against
    the client address the resource judged, not the proxy's.
    """

    def __init__(
        self, factory: LiveFactory, client: str, admitted_at: int | None = None
    ) -> None:
        self._factory = factory
        self._client = client
        self._admitted_at = admitted_at

    def buildProtocol(self, addr: Any) -> LiveProtocol:
        protocol = self._factory.buildProtocol(addr)
        assert isinstance(protocol, LiveProtocol)
        protocol.client = self._client
        protocol.admitted_at = self._admitted_at
        return protocol


class LiveResource(Resource):
    """
    C{/live}: a websocket upgrade goes to the L{LiveFactory}, refused with
    429 when the client's address holds too many already; a plain GET of
    C{/live} is sent to C{/live/}, which serves the page.
    """

    def __init__(
        self, factory: LiveFactory, limiter: RateLimiter | None = None
    ) -> None:
        """
        @param limiter: limits websocket connects per address, on every node
            (the C{live} rate limit), and finds a client's address behind a
            proxy; without it, connects are not rate-limited.
        """
        Resource.__init__(self)
        self._factory = factory
        self.limiter = limiter
        self._may_watch: MayWatch | None = None
        self.putChild(b"live.js", _Script())

    def use_layout(self, layout: Layout) -> None:
        """
        Serve the page at C{/live/}, in C{layout}: the Site's, which the
        feed is handed once the site is built around it.
        """
        self.putChild(b"", _Page(layout))

    def render(self, request: IRequest) -> bytes | int:
        if not _is_upgrade(request):
            request.redirect(b"/live/")
            return b""
        client = self._client(request)
        if self._factory.over_limit(client):
            limit = self._factory.settings.ip_limit
            error = f"too many live connections from this address (limit {limit})"
            return json_error(request, RateLimited(10, "live", error))
        boards = _boards_asked(request)
        if self.limiter is None and not boards:
            return self._upgrade(request, client)
        # Taken before the check: a board change published while it runs
        # makes the watcher be admitted again once it opens.
        admitted_at = self._factory.hub.revocations if boards else None
        d = Deferred.fromCoroutine(self._admit(request, boards))
        d.addCallback(self._admitted, request, client, admitted_at)
        d.addErrback(self._broken, request)
        return NOT_DONE_YET

    def use_board_check(self, may_watch: MayWatch) -> None:
        """
        Let members and token holders watch private boards' channels:
        without this, every C{board:} channel is refused.
        """
        self._may_watch = may_watch

    async def _admit(
        self, request: IRequest, boards: list[str]
    ) -> JulythonError | None:
        """
        @return: why an upgrade is refused (too many connects, a private
            board it may not watch), or L{None}.
        """
        if self.limiter is not None:
            wait = await self.limiter.wait("live", request)
            if wait is not None:
                error = "too many live connects from this address"
                return RateLimited(wait, "live", error)
        for board_id in boards:
            if self._may_watch is None or not await self._may_watch(request, board_id):
                return Forbidden(
                    f"board:{board_id} is private: sign in as a member, or send"
                    " its read token as ?token="
                )
        return None

    def _client(self, request: IRequest) -> str:
        """
        @return: the address a watcher counts against: behind a trusted
            proxy the forwarded one, as the rate limits see it.
        """
        if self.limiter is not None:
            return self.limiter.address(request)
        return str(getattr(request.getClientAddress(), "host", ""))

    def _admitted(
        self,
        refused: JulythonError | None,
        request: IRequest,
        client: str,
        admitted_at: int | None,
    ) -> None:
        if refused is not None:
            request.write(json_error(request, refused))
            request.finish()
            return
        result = self._upgrade(request, client, admitted_at)
        if result is not NOT_DONE_YET:
            # The client left while we asked Redis: autobahn answered HTTP.
            request.write(result)
            request.finish()

    def _broken(self, failure: Failure, request: IRequest) -> None:
        log.failure("admitting a live watcher", failure)
        request.write(json_error(request, internal_error()))
        request.finish()

    def _upgrade(
        self, request: IRequest, client: str, admitted_at: int | None = None
    ) -> bytes | int:
        websocket = WebSocketResource(_Admitted(self._factory, client, admitted_at))
        result: bytes | int = websocket.render(request)
        site = getattr(getattr(request, "channel", None), "site", None)
        if isinstance(site, JulythonSite):
            site.release(request)
        return result


def build_live(
    store: Store,
    subscribe: Subscribe,
    settings: LiveSettings,
    reactor: Any,
    limiter: RateLimiter | None = None,
    on_flushed: Callable[[int], None] | None = None,
) -> tuple[LiveBridge, LiveResource]:
    """
    The live feed of one process.

    @param store: where replays are read.
    @param subscribe: makes the pub/sub connection (L{RedisService.subscriber}).
    @param settings: the watchers' limits.
    @param reactor: the clock and the reactor autobahn runs on.
    @param limiter: the rate limit of connects, if any.
    @param on_flushed: told how many watchers each flush wrote to.
    @return: the bridge, a service to start once Redis is, and the resource to
        mount at C{live}.
    """
    clock: IReactorTime = reactor
    bridge = LiveBridge(store, subscribe, clock, on_flushed=on_flushed)
    factory = LiveFactory(bridge, settings, reactor)
    return bridge, LiveResource(factory, limiter)


__all__ = [
    "ADMIT_AGAIN",
    "REPLAY_TAIL",
    "TRY_AGAIN_LATER",
    "LiveBridge",
    "LiveFactory",
    "LiveProtocol",
    "LiveResource",
    "build_live",
    "check_channels",
    "render_entry",
]
