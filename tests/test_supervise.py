"""
Supervised loops on a L{Clock}: a failure is logged and backed off, never
the end of the loop; expected failures are logged once per outage; stopping
cuts a wait short and waits for the step that runs.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.logger import Logger, LogLevel, formatEvent

from julytwisted.errors import RedisUnavailable
from julytwisted.supervise import Backoff, Supervised
from tests.faults import Injected

#: No jitter: the waits are exact.
EXACT = Backoff(base=1.0, cap=4.0, jitter=0.0)


class Steps:
    """A step that records when it ran and fails as told, in order."""

    def __init__(self, clock: Clock, *outcomes: Exception | None) -> None:
        self.clock = clock
        self.outcomes = list(outcomes)
        self.times: list[float] = []

    async def __call__(self) -> None:
        self.times.append(self.clock.seconds())
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome


def loop(
    steps: Any, clock: Clock, events: list[dict[str, Any]], **kw: Any
) -> Supervised:
    """A loop named C{ticking} logging into C{events}."""
    logger = Logger(namespace="test", observer=events.append)
    return Supervised("ticking", steps, clock, logger=logger, **kw)


def test_unexpected_failure_is_logged_with_its_traceback_and_retried() -> None:
    """
    A step failing with an error nobody expects is logged with its
    traceback, run again after the backoff's delay, and the loop goes on at
    its interval once it succeeds.
    """
    clock, events = Clock(), []
    steps = Steps(clock, Injected("boom"))
    ticking = loop(steps, clock, events, interval=10.0, backoff=EXACT)
    ticking.start()
    [failed] = events
    assert failed["log_failure"].check(Injected)
    assert failed["log_failure"].getTraceback()
    assert formatEvent(failed).startswith("ticking failed (1 in a row)")
    clock.advance(0.9)
    assert steps.times == [0.0]
    clock.advance(0.1)
    clock.advance(10)
    assert steps.times == [0.0, 1.0, 11.0]
    assert ticking.running and ticking.failures == 0
    assert "going again after 1 failures" in formatEvent(events[-1])


def test_expected_failures_back_off_and_are_logged_once() -> None:
    """
    Expected failures (Redis away) wait 1, 2, 4 and then 4 seconds (the
    cap), and only the first is logged, in one line at info level.
    """
    clock, events = Clock(), []
    away = [RedisUnavailable("Redis is not connected") for _ in range(4)]
    steps = Steps(clock, *away)
    ticking = loop(
        steps, clock, events, backoff=EXACT, interval=60.0, expected=(RedisUnavailable,)
    )
    ticking.start()
    clock.pump([1] * 12)
    assert steps.times == [0.0, 1.0, 3.0, 7.0, 11.0]
    assert [e["log_level"] for e in events] == [LogLevel.info, LogLevel.info]
    assert "log_failure" not in events[0]
    assert "Redis is not connected; trying again" in formatEvent(events[0])
    assert "going again after 4 failures" in formatEvent(events[1])


def test_until_one_success() -> None:
    """Without an interval, a step is retried until it succeeds, then no more."""
    clock, events = Clock(), []
    steps = Steps(clock, Injected("one"), Injected("two"))
    once = loop(steps, clock, events, interval=None, backoff=EXACT)
    once.start()
    clock.pump([1] * 20)
    assert steps.times == [0.0, 1.0, 3.0]
    assert not once.running
    assert len([e for e in events if "log_failure" in e]) == 2


def test_stop_waits_for_the_step_running() -> None:
    """Stopped while a step runs, the loop fires its stop when the step ends."""
    clock, events = Clock(), []
    running: Deferred[None] = Deferred()
    ticking = loop(lambda: running, clock, events, interval=1.0)
    ticking.start()
    stopped = ticking.stop()
    assert not stopped.called
    running.callback(None)
    assert stopped.called
    assert not ticking.running and events == []


def test_stop_cuts_a_wait_short() -> None:
    """Stopped while it waits, the loop stops at once and runs no more."""
    clock, events = Clock(), []
    steps = Steps(clock)
    ticking = loop(steps, clock, events, interval=5.0)
    ticking.start()
    assert ticking.stop().called
    assert clock.getDelayedCalls() == []
    clock.advance(10)
    assert steps.times == [0.0]


def test_start_later_and_again() -> None:
    """
    C{now=False} waits an interval first; a running loop cannot be started
    twice; a stopped one starts again.
    """
    clock, events = Clock(), []
    steps = Steps(clock)
    ticking = loop(steps, clock, events, interval=5.0)
    ticking.start(now=False)
    with pytest.raises(RuntimeError, match="ticking is already running"):
        ticking.start()
    clock.advance(5)
    ticking.stop()
    ticking.start()
    assert steps.times == [5.0, 5.0]


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    """Delays double from the base to the cap, each cut by up to the jitter."""
    backoff = Backoff(base=0.5, cap=3.0, jitter=0.5)
    for attempt, raw in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (30, 3.0)]:
        for _ in range(50):
            assert raw / 2 <= backoff.delay(attempt) <= raw
