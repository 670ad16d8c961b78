"""
Verified e-mails and pending claims against a real redis-server: a claim
scores nothing and blocks nobody, the one who confirms an e-mail gets it,
links work once, an admin's vouching ends every claim, and the start-up
migration makes the e-mails claimed before this change pending and takes
back what they scored.  After each change every board equals the reference
tally of L{julytwisted.scoring} over the stored commits.
"""

from __future__ import annotations

import pytest
import pytest_twisted

from julytwisted.errors import Conflict, InvalidInput, InvalidLink, NotFound
from julytwisted.models import EmailMigration
from julytwisted.store import MAX_PENDING, Store
from tests.builders import commit, ingest, push
from tests.store.test_store_members import assert_boards_match_tally

GAME = "julython-2026"


async def points(store: Store, username: str) -> int:
    return (await store.player(username)).points


async def players(store: Store) -> None:
    """Ada, vouched for by an admin; Mallory, who signed up with a claim."""
    await store.create_player("ada", "Ada", ["ada@example.com"])
    await store.create_player(
        "mallory", "Mallory", [], claims=["mallory@example.com"], password_hash="x"
    )


@pytest_twisted.ensureDeferred
async def test_a_claim_scores_nothing(store: Store) -> None:
    """
    Mallory claims Ada's verified e-mail and an orphan one: neither scores for
    her, not at the push, not when adoption runs; Ada keeps scoring hers.
    """
    await players(store)
    await ingest(store, push(commit("w1", email="ada@work.example")))
    assert await store.claim_email("mallory", "Ada@Example.com") is True
    assert await store.claim_email("mallory", "ada@work.example") is True
    await ingest(store, push(commit("a1"), commit("w2", email="ada@work.example")))
    assert await store.adopt_orphans("ada@work.example") == 0
    assert await points(store, "mallory") == 0
    assert await points(store, "ada") == 11
    assert await store.pending_emails("mallory") == [
        "ada@example.com",
        "ada@work.example",
        "mallory@example.com",
    ]
    assert await store.emails("ada") == ["ada@example.com"]
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_the_one_who_confirms_gets_it(store: Store) -> None:
    """
    Two players claim one e-mail; the one who confirms it gets it and its
    orphans, and it leaves the other's pending list, whose link then fails.
    """
    await players(store)
    await store.create_player("bob", "Bob", [], claims=["bob@example.com"])
    await ingest(store, push(commit("w1", email="work@example.com")))
    await store.claim_email("mallory", "work@example.com")
    await store.claim_email("bob", "work@example.com")
    hers = await store.claim_nonce("mallory", "work@example.com")
    his = await store.claim_nonce("bob", "work@example.com")
    assert hers and his and hers != his
    assert await store.confirm_email("bob", "work@example.com", his) == 1
    assert await store.pending_emails("mallory") == ["mallory@example.com"]
    assert await store.pending_emails("bob") == ["bob@example.com"]
    assert await store.emails("bob") == ["bob@example.com", "work@example.com"]
    with pytest.raises(InvalidLink):
        await store.confirm_email("mallory", "work@example.com", hers)
    assert await store.adopt_orphans("work@example.com") == 1
    assert await points(store, "bob") == 11
    assert await points(store, "mallory") == 0
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_a_link_works_once_and_only_the_latest(store: Store) -> None:
    """
    A claim's earlier link dies when a new one is made; the latest works
    once; a made-up or empty nonce never does.  A refusal changes nothing.
    """
    await players(store)
    first = await store.claim_nonce("mallory", "mallory@example.com")
    latest = await store.claim_nonce("mallory", "mallory@example.com")
    assert first and latest
    for wrong in (first, "made-up", ""):
        with pytest.raises(InvalidLink):
            await store.confirm_email("mallory", "mallory@example.com", wrong)
    assert await store.pending_emails("mallory") == ["mallory@example.com"]
    assert await store.confirm_email("mallory", "mallory@example.com", latest) == 0
    with pytest.raises(InvalidLink):
        await store.confirm_email("mallory", "mallory@example.com", latest)
    assert await store.pending_emails("mallory") == []
    assert await store.emails("mallory") == ["mallory@example.com"]
    assert await store.claim_nonce("mallory", "mallory@example.com") is None


