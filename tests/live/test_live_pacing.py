"""
When the live feed flushes, and what a flush sends: a bridge on a
L{twisted.internet.task.Clock} (a flush runs only when the test turns it),
real watchers over loopback, real pushes through the webhook and Redis; and
the frames, compressed once for every watcher that agreed the same
permessage-deflate settings.
"""

from __future__ import annotations

import json
import socket
import threading
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor, threads
from twisted.internet.task import Clock
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.sync.client import connect

from julytwisted._compat import per_message_compress, queued_writes
from julytwisted.config import Config, LiveSettings
from julytwisted.jobs.queue import Queue
from julytwisted.live import LiveBridge, LiveFactory, LiveResource
from julytwisted.live._frames import FRAME_BATCH, Fanout, deflate, frames
from julytwisted.redis_service import RedisService
from julytwisted.service import build_site
from julytwisted.store import Store
from julytwisted.store.feed import FeedEntry
from tests.builders import sha
from tests.live.test_live import push
from tests.live_clients import Watcher, flatten, settle, watch, ws_url


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """
    permessage-deflate accepted, in an open event: the pushes name a
    repository nobody added.
    """
    return Config(
        data_dir=tmp_path,
        admin_token="admin-secret",
        live=LiveSettings(deflate=True),
        open_repositories=True,
    )


class Turns(Clock):
    """
    A clock that moves C{step} seconds at each reading, as if the reactor
    were busy with other work between any two.
    """

    step = 0.0

    def seconds(self) -> float:
        self.rightNow += self.step
        return self.rightNow

    def run_due(self) -> None:
        """
        One reactor turn: run the calls due now, not those they add (which
        L{advance} runs too, the clock moving at each reading).
        """
        now = self.rightNow
        for call in sorted(self.calls, key=lambda c: c.getTime()):
            if call.getTime() <= now and call in self.calls:
                self.calls.remove(call)
                call.called = 1
                call.func(*call.args, **call.kw)


class Paced:
    """A live Site whose bridge flushes on a L{Clock} the test turns."""

    url = ""
    bridge: LiveBridge
    clock: Turns
    #: How long each flush takes, as the clock sees it.
    cost = 0.0
    #: When each flush that sent something ended, by the clock.
    ended: list[float]

    def flushed(self, watchers: int) -> None:
        self.clock.rightNow += self.cost
        self.ended.append(self.clock.rightNow)

    async def push(self, *seeds: str) -> list[str]:
        """
        Push commits, and wait until the subscription has read them (and
        so sent them, in the turn it read them).
        """
        had = self.bridge._last
        hashes = await push(self.url, *seeds, email="x@y.org", message="x" * 190)
        while self.bridge._last == had:
            await settle(0.01)
        return hashes

    async def slow_flush(self) -> tuple[Watcher, list[str]]:
        """
        A watcher sent a commit by a flush that took 50 ms.

        @return: the watcher and the commit's hashes.
        """
        w = await watch(self.url)
        await w.wait_for("subscribed", 1)
        self.cost = 0.05
        hashes = await push(self.url, "slow flush", email="x@y.org")
        await w.wait_for("commit", 1)
        return w, hashes

    async def turn(self) -> None:
        """Wait until something waits for a flush, then end the reactor turn."""
        for _ in range(500):
            if self.clock.getDelayedCalls():
                break
            await settle(0.01)
        assert self.clock.getDelayedCalls(), "nothing arrived to flush"
        self.clock.advance(0)


@pytest_twisted.async_yield_fixture
async def paced(
    store: Store, config: Config, queue: Queue, redis: RedisService
) -> AsyncIterator[Paced]:
    """The live feed at C{/live}, its flushes on the fixture's clock."""
    p = Paced()
    p.clock, p.ended = Turns(), []
    p.bridge = LiveBridge(store, redis.subscriber, p.clock, on_flushed=p.flushed)
    p.bridge.startService()
    resource = LiveResource(LiveFactory(p.bridge, config.live, reactor))
    port = reactor.listenTCP(
        0, build_site(store, config, queue, live=resource), interface="127.0.0.1"
    )
    p.url = f"http://127.0.0.1:{port.getHost().port}"
    while not p.bridge.live:
        await settle(0.02)
    yield p
    await port.stopListening()
    stopped = p.bridge.stopService()
    p.clock.advance(1)
    await stopped


