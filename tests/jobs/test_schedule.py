"""
Periodic jobs: when each occurrence is due, that several nodes queue it once,
that a failed check is retried soon, that the nightly recount covers the
games made at run time, the orphan sweep against a real redis-server, and
the options.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import Clock, deferLater
from twisted.logger import formatEvent
from twisted.python.usage import UsageError

from julytwisted.config import Options
from julytwisted.game.games import Game
from julytwisted.jobs.queue import Queue
from julytwisted.jobs.schedule import Plan, Scheduler, nightly_recounts, sweeps
from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.builders import commit, ingest, push
from tests.faults import injected, raise_once
from tests.store.test_store_members import assert_boards_match_tally

AT = time(3, 0)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "slugs"),
    [
        ("2026-07-15T03:00", ["julython-2026"]),
        ("2026-07-15T03:59", ["julython-2026"]),
        # Over an hour late: that night's recount is left out.
        ("2026-07-15T04:01", []),
        ("2026-07-15T02:59", []),
        # The night after the game ended: counted once more.
        ("2026-08-02T03:10", ["julython-2026"]),
        ("2026-08-03T03:10", []),
        ("2026-01-10T03:10", ["j-an-ulython-2026"]),
        ("2026-04-10T03:10", []),
    ],
)
def test_nightly_recount_due(now: str, slugs: list[str]) -> None:
    """The recount of the games running at 03:00, or ended the day before."""
    due = nightly_recounts(AT, utc(now))
    assert [o.args for o in due] == [(slug,) for slug in slugs]
    for occurrence in due:
        assert occurrence.job == "recount"
        assert occurrence.key.endswith(now[:10] + "T03:00")


def test_sweep_slots() -> None:
    """One sweep per interval, named by the interval's start."""
    hour = timedelta(hours=1)
    [a] = sweeps(hour, utc("2026-07-15T10:00"))
    [b] = sweeps(hour, utc("2026-07-15T10:59"))
    [c] = sweeps(hour, utc("2026-07-15T11:00"))
    assert a == b != c
    assert a.key == "adopt_all_orphans:2026-07-15T10:00"
    assert sweeps(timedelta(minutes=15), utc("2026-07-15T10:44"))[0].key.endswith(
        "10:30"
    )


def test_plan_off() -> None:
    """A plan with both jobs off has nothing due, ever."""
    assert Plan(None, None).due(utc("2026-07-15T03:00")) == []


async def queued(redis: RedisService) -> list[tuple[str, str]]:
    """The queued jobs' names and arguments, sorted."""
    keys = []
    cursor = "0"
    while True:
        cursor, found = await redis.client.execute(
            "SCAN", cursor, "MATCH", "j:q:job:*", "COUNT", 1000
        )
        keys += found
        if cursor == "0":
            break
    jobs = [await redis.client.execute("HMGET", k, "name", "args") for k in keys]
    return sorted((name, args) for name, args in jobs)


@pytest_twisted.ensureDeferred
async def test_three_nodes_queue_each_occurrence_once(redis: RedisService) -> None:
    """
    Three schedulers (three nodes) ticking through a night queue one recount
    and one sweep an hour, never more.
    """
    clock = Clock()
    clock.advance(utc("2026-07-15T02:59:50").timestamp())
    queue = Queue(redis.client, reactor)
    nodes = [Scheduler(queue, Plan(AT, timedelta(hours=1)), clock) for _ in range(3)]
    for _ in range(8):  # 02:59:50 to 04:00:50, a tick every 10 minutes
        for node in nodes:
            await node.tick()
        clock.advance(600)
    jobs = await queued(redis)
    assert jobs == [
        ("adopt_all_orphans", "[]"),
        ("adopt_all_orphans", "[]"),
        ("adopt_all_orphans", "[]"),
        ("recount", '["julython-2026"]'),
    ]
    assert (await queue.stats())["queued"] == 4


@pytest_twisted.ensureDeferred
async def test_scheduler_service_ticks_at_start(redis: RedisService) -> None:
    """Started, a node queues what is due at once; stopped, it stops."""
    clock = Clock()
    clock.advance(utc("2026-07-15T03:05").timestamp())
    scheduler = Scheduler(
        Queue(redis.client, reactor), Plan(AT, None), clock, interval=30
    )
    scheduler.startService()
    for _ in range(50):
        if await queued(redis):
            break
        await deferLater(reactor, 0.05, lambda: None)
    scheduler.stopService()
    assert await queued(redis) == [("recount", '["julython-2026"]')]


