"""
The credential-failure budget against a real Redis: only failures spend it,
per address and per username, shared by every client of the same Redis, and
closed (not open) while Redis is away.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import deferLater

from julytwisted.config import Limit, RedisAddress
from julytwisted.errors import RateLimited, RedisUnavailable
from julytwisted.redis_service import RedisService
from julytwisted.store.failures import FailureBudget


@pytest_twisted.ensureDeferred
async def test_checks_spend_nothing(redis: RedisService) -> None:
    """However many attempts are checked, an honest player spends nothing."""
    budget = FailureBudget(redis.client, Limit(2, 60.0), Limit(2, 60.0))
    for _ in range(50):
        await budget.check("10.0.0.1", "ada")


@pytest_twisted.ensureDeferred
async def test_an_address_gets_its_burst_of_failures(redis: RedisService) -> None:
    """
    Three failures at once are allowed from one address, whatever usernames
    they name; the third spends the last, and the next attempt is refused
    before its password is checked, with the wait.
    """
    budget = FailureBudget(redis.client, Limit(3, 60.0), Limit(100, 60.0))
    await budget.spend("10.0.0.1", "ada")
    await budget.spend("10.0.0.1", "bob")
    with pytest.raises(RateLimited) as spent:
        await budget.spend("10.0.0.1", "cy")
    assert spent.value.limit == "credentials"
    assert 19 < spent.value.retry_after <= 20
    with pytest.raises(RateLimited):
        await budget.check("10.0.0.1", "dee")
    await budget.check("10.0.0.2", "dee")


@pytest_twisted.ensureDeferred
async def test_a_username_is_guarded_from_every_address(redis: RedisService) -> None:
    """
    Guesses at one username from many addresses spend its own budget
    (case-insensitively); other usernames are untouched.
    """
    budget = FailureBudget(redis.client, Limit(100, 60.0), Limit(2, 60.0))
    await budget.spend("10.0.0.1", "Ada")
    with pytest.raises(RateLimited):
        await budget.spend("10.0.0.2", "ada")
    with pytest.raises(RateLimited):
        await budget.check("10.0.0.3", "ADA")
    await budget.check("10.0.0.3", "bob")


@pytest_twisted.ensureDeferred
async def test_the_budget_refills(redis: RedisService) -> None:
    """At the steady rate, one more failure is allowed each interval."""
    budget = FailureBudget(redis.client, Limit(1, 0.2), Limit(100, 60.0))
    with pytest.raises(RateLimited):
        await budget.spend("10.0.0.1")
    await deferLater(reactor, 0.25, lambda: None)
    await budget.check("10.0.0.1")


@pytest_twisted.ensureDeferred
async def test_shared_by_every_node(redis: RedisService) -> None:
    """Two budgets on one Redis (two nodes) spend the same failures."""
    one = FailureBudget(redis.client, Limit(2, 60.0), Limit(100, 60.0))
    two = FailureBudget(redis.client, Limit(2, 60.0), Limit(100, 60.0))
    await one.spend("10.0.0.1")
    with pytest.raises(RateLimited):
        await two.spend("10.0.0.1")


@pytest_twisted.ensureDeferred
async def test_closed_while_redis_is_away(tmp_path: Path) -> None:
    """
    With Redis gone, an attempt is not checked unguarded: the budget says
    Redis is unavailable (503), where request rate limits let requests by.
    """
    dead = RedisService(
        reactor, RedisAddress(None, None, str(tmp_path / "none.sock")), tmp_path
    )
    dead.client.timeout = 0.2
    dead.startService()
    try:
        budget = FailureBudget(dead.client)
        with pytest.raises(RedisUnavailable):
            await budget.check("10.0.0.1", "ada")
        with pytest.raises(RedisUnavailable):
            await budget.spend("10.0.0.1", "ada")
    finally:
        await dead.stopService()
