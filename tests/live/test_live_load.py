"""
The live feed when things go wrong: Redis dying under a connected watcher,
a SUBSCRIBE or a catch-up failing with an error nobody expected, a watcher
too slow to read, and one address opening too many websockets.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest
import pytest_twisted
import treq
from twisted.internet import reactor, threads
from twisted.internet.defer import fail
from twisted.logger import formatEvent

from julytwisted.config import Config, Limit, LiveSettings, RedisAddress
from julytwisted.jobs.queue import Queue
from julytwisted.live import TRY_AGAIN_LATER, build_live
from julytwisted.redis_service import RedisService
from julytwisted.service import build_limiter, build_site
from julytwisted.store import Store
from tests.builders import github_payload
from tests.conftest import start_redis_server
from tests.faults import Injected, injected, raise_once
from tests.live_clients import Watcher, settle, watch, ws_url
from tests.web.test_web import post_github

#: Small limits, so that a test reaches them quickly.
SETTINGS = LiveSettings(send_limit=256 * 1024, ip_limit=6)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """
    This module's configuration: the small limits of L{SETTINGS}, in an open
    event, since its pushes name repositories nobody added.
    """
    return Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        live=SETTINGS,
        open_repositories=True,
    )


async def push_until_stored(server: str, *seeds: str) -> list[str]:
    """Post a push, again while Redis answers 503, until it is stored."""
    for _ in range(200):
        code, answer, _ = await post_github(
            server, github_payload(*seeds, email="x@y.org")
        )
        if code == 201:
            hashes: list[str] = answer["commits"]
            return hashes
        assert code == 503, answer
        await settle(0.05)
    raise AssertionError("Redis never came back")


@pytest_twisted.async_yield_fixture
async def own_redis(tmp_path: Path, clock: Any, config: Config) -> AsyncIterator[Any]:
    """
    A live Site on a redis-server of its own, which the test may kill and
    start again; yields an object with C{url}, C{bridge}, C{restart()} and
    C{client}.
    """
    directory = tmp_path / "own-redis"
    directory.mkdir()
    process, sock = start_redis_server(directory)

    class Own:
        url = ""
        bridge: Any = None

        def restart(self) -> None:
            nonlocal process
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            sock.unlink(missing_ok=True)
            process, _ = start_redis_server(directory)

    own = Own()
    redis = RedisService(reactor, RedisAddress(None, None, str(sock)), tmp_path)
    redis.client.timeout = 1.0
    redis.startService()
    store = Store(redis.client, clock)
    own.client = redis.client  # type: ignore[attr-defined]
    own.bridge, live = build_live(store, redis.subscriber, config.live, reactor)
    own.bridge.startService()
    site = build_site(store, config, Queue(redis.client, reactor), live=live)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    own.url = f"http://127.0.0.1:{port.getHost().port}"
    while not own.bridge.live:
        await settle(0.02)
    yield own
    await port.stopListening()
    await own.bridge.stopService()
    await redis.stopService()
    process.kill()
    process.wait()


@pytest_twisted.ensureDeferred
async def test_watcher_gets_every_commit_across_a_redis_outage(own_redis: Any) -> None:
    """
    Redis is killed and started again under a connected watcher, and later
    the subscription alone is cut: the watcher still receives every commit
    acknowledged meanwhile, once each.
    """
    w = await watch(own_redis.url)
    await w.wait_for("subscribed", 1)
    acknowledged = await push_until_stored(own_redis.url, "before")
    # This Redis keeps nothing on disk: "before" survives the kill only in
    # the feed the watcher already has, so let it arrive first (under load
    # the kill could beat the pub/sub message, and the commit was gone).
    await w.wait_for("commit", 1)
    own_redis.restart()
    acknowledged += await push_until_stored(own_redis.url, "r1", "r2")
    acknowledged += await push_until_stored(own_redis.url, "r3")
    # The subscription alone drops; pushes go on while it reconnects.
    await own_redis.client.execute("CLIENT", "KILL", "TYPE", "pubsub")
    acknowledged += await push_until_stored(own_redis.url, "k1")
    acknowledged += await push_until_stored(own_redis.url, "k2", "k3")
    await w.wait_for("commit", len(acknowledged), timeout=20)
    await settle()
    assert [m["commit"]["hash"] for m in w.of("commit")] == acknowledged
    w.close()


def subscribing_fails_once(redis: RedisService) -> Callable[[type[Any]], Any]:
    """
    @return: a C{subscribe} for L{build_live} whose connection's first
        SUBSCRIBE fails with L{Injected}.
    """
    failing = [Injected("injected into SUBSCRIBE")]

    def subscriber(protocol: type[Any]) -> Any:
        class Flaky(protocol):  # type: ignore[valid-type,misc]
            def subscribe(self, channels: Any) -> Any:
                if failing:
                    return fail(failing.pop())
                return protocol.subscribe(self, channels)

        return redis.subscriber(Flaky)

    return subscriber


@pytest_twisted.ensureDeferred
async def test_failed_subscribe_is_retried(
    store: Store,
    config: Config,
    queue: Queue,
    redis: RedisService,
    no_logged_errors: list[dict[str, Any]],
) -> None:
    """
    A SUBSCRIBE that fails with an error nobody expects is logged with its
    traceback and sent again, backing off: the bridge goes live and the next
    push reaches a watcher.
    """
    bridge, live = build_live(
        store, subscribing_fails_once(redis), config.live, reactor
    )
    bridge.startService()
    port = reactor.listenTCP(
        0, build_site(store, config, queue, live=live), interface="127.0.0.1"
    )
    server = f"http://127.0.0.1:{port.getHost().port}"
    try:
        for _ in range(250):
            if bridge.live:
                break
            await settle(0.02)
        assert bridge.live, "the failed SUBSCRIBE was never sent again"
        [event] = injected(no_logged_errors)
        assert "live feed subscription failed" in formatEvent(event)
        w = await watch(server)
        acknowledged = await push_until_stored(server, "next")
        await w.wait_for("commit", 1)
        assert [m["commit"]["hash"] for m in w.of("commit")] == acknowledged
        w.close()
    finally:
        await port.stopListening()
        await bridge.stopService()


@pytest_twisted.ensureDeferred
async def test_failed_new_subscription_connects_again(
    store: Store,
    config: Config,
    queue: Queue,
    redis: RedisService,
    no_logged_errors: list[dict[str, Any]],
) -> None:
    """
    A new subscription connection whose handling fails with an error nobody
    expects is logged with its traceback and dropped; the next connection
    subscribes, and the bridge goes live.
    """
    bridge, _ = build_live(store, redis.subscriber, config.live, reactor)
    handed = raise_once(bridge, "connected")
    bridge.startService()
    try:
        for _ in range(250):
            if bridge.live:
                break
            await settle(0.02)
        assert bridge.live, "the subscription never connected again"
        assert len(handed) == 2
        [event] = injected(no_logged_errors)
        assert "a new subscription failed" in formatEvent(event)
    finally:
        await bridge.stopService()


@pytest_twisted.ensureDeferred
async def test_failed_catch_up_is_retried(
    live_server: Any,
    store: Store,
    redis: RedisService,
    no_logged_errors: list[dict[str, Any]],
) -> None:
    """
    After the subscription drops, the read of what was published meanwhile
    fails with an error nobody expects: it is logged with its traceback and
    read again, and the watcher gets every commit once, in order.
    """
    server, bridge = live_server
    w = await watch(server)
    acknowledged = await push_until_stored(server, "before")
    await w.wait_for("commit", 1)
    reads = raise_once(store, "feed_after")
    await redis.client.execute("CLIENT", "KILL", "TYPE", "pubsub")
    acknowledged += await push_until_stored(server, "gap1", "gap2")
    for _ in range(250):
        if len(reads) >= 2 and bridge.live:
            break
        await settle(0.02)
    assert bridge.live, "the failed catch-up was never read again"
    [event] = injected(no_logged_errors)
    assert "injected into feed_after" in event["log_failure"].getTraceback()
    acknowledged += await push_until_stored(server, "after")
    await w.wait_for("commit", len(acknowledged))
    await settle()
    assert [m["commit"]["hash"] for m in w.of("commit")] == acknowledged
    w.close()


def _close_code(stream: bytes) -> int | None:
    """@return: the code of the close frame in a server's frames, if any."""
    at = 0
    while at + 2 <= len(stream):
        opcode, length = stream[at] & 0x0F, stream[at + 1] & 0x7F
        at += 2
        if length == 126:
            length, at = int.from_bytes(stream[at : at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(stream[at : at + 8], "big"), at + 8
        if opcode == 8:
            return int.from_bytes(stream[at : at + 2], "big")
        at += length
    return None


def _slow_reader(url: str, go: threading.Event) -> int | None:
    """
    Open a websocket by hand with a small receive buffer, read nothing until
    C{go} is set, then read to the end.

    @return: the close code the server sent.
    """
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.connect(("127.0.0.1", parts.port or 80))
        sock.sendall(
            f"GET {parts.path} HTTP/1.1\r\nHost: 127.0.0.1:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        go.wait(60)
        sock.settimeout(30)
        stream = b""
        while chunk := sock.recv(65536):
            stream += chunk
            if _close_code(stream) is not None:
                break
    return _close_code(stream)


@pytest_twisted.ensureDeferred
async def test_slow_reader_is_closed_while_fast_ones_keep_up(live_server: Any) -> None:
    """
    A watcher that stops reading is closed with 1013 once its queue passes
    the send limit; a fast watcher receives every commit all along.
    """
    server, bridge = live_server
    fast = await watch(server)
    go = threading.Event()
    slow = threads.deferToThread(_slow_reader, ws_url(server), go)
    while bridge.watchers < 2:
        await settle(0.02)
    sent: list[str] = []
    long = "x" * 190
    for round in range(60):
        seeds = [f"slow{round}-{i}" for i in range(100)]
        code, answer, _ = await post_github(
            server, github_payload(*seeds, email="x@y.org", message=long)
        )
        assert code == 201
        sent += answer["commits"]
        # The fast watcher keeps up; only the slow one falls behind.
        await fast.wait_for("commit", len(sent), timeout=30)
        if bridge.watchers < 2:
            break
    assert bridge.watchers == 1, "the slow watcher was never closed"
    go.set()
    assert await slow == TRY_AGAIN_LATER
    await fast.wait_for("commit", len(sent), timeout=30)
    assert [m["commit"]["hash"] for m in fast.of("commit")] == sent
    fast.close()


@pytest_twisted.ensureDeferred
async def test_connections_per_address_are_capped(live_server: Any) -> None:
    """Past the per-address limit the upgrade is refused with 429."""
    server, _ = live_server
    watchers = [await watch(server) for _ in range(SETTINGS.ip_limit)]
    refused = Watcher(ws_url(server))
    with pytest.raises(ConnectionError, match="429"):
        await refused.connect()
    watchers[0].close()
    await watchers[0].closed
    again = await watch(server)
    for w in [*watchers[1:], again]:
        w.close()
    response = await treq.get(server + "/healthz")
    assert response.code == 200


@pytest_twisted.ensureDeferred
async def test_connects_per_address_are_rate_limited(
    store: Store, config: Config, queue: Queue, redis: RedisService
) -> None:
    """
    Past the shared connect rate (the C{live} rate limit, counted in Redis
    for every node), an upgrade gets 429, while the watchers already in keep
    their connections and their feed.
    """
    limited = attrs.evolve(
        config,
        rate_limits={**config.rate_limits, "live": Limit(3, 60.0)},
        live=LiveSettings(ip_limit=100),
    )
    limiter = build_limiter(store, limited)
    bridge, live = build_live(store, redis.subscriber, limited.live, reactor, limiter)
    bridge.startService()
    port = reactor.listenTCP(
        0,
        build_site(store, limited, queue, live=live, limiter=limiter),
        interface="127.0.0.1",
    )
    server = f"http://127.0.0.1:{port.getHost().port}"
    try:
        while not bridge.live:
            await settle(0.02)
        watchers = [await watch(server) for _ in range(3)]
        with pytest.raises(ConnectionError, match="429"):
            await Watcher(ws_url(server)).connect()
        await post_github(server, github_payload("still", email="x@y.org"))
        for w in watchers:
            await w.wait_for("commit", 1)
            assert w.of("commit")[0]["commit"]["message"] == "commit still"
            w.close()
    finally:
        await port.stopListening()
        bridge.stopService()


@pytest_twisted.ensureDeferred
async def test_watchers_behind_a_proxy_count_by_forwarded_address(
    store: Store, config: Config, queue: Queue, redis: RedisService
) -> None:
    """
    Behind a trusted proxy (nginx, where every watcher's peer is the proxy),
    the per-address cap counts each watcher's forwarded address: one client
    reaching the cap neither refuses another nor loses its own watchers.
    """
    proxied = attrs.evolve(
        config, live=LiveSettings(ip_limit=2), trusted_proxies=("127.0.0.1",)
    )
    limiter = build_limiter(store, proxied)
    bridge, live = build_live(store, redis.subscriber, proxied.live, reactor, limiter)
    bridge.startService()
    port = reactor.listenTCP(
        0,
        build_site(store, proxied, queue, live=live, limiter=limiter),
        interface="127.0.0.1",
    )
    url = ws_url(f"http://127.0.0.1:{port.getHost().port}")
    one, other = {"X-Forwarded-For": "203.0.113.5"}, {"X-Forwarded-For": "203.0.113.6"}
    try:
        while not bridge.live:
            await settle(0.02)
        first = [await Watcher(url, one).connect() for _ in range(2)]
        with pytest.raises(ConnectionError, match="429"):
            await Watcher(url, one).connect()
        second = [await Watcher(url, other).connect() for _ in range(2)]
        assert bridge.watchers == 4
        for w in first + second:
            w.close()
    finally:
        await port.stopListening()
        bridge.stopService()


@pytest_twisted.ensureDeferred
async def test_watcher_gone_before_its_replay_fails(
    config: Config, clock: Any, tmp_path: Path
) -> None:
    """
    A watcher that leaves while its replay is read from a Redis that does
    not answer: when the read fails there is no one to tell, and nothing
    is logged as an error.
    """
    dead = RedisService(
        reactor, RedisAddress(None, None, str(tmp_path / "none.sock")), tmp_path
    )
    dead.client.timeout = 0.3
    dead.startService()
    store = Store(dead.client, clock)
    bridge, live = build_live(store, dead.subscriber, config.live, reactor)
    bridge.startService()
    site = build_site(store, config, Queue(dead.client, reactor), live=live)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    try:
        w = await watch(f"http://127.0.0.1:{port.getHost().port}")
        await w.wait_for("subscribed", 1)
        w.close()
        await w.closed
        await settle(2 * dead.client.timeout)
        # A failure left in a Deferred is logged when it is collected.
        gc.collect()
        assert w.of("error") == []
    finally:
        await port.stopListening()
        await bridge.stopService()
        await dead.stopService()


@pytest_twisted.ensureDeferred
async def test_catch_up_on_a_feed_empty_at_start(
    live_server: Any, redis: RedisService
) -> None:
    """
    A node whose feed was empty when it subscribed loses its subscription
    before it was sent anything: what was published meanwhile still reaches
    its watchers once it subscribes again.
    """
    server, bridge = live_server
    w = await watch(server)
    await w.wait_for("subscribed", 1)
    await redis.client.execute("CLIENT", "KILL", "TYPE", "pubsub")
    # Published while the subscription is down (it comes back after 0.1 s).
    acknowledged = await push_until_stored(server, "gap1", "gap2")
    while not bridge.live:
        await settle(0.02)
    acknowledged += await push_until_stored(server, "after")
    await w.wait_for("commit", len(acknowledged))
    await settle()
    assert [m["commit"]["hash"] for m in w.of("commit")] == acknowledged
    w.close()
