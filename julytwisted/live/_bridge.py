# -*- test-case-name: tests.live.test_live -*-
"""
The process's one Redis subscription to the feed, fanned out to its own
watchers.  After an outage it subscribes again and reads from the global
stream what was published meanwhile, so no watcher misses an entry; a
SUBSCRIBE or a read that fails is retried, backing off.  The replays of
watchers that connect together are read once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import txredisapi
from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from julytwisted._compat import EagerLines, read_waiting
from julytwisted.errors import RedisUnavailable
from julytwisted.live._frames import Fanout, FramesKey, Render
from julytwisted.live._protocol import (
    BOARD_PREFIX,
    QUEUED,
    REPLAY_TAIL,
    SENT,
    Frames,
    LiveProtocol,
    Replayed,
    Seat,
    render_entry,
)
from julytwisted.store import FEED_LENGTH, LIVE_PUBSUB, Store
from julytwisted.store.feed import FeedEntry, entries_from_message, revoked_channel
from julytwisted.supervise import Backoff, Supervised

log = Logger()

#: A reactor turn shorter than this, in seconds, handled next to nothing:
#: an empty poll takes about 10 us, a request or a Redis reply 100s.
IDLE_TURN = 0.0002

#: The longest a flush writes before the reactor gets a turn, seconds.  A
#: watcher costs about 10 us of CPU (the send, its TCP loopback and the
#: wakeup of its reader are 80 % of it), so 10,000 take over 100 ms: in
#: slices, the webhooks and the subscription are served meanwhile, and an
#: entry that arrives during a pass goes to the watchers not visited yet
#: in the same pass.  A webhook's commit takes several reactor turns to
#: reach the feed (the request, the store's replies, the subscription's
#: message), each waiting for a slice to end: at 10,000 watchers the p99
#: was 238 to 268 ms in slices of 20 ms, 174 to 228 in slices of 5, 161 to
#: 188 in slices of 2, and no lower in slices of 1 or 0.5.
FLUSH_SLICE = 0.002

Subscribe = Callable[[type[Any]], Any]
"""Makes a pub/sub connection (L{RedisService.subscriber}) of a protocol."""

_Ask = tuple[tuple[str, ...], str | None]
"""What a replay reads: the channels, sorted, and the C{since} if any."""


class _Subscription(EagerLines, txredisapi.SubscriberProtocol):  # type: ignore[misc]
    """
    Hands every (re)connection, and every message, to the bridge: all the
    messages of a read in the turn it arrives, so that one flush takes them.
    """

    def connectionMade(self) -> Deferred[None]:
        bridge: LiveBridge = self.factory.bridge
        d: Deferred[Any] = txredisapi.SubscriberProtocol.connectionMade(self)
        # Not connected when txredisapi's AUTH or SELECT failed: it has
        # dropped the connection and logged why.
        d.addCallback(lambda _: bridge.connected(self) if self.connected else None)
        d.addErrback(self._failed)
        return d

    def _failed(self, failure: Failure) -> None:
        log.failure("live feed: a new subscription failed", failure)
        # Dropped, the factory connects again, backing off.
        self.transport.loseConnection()

    def messageReceived(self, pattern: Any, channel: str, message: str) -> None:
        self.factory.bridge.published(message)

    def dataReceived(self, data: bytes, unpause: bool = False) -> Any:
        try:
            return EagerLines.dataReceived(self, data, unpause)
        finally:
            self.factory.bridge.read_ended()

    def connectionLost(self, reason: Failure) -> None:
        self.factory.bridge.unsubscribed(self)
        txredisapi.SubscriberProtocol.connectionLost(self, reason)


def _renderer() -> Render:
    """@return: L{render_entry}, caching each message for one flush or replay."""
    rendered: dict[tuple[str, str], bytes] = {}

    def render(entry: FeedEntry, channel: str) -> bytes:
        key = (entry.id, channel)
        found = rendered.get(key)
        if found is None:
            found = rendered[key] = render_entry(entry, channel)
        return found

    return render


class _Replays:
    """
    Replay reads, one at a time for each set of channels and C{since}: the
    watchers that ask while one is in flight share the next, and the
    messages it renders.

    Each watcher asked for its replay after it was attached, so a read sent
    after it asked holds every entry the watcher will not be sent live.  A
    read already in flight may not: it is never shared with a latecomer.

    Without this, each of a thousand watchers connecting at once read its own
    30 entries, and txredisapi's parser, which spends a reactor turn on each
    string of a reply, took seconds over them while every other command on
    the same pooled connections (a webhook's ingest, C{/healthz}'s PING)
    waited behind them.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        #: The keys read now, each with the watchers waiting for the next read.
        self._reading: dict[_Ask, list[Deferred[Replayed]]] = {}

    async def ask(self, channels: Sequence[str], since: str | None) -> Replayed:
        """
        @param channels: the watcher's channels.
        @param since: the last entry it had, if it said.
        @return: what came after C{since} on those channels, else their last
            L{REPLAY_TAIL} entries, from a read sent after this call.
        """
        key: _Ask = (tuple(sorted(channels)), since)
        wanted: Deferred[Replayed] = Deferred()
        if key in self._reading:
            self._reading[key].append(wanted)
        else:
            self._reading[key] = []
            Deferred.fromCoroutine(self._read(key, [wanted]))
        return await wanted

    async def _read(self, key: _Ask, readers: list[Deferred[Replayed]]) -> None:
        """
        Read for C{readers}, then for those who asked meanwhile, until nobody
        did.  It never fails: each reader is told of its read's failure.
        """
        channels, since = key
        while readers:
            outcome: Replayed | Failure
            try:
                if since is None:
                    entries = await self._store.feed_tail(channels, REPLAY_TAIL)
                else:
                    entries = await self._store.feed_after(channels, since)
                outcome = (entries, _renderer())
            except Exception:
                outcome = Failure()
            served, readers = readers, self._reading.pop(key)
            if readers:
                self._reading[key] = []
            for reader in served:
                if isinstance(outcome, Failure):
                    reader.errback(outcome)
                else:
                    reader.callback(outcome)


