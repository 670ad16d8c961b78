"""
The one check of credentials every door uses, against a real Redis and the
password hasher's own pool: the failure budget guards every kind of
credentials, and is consulted before any password is hashed.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet.address import IPv4Address
from twisted.web.test.requesthelper import DummyRequest

from julytwisted.auth.accounts import SignUps
from julytwisted.auth.authenticator import (
    Authenticator,
    Principal,
    limit_by_principal,
)
from julytwisted.auth.hashing import PasswordHasher
from julytwisted.config import Limit
from julytwisted.errors import Conflict, RateLimited
from julytwisted.redis_service import RedisService
from julytwisted.rpc import Credentials
from julytwisted.store import Store
from julytwisted.store.failures import FailureBudget
from julytwisted.store.ratelimit import ClientAddress, RateLimiter


def request(peer: str = "203.0.113.9") -> DummyRequest:
    made = DummyRequest([b""])
    made.client = IPv4Address("TCP", peer, 4321)
    return made


def authenticator(
    redis: RedisService,
    store: Store,
    hasher: PasswordHasher,
    admin_token: str | None = "admin-secret",
) -> Authenticator:
    """Three failures per address, a hundred per username."""
    budget = FailureBudget(redis.client, Limit(3, 60.0), Limit(100, 60.0))
    return Authenticator(store, admin_token, hasher, budget, ClientAddress())


async def make_ada(store: Store, hasher: PasswordHasher) -> None:
    hashed = await hasher.hash("correct horse", "setup")
    await store.create_player("ada", "Ada", ["ada@example.com"], password_hash=hashed)


@pytest_twisted.ensureDeferred
async def test_passwords_within_the_budget(
    redis: RedisService, store: Store, hasher: PasswordHasher
) -> None:
    """
    The right password proves the player (any case of the name) and spends
    nothing; wrong ones spend the address's budget, the last of it answered
    429 at once; past it no password is hashed, the right one included.
    """
    await make_ada(store, hasher)
    check = authenticator(redis, store, hasher)
    right = Credentials("basic", username="Ada", password="correct horse")
    for _ in range(5):
        assert await check(request(), right) == Principal("ada")
    wrong = Credentials("params", username="ada", password="wrong horse")
    assert await check(request(), wrong) is None
    assert await check(request(), wrong) is None
    with pytest.raises(RateLimited):
        await check(request(), wrong)
    runs = hasher.runs
    with pytest.raises(RateLimited) as refused:
        await check(request(), right)
    assert refused.value.limit == "credentials" and refused.value.retry_after > 0
    assert hasher.runs == runs
    assert await check(request("198.51.100.1"), right) == Principal("ada")


@pytest_twisted.ensureDeferred
async def test_an_unknown_username_is_hashed_too(
    redis: RedisService, store: Store, hasher: PasswordHasher
) -> None:
    """A username nobody has costs a check against the dummy hash, and a failure."""
    await make_ada(store, hasher)
    check = authenticator(redis, store, hasher)
    runs = hasher.runs
    nobody = Credentials("basic", username="nobody", password="correct horse")
    assert await check(request(), nobody) is None
    assert hasher.runs > runs
    assert await check(request(), nobody) is None
    with pytest.raises(RateLimited):
        await check(request(), nobody)


@pytest_twisted.ensureDeferred
async def test_tokens_within_the_budget(
    redis: RedisService, store: Store, hasher: PasswordHasher
) -> None:
    """
    The admin token and a player's API token prove their principal; a
    made-up token spends the budget, past which even the admin token is not
    looked at; the admin token names no player for uploads.
    """
    await make_ada(store, hasher)
    token = await store.create_token("ada")
    check = authenticator(redis, store, hasher)
    assert await check.bearer(request(), "admin-secret") == Principal(None, True)
    assert await check(request(), Credentials("bearer", token=token)) == Principal(
        "ada"
    )
    assert await check.bearer(request(), "made-up") is None
    assert await check.bearer(request(), "") is None
    with pytest.raises(RateLimited):
        await check.bearer(request(), "made-up too")
    with pytest.raises(RateLimited):
        await check.bearer(request(), "admin-secret")
    with pytest.raises(RateLimited):
        await check.check_admin_token(request(), "admin-secret")


@pytest_twisted.ensureDeferred
async def test_the_admin_token_typed_in(
    redis: RedisService, store: Store, hasher: PasswordHasher
) -> None:
    """
    The admin pages' and the REST API's check: the token or not; without
    one configured, nothing is the admin token and guesses spend all the
    same.
    """
    check = authenticator(redis, store, hasher)
    assert await check.check_admin_token(request(), "admin-secret")
    assert not await check.check_admin_token(request(), "admin-secre")
    off = authenticator(redis, store, hasher, admin_token=None)
    assert not await off.check_admin_token(request("198.51.100.1"), "")
    assert not await off.check_admin_token(request("198.51.100.1"), "admin-secret")
    with pytest.raises(RateLimited):
        await off.check_admin_token(request("198.51.100.1"), "admin-secret")


@pytest_twisted.ensureDeferred
async def test_the_rpc_limit_counts_principals_else_addresses(
    redis: RedisService,
) -> None:
    """
    limit_by_principal counts a proved principal on its own allowance and
    anything else (no user, wrong credentials) on its address's.
    """
    limiter = RateLimiter(redis.client, {"rpc": Limit(1, 60.0)})
    admit = limit_by_principal(limiter, "rpc")
    assert await admit(request(), Principal("ada")) is None
    assert await admit(request(), Principal("ada")) is not None
    assert await admit(request(), Principal("bob")) is None
    assert await admit(request(), Principal(None, admin=True)) is None
    assert await admit(request(), None) is None
    assert await admit(request(), None) is not None
    assert await admit(request(), "not a principal") is not None
    assert await admit(request("198.51.100.1"), None) is None


@pytest_twisted.ensureDeferred
async def test_sign_ups_share_a_limit_and_tell_no_emails(
    redis: RedisService, store: Store, hasher: PasswordHasher
) -> None:
    """
    Sign-ups from one address share the signup limit, which admit() counts
    for the doors that make accounts otherwise; an e-mail another player
    has is never said to be taken (the new account's claim stays pending and
    scores nothing; the owner keeps it), where a taken username is said.
    """
    limiter = RateLimiter(redis.client, {"signup": Limit(3, 3600.0)})
    sign_ups = SignUps(store, hasher, limiter)
    await make_ada(store, hasher)
    eve = await sign_ups.sign_up(request(), "eve", "correct horse", "ada@example.com")
    assert eve.username == "eve"
    assert await store.emails("ada") == ["ada@example.com"]
    assert await store.pending_emails("ada") == []
    assert await store.pending_emails("eve") == ["ada@example.com"]
    with pytest.raises(Conflict, match="username"):
        await sign_ups.sign_up(request(), "ada", "correct horse", "a@example.org")
    await sign_ups.admit(request())
    with pytest.raises(RateLimited, match="sign-ups from your address") as refused:
        await sign_ups.sign_up(request(), "fay", "correct horse", "fay@example.com")
    assert refused.value.retry_after > 0
    fay = await sign_ups.sign_up(
        request("198.51.100.1"), "fay", "correct horse", "fay@example.com"
    )
    assert await store.pending_emails(fay.username) == ["fay@example.com"]
