"""
Players changing over time, against a real redis-server: e-mails added and
their orphans adopted, moves between locations and teams, team approval,
credentials.  After each change every board must equal the reference tally
of L{julytwisted.scoring} over the stored commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import pytest_twisted

from julytwisted.errors import Conflict, NotFound
from julytwisted.game import scoring
from julytwisted.models import WaitingTeam
from julytwisted.store import Store
from tests.builders import commit, ingest, project, push


async def all_commits(store: Store) -> list[dict[str, Any]]:
    models, cursor = [], None
    while True:
        page = await store.commits(cursor=cursor, limit=100)
        models += page.models
        if page.next is None:
            return models
        cursor = page.next


def scored_commit(
    c: Any, location: str | None = None, team: str | None = None
) -> scoring.ScoredCommit:
    """
    @param c: a stored commit (L{all_commits}).
    @param location: its author's location, if any.
    @param team: its author's approved team, if any.
    @return: the commit as the reference tally takes it.
    """
    return scoring.ScoredCommit(
        hash=c.hash,
        project=c.project,
        timestamp=datetime.fromisoformat(c.timestamp),
        username=c.username,
        location=location,
        team=team,
        languages=tuple(c.languages),
        arrived=datetime.fromisoformat(c.arrived) if c.arrived else None,
        pending=c.pending,
        rejected=c.rejected is not None,
        review=c.review,
    )


async def assert_boards_match_tally(
    store: Store, game_slug: str = "julython-2026"
) -> None:
    """Every board of the game equals the tally of the stored commits."""
    game = store.game(game_slug)
    scored = []
    for c in await all_commits(store):
        location = team = None
        if c.username:
            player = await store.player(c.username, game_slug)
            location = player.location
            if player.team:
                t = await store.detail("teams", player.team, game_slug)
                team = player.team if t.approved else None
        scored.append(scored_commit(c, location, team))
    expected = scoring.tally(scored, game, store.late_grace)
    for board in scoring.BOARDS:
        page = await store.board(board, game_slug, limit=100)
        key = (
            "name"
            if board == "languages"
            else ("username" if board == "people" else "slug")
        )
        actual = {getattr(m, key): m.points for m in page.models}
        assert actual == expected[board], board


async def two_players(store: Store) -> None:
    await store.create_player(
        "ada", "Ada", ["ada@example.com"], "Austin", "Snakes", True
    )
    await store.create_player(
        "bob", "Bob", ["bob@example.com"], "Austin", "Snakes", True
    )
    await ingest(store, push(commit("a1"), commit("a2")))
    await ingest(store, push(commit("b1", email="bob@example.com")))
    await ingest(
        store, push(commit("b2", email="bob@example.com"), proj=project("bob", "x"))
    )


@pytest_twisted.ensureDeferred
async def test_setup_matches_tally(store: Store) -> None:
    """Ingest alone keeps every board equal to the tally."""
    await two_players(store)
    await assert_boards_match_tally(store)
    assert (await store.detail("locations", "austin")).points == 4 + 20


@pytest_twisted.ensureDeferred
async def test_moving_location_moves_exactly_the_players_points(store: Store) -> None:
    """Ada moves to Boston: Boston gets her 12, Austin keeps only Bob's."""
    await two_players(store)
    games = await store.move_member("ada", "locations", "Boston")
    assert games == ["julython-2026"]
    assert (await store.detail("locations", "boston")).points == 12
    # Bob's commits: one on ada/engine, one on bob/x.
    assert (await store.detail("locations", "austin")).points == 22
    assert (await store.player("ada")).location == "boston"
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_moving_back_and_to_none(store: Store) -> None:
    """A move back restores the board; leaving every location removes the points."""
    await two_players(store)
    await store.move_member("ada", "locations", "Boston")
    await store.move_member("ada", "locations", "Austin")
    assert (await store.detail("locations", "austin")).points == 4 + 20
    await store.move_member("ada", "locations", None)
    assert (await store.player("ada")).location is None
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_move_twice_changes_nothing_more(store: Store) -> None:
    """The same move made twice (a retried job) leaves the boards as once."""
    await two_players(store)
    await store.move_member("bob", "teams", "Pythons", approve=True)
    assert await store.move_member("bob", "teams", "Pythons", approve=True) == []
    assert (await store.detail("teams", "pythons")).points == 22
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_unapproved_team_scores_nothing_until_approved(store: Store) -> None:
    """A player's new unapproved team has no points until an admin approves it."""
    await two_players(store)
    await store.move_member("ada", "teams", "Newts")
    assert (await store.detail("teams", "newts")).points == 0
    assert await store.teams_waiting() == [WaitingTeam("newts", "Newts")]
    await ingest(store, push(commit("a3")))
    assert (await store.detail("teams", "newts")).points == 0
    await assert_boards_match_tally(store)
    await store.approve_team("newts")
    assert (await store.detail("teams", "newts")).points == 13
    assert await store.teams_waiting() == []
    await assert_boards_match_tally(store)
    await store.approve_team("newts", approved=False)
    assert (await store.detail("teams", "newts")).points == 0
    assert [t.slug for t in await store.teams_waiting()] == ["newts"]
    with pytest.raises(NotFound):
        await store.approve_team("nobody")