class LiveBridge(Service):
    """
    Redis to this process's watchers: one subscription, entries delivered in
    id order and each once, messages rendered once per channel, several to
    a frame, sent in passes over the watchers.

    An entry from the subscription goes out at the end of the read that
    brought it, unless a pass is under way (see below).  Anything else that
    waits for a flush (a watcher's replay; what arrived during a pass that
    the pass did not take) is sent once the reactor is idle: at the end of
    the first reactor turn that handled next to nothing (a poll with no
    event ready), so that the requests and Redis replies in flight get
    there first, and the flush takes them all.  A busy reactor is yielded
    to for at most as long as the last flush took, so that a reactor never
    idle still gets half its time for the feed.  A light load goes out at
    once; a pass over thousands of watchers takes long enough for several
    entries to arrive meanwhile, and the next sends them together: batching
    grows with the load, and with nothing else.  A watcher whose transport
    has not sent the last flush's bytes yet keeps what arrives until it has
    (see L{LiveProtocol}).

    A pass visits the watchers in slices of L{FLUSH_SLICE}, a reactor turn
    between two, each watcher handed every entry it was not yet: so an
    entry that arrives during a pass reaches the watchers the pass has not
    visited yet in that pass, and the others in the next, and the last
    watcher has it one pass after it arrived, not up to two (the rest of
    the pass under way, then a whole one).  Watchers handed the same
    entries share their frames.

    @ivar store: where the bridge and its watchers' replays read missed
        entries.
    @ivar live: whether the subscription is up and caught up.
    """

    name = "live-bridge"

    def __init__(
        self,
        store: Store,
        subscribe: Subscribe,
        clock: IReactorTime,
        retry: Backoff = Backoff(base=0.2, cap=5.0),
        on_flushed: Callable[[int], None] | None = None,
    ) -> None:
        """
        @param subscribe: makes the pub/sub connection.
        @param clock: schedules flushes and retries.
        @param retry: the waits between attempts to subscribe and catch up
            on a connection, when one fails.
        @param on_flushed: told how many watchers each flush wrote to.
        """
        self.store = store
        self._subscribe = subscribe
        self._clock = clock
        self._retry = retry
        self._joining: Supervised | None = None
        self._replays = _Replays(store)
        self._watchers: dict[LiveProtocol, Seat] = {}
        self._dirty: dict[LiveProtocol, None] = {}
        #: The entries delivered since every watcher was last handed all.
        self._recent: list[FeedEntry] = []
        #: Their fan-outs, by the newest entry a watcher was handed before.
        self._fanouts: dict[tuple[int, int] | None, Fanout] = {}
        #: The seats of the watchers the pass under way has still to visit,
        #: last first.
        self._pass: list[Seat] = []
        #: Whether entries arrived since the pass under way began.
        self._behind = False
        #: The newest entry when the pass under way began.
        self._pass_newest: tuple[int, int] | None = None
        self._render: Render = _renderer()
        self._flush_call: IDelayedCall | None = None
        #: How long the last flush took, seconds.
        self._cost = 0.0
        #: When the reactor turn being watched for idleness began.
        self._turn_began = 0.0
        #: How long this flush has waited for an idle reactor, seconds.
        self._yielded = 0.0
        self._connection: _Subscription | None = None
        #: The connection that has subscribed (its SUBSCRIBE answered).
        self._subscribed: _Subscription | None = None
        self._held: list[FeedEntry] | None = []
        self._last: tuple[int, int] | None = None
        self._last_id: str | None = None
        self._factory: Any = None
        self.live = False
        #: How many times private boards' watchers were told to be admitted
        #: again: an upgrade admitted before a change and attached after it
        #: sees the count moved, and is admitted again too.
        self.revocations = 0
        #: Told how many watchers were sent a frame at each flush, for metrics.
        self.on_flushed = on_flushed

    @property
    def watchers(self) -> int:
        """How many watchers this process serves."""
        return len(self._watchers)

    def startService(self) -> None:
        Service.startService(self)
        self._factory = self._subscribe(_Subscription)
        self._factory.bridge = self

    # Watchers

    def attach(self, watcher: LiveProtocol) -> None:
        """Start delivering to a watcher."""
        self._watchers[watcher] = watcher.seat

    def detach(self, watcher: LiveProtocol) -> None:
        """Stop delivering to a watcher."""
        watcher.seat.steady = False
        self._watchers.pop(watcher, None)
        self._dirty.pop(watcher, None)

    async def replay(self, channels: Sequence[str], since: str | None) -> Replayed:
        """
        What a watcher just attached missed: after C{since} on its channels,
        else their last entries; read once for all that ask together.
        """
        return await self._replays.ask(channels, since)

    def mark(self, watcher: LiveProtocol) -> None:
        """Send what is queued for a watcher at the next flush."""
        self._dirty[watcher] = None
        self._schedule()

    def _schedule(self) -> None:
        if self._flush_call is None:
            self._yielded = 0.0
            self._turn_began = self._clock.seconds()
            self._flush_call = self._clock.callLater(0, self._when_idle)

    def read_ended(self) -> None:
        """
        The subscription's read is parsed: unless a pass is under way, what
        it brought goes out now, not once the reactor is idle.  The entries
        of one read go together; the rest of the turn (most often the reply
        to the push that published them) would only delay them.
        """
        call = self._flush_call
        if call is not None and call.active() and not self._pass:
            call.cancel()
            self._flush_call = None
            self._flush(self._clock.seconds())

    def _when_idle(self) -> None:
        """
        Flush if the reactor turn just ended was idle, or if the reactor has
        had as long as the last flush took; else look again after the next.
        """
        now = self._clock.seconds()
        turn = now - self._turn_began
        self._yielded += turn
        if turn > IDLE_TURN and self._yielded < self._cost:
            self._turn_began = now
            self._flush_call = self._clock.callLater(0, self._when_idle)
            return
        self._flush_call = None
        self._flush(now)

    def _flush(self, began: float) -> None:
        """
        Hand the new entries to the watchers of the pass under way (a new
        pass, of every watcher, when none is), for at most L{FLUSH_SLICE};
        send what waits for the watchers marked; then give the reactor a
        turn before the rest of the pass, or the next.
        """
        if not self._pass and self._behind:
            self._begin_pass()
        sent = self._hand_out(began)
        dirty, self._dirty = self._dirty, {}
        made: Frames = {}
        for watcher in dirty:
            sent += watcher.flush(made)
        if sent and self.on_flushed is not None:
            self.on_flushed(sent)
        now = self._clock.seconds()
        self._cost = now - began
        if self._pass:
            self._flush_call = self._clock.callLater(0, self._go_on)
        elif self._behind or self._dirty:
            self._schedule()
        else:
            # Every watcher has been handed every entry.
            self._recent, self._fanouts, self._render = [], {}, _renderer()

    def _begin_pass(self) -> None:
        """
        A pass of every watcher, once the last is over.  Every watcher the
        last visited was handed the entries up to its start; one that came
        since is replayed them: so those are recent no more.
        """
        done = self._pass_newest
        if done is not None and self._recent[0].key <= done:
            self._recent = [e for e in self._recent if e.key > done]
            self._fanouts, self._render = {}, _renderer()
        self._pass = list(self._watchers.values())
        self._pass.reverse()
        self._pass_newest = self._recent[-1].key
        self._behind = False

    def _go_on(self) -> None:
        self._flush_call = None
        self._flush(self._clock.seconds())

    def _hand_out(self, began: float) -> int:
        """
        Visit the pass's watchers until the slice is spent: each is handed
        the entries it was not, in the frames shared by every watcher handed
        the same.

        @return: how many watchers were sent frames.
        """
        if not self._recent:
            self._pass = []
            return 0
        newest = self._recent[-1].key
        visiting, watchers, fanouts = self._pass, self._watchers, self._fanouts
        seconds, until = self._clock.seconds, began + FLUSH_SLICE
        sent = 0
        # Most watchers were handed the same entries as the one before: the
        # same key object, and so the same fan-out, found without hashing;
        # and they follow the same channels: the same frames.
        last_seen: Any = False
        fanout: Fanout | None = None
        newest_sent: tuple[int, int] | None = None
        key: FramesKey | None = None
        data = b""
        while visiting:
            seat = visiting.pop()
            seen = seat.seen
            if seen is not last_seen:
                if seen == newest:
                    continue
                fanout = fanouts.get(seen)
                if fanout is None:
                    fanout = fanouts[seen] = self._fanout(seen)
                last_seen, key, newest_sent = seen, None, fanout.last
            assert fanout is not None
            if seat.steady:
                # Most watchers, most of the time: take() without its checks.
                if seat.frames_key is not key:
                    key = seat.frames_key
                    data = fanout.frames(key)
                seat.seen = seat.last = newest_sent
                if data:
                    seat.write(data)
                    sent += 1
                if seconds() > until:
                    break
                continue
            watcher = seat.watcher
            if watcher not in watchers:
                continue
            took = watcher.take(fanout)
            if took == SENT:
                sent += 1
            elif took == QUEUED:
                self._dirty[watcher] = None
            if seconds() > until:
                break
        return sent

    def _fanout(self, seen: tuple[int, int] | None) -> Fanout:
        """@return: the recent entries after C{seen} (all, without)."""
        entries = self._recent
        if seen is not None:
            at = len(entries)
            while at and entries[at - 1].key > seen:
                at -= 1
            entries = entries[at:]
        return Fanout(entries, self._render)

    # The subscription

    def connected(self, connection: _Subscription) -> None:
        """
        A new connection: subscribe on it, then read what was published
        while there was none, trying again (logged, backing off) until both
        are done or the connection is gone.
        """
        self._connection = connection
        if self._joining is not None:
            self._joining.stop()
        self._joining = Supervised(
            "live feed subscription",
            lambda: self._join(connection),
            self._clock,
            interval=None,
            backoff=self._retry,
            expected=(RedisUnavailable, txredisapi.ConnectionError),
            logger=log,
        )
        self._joining.start()

    def unsubscribed(self, connection: _Subscription) -> None:
        """The subscription is gone; hold what arrives until caught up again."""
        if connection is self._connection:
            self._connection = None
            self.live = False
            self._held = []
            if self._joining is not None:
                self._joining.stop()
                self._joining = None

    def published(self, message: str) -> None:
        """
        An entry (or a push's several) arrived on the subscription, or word
        that a private board's watchers must be admitted again.
        """
        try:
            revoked = revoked_channel(message)
            entries = [] if revoked else entries_from_message(message)
        except (ValueError, KeyError, TypeError):
            log.warn("ignoring a malformed feed message: {m!r}", m=message[:200])
            return
        if revoked:
            self._admit_again(lambda channel: channel == revoked)
        elif self._held is not None:
            self._held.extend(entries)
        else:
            self._deliver(entries)

    def _admit_again(self, which: Callable[[str], bool]) -> None:
        """Close the watchers of the channels C{which} picks."""
        self.revocations += 1
        for watcher in list(self._watchers):
            if any(which(channel) for channel in watcher.channels):
                watcher.admit_again()

    def read_waiting(self) -> None:
        """
        Read what waits on the subscription now, if a watcher is served:
        run (L{RedisService.before_replies}) before a command connection's
        replies are handed on.  On a node that answers webhooks too, the
        ingest script's reply and the message it published arrive together,
        and the webhook's code that follows the reply would otherwise run
        before the watchers are sent the commit.
        """
        connection = self._connection
        if self._watchers and connection is not None:
            read_waiting(connection)

    def _current(self, connection: _Subscription) -> bool:
        return connection is self._connection and bool(self.running)

    async def _join(self, connection: _Subscription) -> None:
        """
        Subscribe, unless this connection did already, and catch up: the
        step that L{connected} retries.
        """
        if not self._current(connection):
            return
        if self._subscribed is not connection:
            await connection.subscribe(LIVE_PUBSUB)
            self._subscribed = connection
        await self._catch_up(connection)

    async def _catch_up(self, connection: _Subscription) -> None:
        """
        Deliver what the global stream holds after the last entry delivered,
        a page at a time, then what was held meanwhile; then go live.  After
        an outage, the private boards' watchers are admitted again: word
        that one changed may have been published meanwhile, and lost.
        """
        again = self._last_id is not None
        if self._last_id is None:
            tail = await self.store.feed_tail(["global"], 1)
            if not self._current(connection):
                return
            self._start_after(tail)
        else:
            while True:
                entries = await self.store.feed_after(["global"], self._last_id)
                if not self._current(connection):
                    return
                self._deliver(entries)
                if len(entries) < FEED_LENGTH:
                    break
        held, self._held = self._held or [], None
        self._deliver(held)
        self.live = True
        if again:
            # Word that a board changed may have come while unsubscribed.
            self._admit_again(lambda channel: channel.startswith(BOARD_PREFIX))

    def _start_after(self, tail: list[FeedEntry]) -> None:
        """
        The first subscription starts after the feed's last entry: watchers
        replay what came before.  An empty feed starts before any id, or the
        next catch-up (after an outage that lost a message) would take a new
        starting point and skip what came in between.
        """
        if tail:
            self._set_last(tail[-1])
        else:
            self._last, self._last_id = (0, 0), "0-0"

    def _set_last(self, entry: FeedEntry) -> None:
        self._last, self._last_id = entry.key, entry.id

    def _deliver(self, entries: Iterable[FeedEntry]) -> None:
        """Hand the entries not delivered yet to the next flush."""
        fresh = False
        for entry in entries:
            if self._last is None or entry.key > self._last:
                self._recent.append(entry)
                self._set_last(entry)
                fresh = True
        if fresh:
            self._fanouts = {}
            self._behind = True
            self._schedule()

    def stopService(self) -> Deferred[None]:
        """
        Close every watcher with 1001 (going away), so that it reconnects to
        another node, and wait a moment for the closing handshakes.
        """
        Service.stopService(self)
        if self._joining is not None:
            self._joining.stop()
            self._joining = None
        if self._flush_call is not None and self._flush_call.active():
            self._flush_call.cancel()
        self._flush_call = None
        watchers, self._watchers = list(self._watchers), {}
        for watcher in watchers:
            watcher.going_away()
        if not watchers:
            return succeed(None)
        return deferLater(self._clock, 0.5, lambda: None)


__all__ = ["LiveBridge", "Subscribe"]