@pytest_twisted.ensureDeferred
async def test_confirming_another_players_verified_email(store: Store) -> None:
    """
    A link for an e-mail another player has verified since is refused as
    taken: the e-mail stays theirs.
    """
    await players(store)
    await store.claim_email("mallory", "ada@example.com")
    nonce = await store.claim_nonce("mallory", "ada@example.com")
    assert nonce
    with pytest.raises(Conflict):
        await store.confirm_email("mallory", "ada@example.com", nonce)
    assert await store.redis.execute("GET", "j:email:ada@example.com") == "ada"
    assert await store.emails("ada") == ["ada@example.com"]


@pytest_twisted.ensureDeferred
async def test_vouching_ends_every_claim(store: Store) -> None:
    """An admin's vouching verifies at once and ends the claims of others."""
    await players(store)
    await store.claim_email("mallory", "ada@work.example")
    nonce = await store.claim_nonce("mallory", "ada@work.example")
    assert nonce
    await store.add_email("ada", "ada@work.example")
    assert await store.pending_emails("mallory") == ["mallory@example.com"]
    with pytest.raises(InvalidLink):
        await store.confirm_email("mallory", "ada@work.example", nonce)
    assert await store.emails("ada") == ["ada@example.com", "ada@work.example"]
    assert not await store.redis.execute("EXISTS", "j:email-claims:ada@work.example")


@pytest_twisted.ensureDeferred
async def test_claims_refused_and_what_they_keep(store: Store) -> None:
    """
    Claiming one's own verified e-mail asks for no link; a malformed e-mail,
    an unknown player and one claim too many are refused, changing nothing.
    """
    await players(store)
    assert await store.claim_email("ada", "ada@example.com") is False
    assert await store.claim_email("mallory", "mallory@example.com") is True
    with pytest.raises(InvalidInput):
        await store.claim_email("mallory", "not-an-email")
    with pytest.raises(NotFound):
        await store.claim_email("nobody", "x@example.com")
    for n in range(1, MAX_PENDING):
        await store.claim_email("mallory", f"m{n}@example.com")
    with pytest.raises(Conflict, match="waiting for confirmation"):
        await store.claim_email("mallory", "one-more@example.com")
    pending = await store.pending_emails("mallory")
    assert len(pending) == MAX_PENDING and "one-more@example.com" not in pending
    assert await store.pending_emails("ada") == []


@pytest_twisted.ensureDeferred
async def test_removing_a_claim(store: Store) -> None:
    """
    A pending e-mail can be withdrawn, which kills its link, but not one's
    last e-mail, pending or verified.
    """
    await players(store)
    with pytest.raises(Conflict, match="only e-mail"):
        await store.remove_email("mallory", "mallory@example.com")
    await store.claim_email("mallory", "ada@example.com")
    nonce = await store.claim_nonce("mallory", "ada@example.com")
    assert nonce
    with pytest.raises(NotFound):
        await store.remove_email("ada", "mallory@example.com")
    await store.remove_email("mallory", "ada@example.com")
    assert await store.emails("mallory") == ["mallory@example.com"]
    assert await store.emails("ada") == ["ada@example.com"]
    with pytest.raises(InvalidLink):
        await store.confirm_email("mallory", "ada@example.com", nonce)
    await store.claim_email("ada", "ada@work.example")
    await store.remove_email("ada", "ada@example.com")
    assert await store.emails("ada") == ["ada@work.example"]
    with pytest.raises(Conflict, match="only e-mail"):
        await store.remove_email("ada", "ada@work.example")


@pytest_twisted.ensureDeferred
async def test_sign_up_claims_conflict_with_nothing(store: Store) -> None:
    """
    A player made with a claim of someone's verified e-mail is made (the
    answer does not tell that the e-mail is registered); it stays theirs.
    """
    await players(store)
    await store.create_player("eve", "Eve", [], claims=["ada@example.com"])
    assert await store.pending_emails("eve") == ["ada@example.com"]
    assert await store.redis.execute("GET", "j:email:ada@example.com") == "ada"
    with pytest.raises(Conflict):
        await store.create_player("eva", "Eva", ["ada@example.com"])