@pytest_twisted.ensureDeferred
async def test_an_entry_goes_out_at_the_end_of_its_read(paced: Paced) -> None:
    """
    An entry from the subscription is sent in the reactor turn that read
    it, whatever the last flush cost (50 ms here): the clock is never
    turned, and nothing is left waiting on it.
    """
    w = await watch(paced.url)
    await w.wait_for("subscribed", 1)
    paced.cost = 0.05
    first = await push(paced.url, "slow flush", email="x@y.org")
    await w.wait_for("commit", 1)
    second = await push(paced.url, "right after", email="x@y.org")
    await w.wait_for("commit", 2)
    assert [m["commit"]["hash"] for m in w.of("commit")] == first + second
    assert paced.ended == [0.05, 0.1], "one flush for each, the clock not turned"
    assert not paced.clock.getDelayedCalls()
    w.close()


@pytest_twisted.ensureDeferred
async def test_a_replay_goes_out_at_the_first_idle_turn(paced: Paced) -> None:
    """
    What does not come on the subscription (a new watcher's replay) waits
    for an idle reactor turn: it goes at the end of the next one even
    right after a flush that took long (50 ms), not held for a multiple
    of that flush's cost.
    """
    w, hashes = await paced.slow_flush()
    late = await watch(paced.url)
    await paced.turn()
    await late.wait_for("commit", 1)
    assert [m["commit"]["hash"] for m in late.of("commit")] == hashes
    assert paced.ended == [0.05, 0.1]
    w.close()
    late.close()


@pytest_twisted.ensureDeferred
async def test_a_busy_reactor_is_yielded_to_for_one_flush_cost(paced: Paced) -> None:
    """
    While reactor turns are busy (each 10 ms), a replay waits for an idle
    one, but no longer than the last flush took (50 ms); then it goes out.
    """
    w, hashes = await paced.slow_flush()
    late = await watch(paced.url)
    while not paced.clock.getDelayedCalls():
        await settle(0.01)
    began = paced.clock.rightNow
    paced.clock.step = 0.01
    paced.clock.advance(0)
    paced.clock.step = 0.0
    await late.wait_for("commit", 1)
    waited = paced.ended[-1] - paced.cost - began
    assert paced.cost <= waited < paced.cost + 0.05
    assert [m["commit"]["hash"] for m in late.of("commit")] == hashes
    w.close()
    late.close()


@pytest_twisted.ensureDeferred
async def test_an_entry_arriving_mid_pass_reaches_the_rest_of_that_pass(
    paced: Paced,
) -> None:
    """
    A flush to many watchers goes in slices (each reading of the clock
    here 10 ms apart, longer than a slice), the reactor served between
    them: an entry that arrives meanwhile goes to the watchers the pass has
    not reached yet with the one before, in one frame, and to the others
    in the next pass; every watcher gets each entry once, in order, and
    the bridge then keeps none.
    """
    watchers = []
    for _ in range(6):
        w = await watch(paced.url)
        await w.wait_for("subscribed", 1)
        watchers.append(w)
    paced.clock.step = 0.01
    first = await push(paced.url, "first", email="x@y.org")
    while not paced.bridge._pass:
        await settle(0.01)
    had = paced.bridge._last
    second = await push(paced.url, "second", email="x@y.org")
    while paced.bridge._last == had:
        await settle(0.01)
    for _ in range(100):
        if not paced.clock.getDelayedCalls():
            break
        paced.clock.run_due()
    for w in watchers:
        await w.wait_for("commit", 2)
        assert [m["commit"]["hash"] for m in w.of("commit")] == first + second
    # The subscription's acknowledgement, then one frame or two.
    frames = [w.frames for w in watchers]
    assert 2 in frames and 3 in frames, frames
    assert frames == sorted(frames, reverse=True), "visited in the order they came"
    assert paced.bridge._recent == []
    for w in watchers:
        w.close()