@pytest_twisted.ensureDeferred
async def test_adoption_scores_orphans_once(store: Store) -> None:
    """An added e-mail's orphans are scored once, however often adoption runs."""
    await two_players(store)
    await ingest(
        store,
        push(
            commit("o1", email="ada@work.example"),
            commit("o2", email="ada@work.example"),
        ),
    )
    await ingest(
        store, push(commit("o3", email="ada@work.example"), proj=project("ada", "new"))
    )
    before = (await store.player("ada")).points
    assert await store.add_email("ada", "Ada@Work.example") == 3
    assert await store.adopt_orphans("ada@work.example") == 3
    assert await store.adopt_orphans("ada@work.example") == 0
    player = await store.player("ada")
    assert player.points == before + 2 + 11
    assert player.commits == 5 and player.projects == 2
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_add_email_conflicts(store: Store) -> None:
    """Another player's e-mail is refused; one's own again is harmless."""
    await two_players(store)
    with pytest.raises(Conflict):
        await store.add_email("bob", "ada@example.com")
    assert await store.add_email("ada", "ada@example.com") == 0
    with pytest.raises(NotFound):
        await store.add_email("nobody", "x@example.com")
    assert await store.emails("ada") == ["ada@example.com"]


@pytest_twisted.ensureDeferred
async def test_tokens_are_stored_hashed(store: Store) -> None:
    """A token names its owner; only its hash is in Redis."""
    await two_players(store)
    token = await store.create_token("ada")
    assert await store.token_owner(token) == "ada"
    assert await store.token_owner(token + "x") is None
    keys = await store.redis.execute("KEYS", "*")
    assert not any(token in k for k in keys)


@pytest_twisted.ensureDeferred
async def test_tokens_never_read_as_options(store: Store) -> None:
    """
    Every token starts C{jt_}: recognisable when it leaks, and never with
    C{-}, which a command line (C{python_proxy.py --token ...}) would take
    for an option; before, one token in 64 did and the shell refused it.
    """
    await two_players(store)
    tokens = [await store.create_token("ada") for _ in range(200)]
    assert all(t.startswith("jt_") and len(t) == 46 for t in tokens)
    assert len(set(tokens)) == 200


@pytest_twisted.ensureDeferred
async def test_password_hash_stored_at_creation(store: Store) -> None:
    """A password hash given at creation can be read back; none otherwise."""
    await store.create_player("cy", "Cy", ["cy@example.com"], password_hash="scrypt$x")
    assert await store.password_hash("cy") == "scrypt$x"
    assert await store.password_hash("nobody") is None


@pytest_twisted.ensureDeferred
async def test_recount_repairs_tampering(store: Store) -> None:
    """A board tampered with is restored by recount, which says what it fixed."""
    await two_players(store)
    assert (await store.recount("julython-2026")).repaired == ()
    key = "j:game:julython-2026:board:people"
    await store.redis.execute("ZADD", key, "999.5", "ada")
    await store.redis.execute("ZADD", key, "5.5", "mallory")
    await store.redis.execute("ZREM", "j:game:julython-2026:board:locations", "austin")
    result = await store.recount("julython-2026")
    assert result.commits == 4
    assert sorted((r.board, r.member, r.was, r.now) for r in result.repaired) == [
        ("locations", "austin", 0, 24),
        ("people", "ada", 999, 12),
        ("people", "mallory", 5, 0),
    ]
    await assert_boards_match_tally(store)
    assert (await store.recount("julython-2026")).repaired == ()


@pytest_twisted.ensureDeferred
async def test_creating_a_player_never_approves_an_existing_team(store: Store) -> None:
    """
    approve_team at creation approves only a team the creation makes: an
    existing unapproved team stays so (its members' points are counted only
    by approve_team, which recounts them).  Found by the state machine.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"], None, "Snakes")
    await ingest(store, push(commit("a1")))
    await store.create_player("bob", "Bob", ["bob@example.com"], None, "Snakes", True)
    assert (await store.detail("teams", "snakes")).approved is False
    await assert_boards_match_tally(store)
    await store.approve_team("snakes")
    assert (await store.detail("teams", "snakes")).points == 11
    await assert_boards_match_tally(store)