@pytest_twisted.ensureDeferred
async def test_mail_goes_only_to_verified_emails(store: Store) -> None:
    """
    A player's mail goes to their verified e-mails: by username all of them,
    by e-mail that one; a pending e-mail or an unknown login gets nothing.
    """
    await players(store)
    await store.add_email("ada", "ada@work.example")
    assert await store.mail_to("Ada") == (
        "ada",
        ["ada@example.com", "ada@work.example"],
    )
    assert await store.mail_to(" ADA@work.example ") == ("ada", ["ada@work.example"])
    assert await store.mail_to("mallory") is None
    assert await store.mail_to("mallory@example.com") is None
    assert await store.mail_to("nobody") is None
    assert await store.mail_to("no body!") is None


@pytest_twisted.ensureDeferred
async def test_reset_links_work_once(store: Store) -> None:
    """
    A password reset sets the hash once, with the latest link only, and the
    link lives an hour at most.
    """
    await players(store)
    first = await store.reset_nonce("Mallory")
    latest = await store.reset_nonce("mallory")
    ttl = await store.redis.execute("TTL", "j:reset:mallory")
    assert 3590 <= ttl <= 3600
    for wrong in (first, "made-up", ""):
        with pytest.raises(InvalidLink):
            await store.reset_password("mallory", wrong, "scrypt$new")
    assert await store.password_hash("mallory") == "x"
    await store.reset_password("mallory", latest, "scrypt$new")
    assert await store.password_hash("mallory") == "scrypt$new"
    with pytest.raises(InvalidLink):
        await store.reset_password("mallory", latest, "scrypt$again")
    assert await store.password_hash("mallory") == "scrypt$new"


async def legacy_player(
    store: Store, username: str, emails: list[str], password: bool
) -> None:
    """A player as kept before e-mails were verified: one set of e-mails."""
    await store.create_player(username, username.title(), emails)
    await store.redis.execute(
        "RENAME", f"j:player:{username}:verified", f"j:player:{username}:emails"
    )
    if password:
        await store.redis.execute("HSET", f"j:auth:{username}", "password", "x")


@pytest_twisted.ensureDeferred
async def test_migration_makes_typed_emails_pending(store: Store) -> None:
    """
    E-mails a player typed before this change become pending, and the
    commits they scored with them return to orphans: removing the e-mail's
    mapping alone would not do (the recount counts each commit for the
    player it names), but once they are orphans, the recount of their games
    takes the points back.  A player an admin made keeps their e-mails and
    points.  Confirming the e-mail then brings the commits back.
    """
    await legacy_player(store, "mallory", ["ada@example.com"], password=True)
    await legacy_player(store, "bob", ["bob@example.com"], password=False)
    await ingest(store, push(commit("w1", email="ada@work.example")))
    await store.redis.execute("SADD", "j:player:mallory:emails", "ada@work.example")
    await store.redis.execute("SET", "j:email:ada@work.example", "mallory")
    assert await store.adopt_orphans("ada@work.example") == 1
    await ingest(store, push(commit("a1"), commit("b1", email="bob@example.com")))
    assert await points(store, "mallory") == 12

    await store.redis.execute("DEL", "j:email:ada@example.com")
    assert (await store.recount(GAME)).repaired == ()
    await store.redis.execute("SET", "j:email:ada@example.com", "mallory")

    migrated = await store.migrate_emails()
    assert migrated == EmailMigration(2, 2, 2, (GAME,))
    assert await store.pending_emails("mallory") == [
        "ada@example.com",
        "ada@work.example",
    ]
    assert await store.redis.execute("GET", "j:email:ada@example.com") is None
    assert await store.emails("bob") == ["bob@example.com"]
    assert await store.pending_emails("bob") == []
    repaired = {(r.board, r.member) for r in (await store.recount(GAME)).repaired}
    assert ("people", "mallory") in repaired
    assert await points(store, "mallory") == 0
    assert await points(store, "bob") == 11
    await assert_boards_match_tally(store)
    assert await store.migrate_emails() == EmailMigration(0, 0, 0, ())

    nonce = await store.claim_nonce("mallory", "ada@example.com")
    assert nonce
    assert await store.confirm_email("mallory", "ada@example.com", nonce) == 1
    assert await store.adopt_orphans("ada@example.com") == 1
    assert await points(store, "mallory") == 11
    await assert_boards_match_tally(store)