def _frames_of(stream: bytes) -> list[bytes]:
    """@return: the payloads of a server's (unmasked, uncompressed) frames."""
    found, at = [], 0
    while at + 2 <= len(stream):
        length, at = stream[at + 1] & 0x7F, at + 2
        if length == 126:
            length, at = int.from_bytes(stream[at : at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(stream[at : at + 8], "big"), at + 8
        found.append(stream[at : at + length])
        at += length
    return found


def _stalled_reader(url: str, go: threading.Event, until: bytes | None) -> list[bytes]:
    """
    A websocket by hand, with a small receive buffer, that reads nothing
    until C{go} is set, then reads until C{until} has come (L{None}: until
    the server closes the connection).

    @return: the payloads of the frames it was sent.
    """
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(
            f"GET /live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        go.wait(60)
        sock.settimeout(30)
        stream = b""
        while until is None or until not in stream:
            data = sock.recv(65536)
            if not data:
                break
            stream += data
    return _frames_of(stream)


@pytest_twisted.ensureDeferred
async def test_what_arrives_before_the_last_send_is_out_goes_in_one_frame(
    paced: Paced,
) -> None:
    """
    Once a watcher's socket has not taken all of a flush, what the next
    flushes bring waits for the transport to drain, and goes out together,
    in one frame; nothing is lost or sent twice.
    """
    go = threading.Event()
    last = sha("third").encode()
    reader = threads.deferToThread(_stalled_reader, ws_url(paced.url), go, last)
    while not paced.bridge.watchers:
        await settle(0.02)
    [watcher] = paced.bridge._watchers
    transport = watcher.transport
    sent: list[str] = []
    for round in range(100):
        sent += await paced.push(*(f"fill{round}-{i}" for i in range(FRAME_BATCH)))
        if transport.dataBuffer or queued_writes(transport):
            break
    assert transport.dataBuffer or queued_writes(transport), "all was sent"
    for seed in ("first", "second", "third"):
        sent += await paced.push(seed)
    go.set()
    payloads = await reader
    messages = [m for p in payloads for m in flatten(p)]
    assert [m["commit"]["hash"] for m in messages if m["type"] == "commit"] == sent
    assert flatten(payloads[-1])[-3:] == messages[-3:]


async def _steady(paced: Paced, until: bytes | None) -> tuple[Any, Any]:
    """
    A watcher by hand (L{_stalled_reader}, reading at once) sent a commit
    at once, by the pass: so that the next pass sends it its frames
    without a check.

    @return: the server's watcher, and the reader's payloads to come.
    """
    go = threading.Event()
    go.set()
    reader = threads.deferToThread(_stalled_reader, ws_url(paced.url), go, until)
    while not paced.bridge.watchers:
        await settle(0.02)
    [watcher] = paced.bridge._watchers
    await paced.push("first")
    assert watcher.seat.steady
    return watcher, reader


def _deliver_now(paced: Paced, data: str) -> None:
    """
    Hand the bridge an entry as its subscription would, and let it flush
    in the same reactor turn, before the transport writes what it holds.
    """
    ms, seq = paced.bridge._last or (0, 0)
    entry = {"id": f"{ms}-{seq + 1}", "type": "commit", "channels": ["global"]}
    paced.bridge.published(json.dumps([{**entry, "data": data}]))
    paced.bridge.read_ended()


@pytest_twisted.ensureDeferred
async def test_a_write_of_autobahn_waiting_in_the_transport_goes_first(
    paced: Paced,
) -> None:
    """
    A frame autobahn wrote (a ping here; a pong, a close or our own
    acknowledgement alike) waits in the transport until the reactor's next
    write: a commit handed out in the same turn must not reach the socket
    before it, even to a watcher the pass sends to without checking.
    """
    watcher, reader = await _steady(paced, until=b"after the ping")
    watcher.sendPing(b"ping first")
    _deliver_now(paced, '"after the ping"')
    payloads = await reader
    assert b"ping first" in payloads
    [after] = [i for i, p in enumerate(payloads) if b"after the ping" in p]
    assert payloads.index(b"ping first") < after, payloads


@pytest_twisted.ensureDeferred
async def test_a_dropped_watcher_is_sent_nothing_more(paced: Paced) -> None:
    """
    A connection autobahn drops (as on a timeout) is sent nothing after,
    even in the turn it was dropped, before the transport closes.
    """
    watcher, reader = await _steady(paced, until=None)
    watcher.dropConnection()
    _deliver_now(paced, '"after the drop"')
    payloads = await reader
    assert not any(b"after the drop" in p for p in payloads), payloads
    assert any(sha("first").encode() in p for p in payloads)


def test_frames_are_made_once_per_channels_and_compression() -> None:
    """
    A flush's messages and frames are made once for each set of channels
    and compression, whoever asks; compressed frames inflate to the JSON
    array, with the final block RFC 7692 leaves off put back.
    """
    entries = [
        FeedEntry(f"1-{i}", "commit", ("global", "player:ada"), f'{{"n":{i}}}')
        for i in range(3)
    ]
    rendered: list[tuple[str, str]] = []

    def render(entry: FeedEntry, channel: str) -> bytes:
        rendered.append((entry.id, channel))
        return f'{{"id":"{entry.id}","channel":"{channel}"}}'.encode()

    fanout = Fanout(entries, render)
    both = frozenset({"global", "player:ada"})
    small = (9, 2)
    assert fanout.frames((both, small)) is fanout.frames((both, small))
    assert fanout.frames((both, None)) is fanout.frames((both, None))
    assert fanout.frames((frozenset({"team:x"}), None)) == b""
    assert rendered == [(f"1-{i}", "global") for i in range(3)]
    frame = fanout.frames((both, small))
    assert frame[0] == 0xC1  # FIN, RSV1 (compressed), text.
    inflated = zlib.decompressobj(-9).decompress(frame[2:] + b"\x00\x00\xff\xff")
    assert inflated == frames(fanout.messages(both)[0], None)[2:]
    assert deflate(b"x" * 1000, small) == deflate(b"x" * 1000, small)


def _deflated(url: str, bits: int | None, wanted: int) -> tuple[list[Any], str]:
    """
    Watch with permessage-deflate, with a window of C{bits} for the server
    if given; @return: the messages, and the extension the server agreed.
    """
    factory = ClientPerMessageDeflateFactory(server_max_window_bits=bits)
    got: list[Any] = []
    with connect(
        url, open_timeout=10, compression=None, extensions=[factory], proxy=None
    ) as ws:
        agreed = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        while len([m for m in got if m["type"] == "commit"]) < wanted:
            got.extend(flatten(ws.recv(timeout=10)))
    return got, agreed


@pytest_twisted.ensureDeferred
async def test_deflate_watchers_hold_no_compressor(live_server: Any) -> None:
    """
    Watchers with permessage-deflate, two windows among them, each get the
    feed compressed without context takeover, agreed although they did not
    ask it, and none holds a compressor of its own after it.
    """
    server, bridge = live_server
    url = ws_url(server)
    seen = [threads.deferToThread(_deflated, url, bits, 20) for bits in (9, 15, 9)]
    while bridge.watchers < 3:
        await settle(0.02)
    hashes = await push(server, *[f"z{i}" for i in range(20)], email="x@y.org")
    for d in seen:
        got, agreed = await d
        assert "server_no_context_takeover" in agreed
        assert [m["commit"]["hash"] for m in got if m["type"] == "commit"] == hashes
    for watcher in list(bridge._watchers):
        compression = per_message_compress(watcher)
        assert compression is not None
        assert compression._compressor is None


@pytest_twisted.ensureDeferred
async def test_a_watcher_the_server_closes_is_closed_cleanly(live_server: Any) -> None:
    """
    A watcher the server closes (1001, going away) has its TCP connection
    closed by the server once the closing handshake is done: the producer
    the transport resumes when drained does not hold it open.
    """
    server, bridge = live_server
    w = await watch(server)
    await w.wait_for("subscribed", 1)
    [watcher] = bridge._watchers
    watcher.going_away()
    assert await w.closed == 1001
    assert w.protocol is not None and w.protocol.wasClean
