"""
The password hasher's own pool: bounded, fair across clients, and as slow for
an unknown username as for a known one.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList

from julytwisted.auth.hashing import PasswordHasher
from julytwisted.errors import InvalidInput, JulythonError, Overloaded


@pytest_twisted.async_yield_fixture
async def hasher() -> AsyncIterator[PasswordHasher]:
    service = PasswordHasher(reactor, threads=1, waiting=3, per_client=2)
    service.startService()
    yield service
    service.stopService()


def gate() -> tuple[threading.Event, Callable[[], str]]:
    """Work that blocks its thread until the event is set."""
    opened = threading.Event()

    def work() -> str:
        opened.wait(10)
        return "done"

    return opened, work


@pytest_twisted.ensureDeferred
async def test_hash_then_verify(hasher: PasswordHasher) -> None:
    """A hash made in the pool verifies its password and no other."""
    stored = await hasher.hash("correct horse", "10.0.0.1")
    assert await hasher.verify("correct horse", stored, "10.0.0.1")
    assert not await hasher.verify("wrong horse!", stored, "10.0.0.1")


@pytest_twisted.ensureDeferred
async def test_weak_password_refused_before_any_work(hasher: PasswordHasher) -> None:
    """Strength is checked on the reactor: a short password costs no scrypt."""
    with pytest.raises(InvalidInput):
        await hasher.hash("short", "10.0.0.1")
    assert hasher.waiting == 0


@pytest_twisted.ensureDeferred
async def test_unknown_username_costs_a_hash(hasher: PasswordHasher) -> None:
    """
    Checking against no stored hash is refused, after as much work as a
    real check: the timing does not tell which usernames exist (before, an
    unknown name answered in 1 ms and a known one in 30).
    """
    stored = await hasher.hash("correct horse", "a")
    assert not await hasher.verify("correct horse", None, "a")

    async def timed(stored: str | None) -> float:
        start = time.perf_counter()
        await hasher.verify("guess guess", stored, "a")
        return time.perf_counter() - start

    known = statistics.median([await timed(stored) for _ in range(5)])
    unknown = statistics.median([await timed(None) for _ in range(5)])
    assert unknown > known / 3


@pytest_twisted.ensureDeferred
async def test_bounded_in_all_and_per_client(hasher: PasswordHasher) -> None:
    """
    One thread runs; a client may have two waiting, all clients three;
    past that the work is refused at once with a 503, and nothing queued
    before it is lost.
    """
    opened, work = gate()
    running = hasher.submit("a", work)
    waiting = [hasher.submit("a", work), hasher.submit("a", work)]
    with pytest.raises(Overloaded) as refused:
        hasher.submit("a", work)
    assert isinstance(refused.value, JulythonError)
    assert (refused.value.status, refused.value.retry_after) == (503, 1.0)
    waiting.append(hasher.submit("b", work))
    with pytest.raises(Overloaded):
        hasher.submit("c", work)
    assert hasher.waiting == 3
    opened.set()
    results = await DeferredList([running, *waiting], consumeErrors=True)
    assert [r for _, r in results] == ["done"] * 4
    assert hasher.waiting == 0


@pytest_twisted.ensureDeferred
async def test_waiting_work_served_round_robin() -> None:
    """A client's burst waits behind itself: another client's one check
    runs after at most one more of the burst."""
    hasher = PasswordHasher(reactor, threads=1, waiting=10, per_client=10)
    hasher.startService()
    try:
        opened, block = gate()
        order: list[str] = []

        def named(name: str) -> Callable[[], None]:
            return lambda: order.append(name)

        first = hasher.submit("storm", block)
        burst = [hasher.submit("storm", named(f"storm{i}")) for i in range(4)]
        honest = hasher.submit("honest", named("honest"))
        opened.set()
        done: list[Deferred[object]] = [first, *burst, honest]
        await DeferredList(done)
        assert order.index("honest") <= 1
    finally:
        hasher.stopService()


@pytest_twisted.ensureDeferred
async def test_no_more_threads_than_configured() -> None:
    """However much is submitted, no more than C{threads} run at once."""
    hasher = PasswordHasher(reactor, threads=2, waiting=50, per_client=50)
    hasher.startService()
    try:
        lock = threading.Lock()
        now = peak = 0

        def work() -> None:
            nonlocal now, peak
            with lock:
                now += 1
                peak = max(peak, now)
            time.sleep(0.01)
            with lock:
                now -= 1

        await DeferredList([hasher.submit("a", work) for _ in range(20)])
        assert peak == 2
    finally:
        hasher.stopService()
