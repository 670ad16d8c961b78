"""
Host accounts in Redis: links (one player per host account, one account per
host per player), and sign-ins in progress taken once.
"""

from __future__ import annotations

import pytest_twisted

from julytwisted.store import Store


@pytest_twisted.ensureDeferred
async def test_a_host_account_links_one_player(store: Store) -> None:
    """The first player linked keeps the account; the other is told who."""
    accounts = store.host_accounts
    assert await accounts.owner("github", "7") is None
    assert await accounts.link("Ada", "github", "7", "ada-gh") == "ada"
    assert await accounts.link("bob", "github", "7", "ada-gh") == "ada"
    assert await accounts.owner("github", "7") == "ada"
    assert await accounts.linked("bob") == []


@pytest_twisted.ensureDeferred
async def test_linking_another_account_of_a_host_replaces_it(store: Store) -> None:
    """A player has one account per host; the one replaced is free again."""
    accounts = store.host_accounts
    await accounts.link("ada", "gitlab", "1", "old")
    await accounts.link("ada", "github", "9", "gh")
    await accounts.link("ada", "gitlab", "2", "new")
    assert [(h.host, h.id, h.login) for h in await accounts.linked("ada")] == [
        ("github", "9", "gh"),
        ("gitlab", "2", "new"),
    ]
    assert await accounts.owner("gitlab", "1") is None


@pytest_twisted.ensureDeferred
async def test_a_flow_is_taken_once(store: Store) -> None:
    """A sign-in begun is found by its nonce once, then never again."""
    accounts = store.host_accounts
    await accounts.begin_flow("nonce", {"state": "s"}, 600)
    assert await accounts.take_flow("other") is None
    assert await accounts.take_flow("nonce") == {"state": "s"}
    assert await accounts.take_flow("nonce") is None
    assert not await store.redis.execute("KEYS", "*nonce*")


@pytest_twisted.ensureDeferred
async def test_tokens_kept_per_player_and_host(store: Store) -> None:
    """A sealed token is kept and read back per player and host."""
    accounts = store.host_accounts
    await accounts.keep_token("ada", "github", b"sealed-bytes")
    assert await accounts.token("ada", "github") == b"sealed-bytes"
    assert await accounts.token("ada", "gitlab") is None
