"""
Real websocket clients of the live feed for the tests: autobahn's, in the
reactor, and the C{websockets} library's blocking client, run in a thread.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from autobahn.twisted.websocket import (
    WebSocketClientFactory,
    WebSocketClientProtocol,
)
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.task import deferLater


def flatten(payload: bytes | str) -> list[dict[str, Any]]:
    """@return: the messages of one frame, an object or an array of them."""
    decoded = json.loads(payload)
    return decoded if isinstance(decoded, list) else [decoded]


def ws_url(server: str, query: str = "") -> str:
    """@return: the live feed's websocket URL on an http:// base URL."""
    return server.replace("http://", "ws://") + "/live" + (f"?{query}" if query else "")


class _Collector(WebSocketClientProtocol):
    def onOpen(self) -> None:
        self.factory.watcher.opened.callback(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        watcher: Watcher = self.factory.watcher
        watcher.frames += 1
        watcher.messages.extend(flatten(payload))

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        watcher: Watcher = self.factory.watcher
        watcher.close_code = code
        if not watcher.opened.called:
            watcher.opened.errback(ConnectionError(f"refused: {code} {reason}"))
        watcher.closed.callback(code)


class Watcher:
    """
    An autobahn client on C{/live} that keeps every message it receives.

    @ivar messages: every message, arrays flattened.
    @ivar frames: how many frames they came in.
    """

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers
        self.messages: list[dict[str, Any]] = []
        self.frames = 0
        self.close_code: int | None = None
        self.opened: Deferred[_Collector] = Deferred()
        self.closed: Deferred[int | None] = Deferred()
        self.protocol: _Collector | None = None

    async def connect(self) -> Watcher:
        factory = WebSocketClientFactory(self.url, headers=self.headers)
        factory.protocol = _Collector
        factory.watcher = self  # type: ignore[attr-defined]
        parts = urlsplit(self.url)
        endpoint = TCP4ClientEndpoint(reactor, parts.hostname, parts.port)
        await endpoint.connect(factory)
        self.protocol = await self.opened
        return self

    def of(self, kind: str) -> list[dict[str, Any]]:
        """@return: the messages of one type, in order."""
        return [m for m in self.messages if m.get("type") == kind]

    async def wait_for(self, kind: str, count: int, timeout: float = 10) -> None:
        """Wait until C{count} messages of C{kind} have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.of(kind)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(self.of(kind))} of {count} {kind} messages: {self.messages}"
                )
            await deferLater(reactor, 0.01, lambda: None)

    def send(self, message: object) -> None:
        assert self.protocol is not None
        text = message if isinstance(message, bytes) else json.dumps(message).encode()
        self.protocol.sendMessage(text)

    def close(self) -> None:
        if self.protocol is not None and self.close_code is None:
            self.protocol.sendClose()


async def watch(server: str, query: str = "") -> Watcher:
    """@return: a connected watcher of C{/live?query}."""
    return await Watcher(ws_url(server, query)).connect()


async def settle(seconds: float = 0.2) -> None:
    """Let the reactor run a little, for messages that must not come."""
    await deferLater(reactor, seconds, lambda: None)