@pytest_twisted.ensureDeferred
async def test_scheduler_outlives_an_unexpected_error(
    redis: RedisService, no_logged_errors: list[dict[str, Any]]
) -> None:
    """
    A check whose enqueue fails with an error nobody expects is logged with
    its traceback and tried again within a second, not at the next interval:
    the occurrence is queued.
    """
    clock = Clock()
    clock.advance(utc("2026-07-15T03:05").timestamp())
    queue = Queue(redis.client, reactor)
    calls = raise_once(queue, "enqueue")
    scheduler = Scheduler(queue, Plan(AT, None), clock, interval=30)
    scheduler.startService()
    try:
        [event] = injected(no_logged_errors)
        assert "scheduling periodic jobs failed" in formatEvent(event)
        clock.advance(1)
        for _ in range(50):
            if await queued(redis):
                break
            await deferLater(reactor, 0.05, lambda: None)
        assert await queued(redis) == [("recount", '["julython-2026"]')]
        assert len(calls) == 2
    finally:
        await scheduler.stopService()


@pytest_twisted.ensureDeferred
async def test_a_tick_that_fails_logs_and_returns(
    redis: RedisService, no_logged_errors: list[dict[str, Any]]
) -> None:
    """
    A tick by hand never fails: an unexpected error is logged with its
    traceback, and the next tick queues what is due.
    """
    clock = Clock()
    clock.advance(utc("2026-07-15T03:05").timestamp())
    queue = Queue(redis.client, reactor)
    raise_once(queue, "enqueue")
    scheduler = Scheduler(queue, Plan(AT, None), clock)
    await scheduler.tick()
    [event] = injected(no_logged_errors)
    assert "scheduling periodic jobs failed" in formatEvent(event)
    assert await queued(redis) == []
    await scheduler.tick()
    assert await queued(redis) == [("recount", '["julython-2026"]')]


@pytest_twisted.ensureDeferred
async def test_nightly_recount_covers_the_games_made_at_run_time(
    store: Store, redis: RedisService, clock: Clock
) -> None:
    """
    The nightly recount covers the games kept in Redis, reloaded at each
    check: one made at run time on another node and running, one that ended
    within the day before; not one yet to start.
    """
    other = Store(store.redis, clock, ())
    now = store.now()
    for game in [
        Game("Meetup Sprint", now, utc("2026-07-20T00:00")),
        Game("Short", now, now + timedelta(hours=6)),
        Game("Later", utc("2026-07-20T00:00"), utc("2026-07-22T00:00")),
    ]:
        await other.games.create(game, "admin")
    clock.advance((utc("2026-07-16T03:05") - now).total_seconds())
    scheduler = Scheduler(
        Queue(redis.client, reactor), Plan(AT, None), clock, store.games
    )
    await scheduler.tick()
    assert await queued(redis) == [
        ("recount", '["julython-2026"]'),
        ("recount", '["meetup-sprint"]'),
        ("recount", '["short"]'),
    ]


@pytest_twisted.ensureDeferred
async def test_orphan_sweep_adopts_once(store: Store) -> None:
    """
    Orphans whose e-mail a player owns, but whose adoption job never ran,
    are adopted by the sweep, once however often it runs; unowned orphans
    stay orphans.
    """
    await ingest(store, push(commit("a1", email="ada@example.com"), commit("a2")))
    await ingest(store, push(commit("z1", email="zed@example.com")))
    await store.create_player("ada", "Ada", ["ada@example.com"], "Austin")
    assert (await store.player("ada")).commits == 0
    assert await store.adopt_all_orphans() == {"emails": 1, "adopted": 2}
    assert await store.adopt_all_orphans() == {"emails": 0, "adopted": 0}
    assert (await store.player("ada")).commits == 2
    assert (await store.commit(commit("z1").hash)).username is None
    await assert_boards_match_tally(store)


def test_schedule_options() -> None:
    """--recount-at HH:MM or off; --sweep-every MINUTES or off."""

    def config(*argv: str) -> tuple[object, object]:
        options = Options(environ={})
        options.parseOptions(list(argv))
        return options.config.recount_at, options.config.sweep_every

    assert config() == (time(3, 0), 60)
    assert config("--recount-at", "23:30", "--sweep-every", "15") == (time(23, 30), 15)
    assert config("--recount-at", "off", "--sweep-every", "off") == (None, None)
    for option, bad in [
        ("--recount-at", "24:00"),
        ("--recount-at", "3am"),
        ("--sweep-every", "0"),
        ("--sweep-every", "soon"),
    ]:
        with pytest.raises(UsageError, match=option):
            Options(environ={}).parseOptions([option, bad])
