"""
The store against a real redis-server: ingest, scoring on every board,
idempotency, players, pages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor

from julytwisted.config import RedisAddress
from julytwisted.errors import Conflict, InvalidInput, NotFound
from julytwisted.game.games import Game
from julytwisted.redis_service import RedisService
from julytwisted.store import Store, all_of, language_slug
from tests.builders import IN_JULY, commit, ingest, project, push, sha


async def ada(
    store: Store, location: str | None = "Austin", team: str | None = None
) -> None:
    await store.create_player(
        "ada", "Ada L.", ["Ada@Example.com"], location, team, approve_team=True
    )


async def points(store: Store, kind: str, member: str) -> int:
    return (await store.detail(kind, member)).points


@pytest_twisted.ensureDeferred
async def test_worked_example_two_commits(store: Store) -> None:
    """Two commits by a known player with a location: 12 points each."""
    await ada(store)
    result = await ingest(store, push(commit("a"), commit("b")))
    assert result.new == (sha("a"), sha("b"))
    assert await points(store, "people", "ada") == 12
    assert await points(store, "projects", "gh-ada-engine") == 12
    assert await points(store, "locations", "austin") == 12


@pytest_twisted.ensureDeferred
async def test_worked_example_one_commit(store: Store) -> None:
    """One commit by a known player with a location: 11 points each."""
    await ada(store)
    await ingest(store, push(commit("a")))
    for kind, member in [
        ("people", "ada"),
        ("projects", "gh-ada-engine"),
        ("locations", "austin"),
    ]:
        assert await points(store, kind, member) == 11


@pytest_twisted.ensureDeferred
async def test_redelivery_counts_once(store: Store) -> None:
    """The same push delivered ten times scores once and is new once."""
    await ada(store)
    first = await ingest(store, push(commit("a"), commit("b")))
    for _ in range(9):
        again = await ingest(store, push(commit("a"), commit("b")))
        assert again.new == ()
    assert first.new == (sha("a"), sha("b"))
    assert await points(store, "people", "ada") == 12
    page = await store.commits()
    assert len(page.models) == 2


@pytest_twisted.ensureDeferred
async def test_two_nodes_racing_count_once(
    store: Store, redis_socket: Path, tmp_path: Path, clock: object
) -> None:
    """
    Two processes' clients sending the same push at once: it is new to exactly
    one of them and scores once.
    """
    other = RedisService(
        reactor, RedisAddress(None, None, str(redis_socket), 0, None), tmp_path
    )
    other.startService()
    try:
        second = Store(other.client, clock, ())  # type: ignore[arg-type]
        await ada(store)
        # A minute apart: fifty in one minute would be a burst, held.
        the_push = push(
            *(commit(str(i), when=IN_JULY + timedelta(minutes=i)) for i in range(50))
        )
        results = await all_of(
            [ingest(node, the_push) for _ in range(3) for node in (store, second)]
        )
    finally:
        await other.stopService()
    assert sorted(len(r.new) for r in results) == [0, 0, 0, 0, 0, 50]
    assert await points(store, "people", "ada") == 60


@pytest_twisted.ensureDeferred
async def test_orphan_scores_project_only(store: Store) -> None:
    """A commit whose e-mail matches no player scores for the project only."""
    await ada(store)
    await ingest(store, push(commit("x", email="stranger@example.com")))
    assert await points(store, "projects", "gh-ada-engine") == 11
    assert await points(store, "people", "ada") == 0
    people = await store.board("people")
    assert people.models == ()
    stored = await store.commit(sha("x"))
    assert stored.username is None


@pytest_twisted.ensureDeferred
async def test_commit_outside_every_game(store: Store) -> None:
    """A commit in November is stored and shown but scores nowhere."""
    await ada(store)
    november = datetime(2026, 11, 5, tzinfo=UTC)
    result = await ingest(store, push(commit("late", when=november)))
    assert result.new == (sha("late"),)
    assert (await store.commit(sha("late"))).games == ()
    assert await points(store, "people", "ada") == 0
    assert len((await store.commits()).models) == 1


@pytest_twisted.ensureDeferred
async def test_commit_scores_in_every_game_holding_it(
    redis: RedisService, clock: object
) -> None:
    """A commit inside a custom game and Julython, pushed then, scores in both."""
    sprint = Game(
        "PyCon Sprint",
        datetime(2026, 7, 9, tzinfo=UTC),
        datetime(2026, 7, 12, tzinfo=UTC),
    )
    store = Store(redis.client, clock, (sprint,))  # type: ignore[arg-type]
    await ada(store)
    await ingest(store, push(commit("a")), datetime(2026, 7, 11, tzinfo=UTC))
    assert (await store.detail("people", "ada", "pycon-sprint")).points == 11
    assert (await store.detail("people", "ada", "julython-2026")).points == 11
    slugs = [g.slug for g in (await store.list_games()).models]
    assert "pycon-sprint" in slugs and "julython-2026" in slugs


@pytest_twisted.ensureDeferred
async def test_first_commit_bonus_per_project(store: Store) -> None:
    """A second project earns the player another bonus; the same one does not."""
    await ada(store)
    await ingest(store, push(commit("a")))
    await ingest(store, push(commit("b")))
    await ingest(store, push(commit("c"), proj=project("ada", "other")))
    player = await store.player("ada")
    assert player.points == 11 + 1 + 11
    assert player.projects == 2
    assert player.commits == 3


@pytest_twisted.ensureDeferred
async def test_languages_board(store: Store) -> None:
    """Each distinct language of a commit's files gets a point per commit."""
    await ingest(store, push(commit("a", files=("a.py", "b.py", "c.txt"))))
    page = await store.board("languages")
    assert [(m.name, m.points) for m in page.models] == [("Python", 1)]
    assert language_slug("C++") == "cpp" and language_slug("C#") == "csharp"


@pytest_twisted.ensureDeferred
async def test_team_scores_when_approved(store: Store) -> None:
    """An approved team scores like a location."""
    await ada(store, team="Snakes")
    await ingest(store, push(commit("a"), commit("b")))
    team = await store.detail("teams", "snakes")
    assert team.points == 12 and team.approved is True


@pytest_twisted.ensureDeferred
async def test_ties_go_to_who_got_there_first(store: Store) -> None:
    """Two players on equal points rank in the order they reached them."""
    await store.create_player("zed", "Zed", ["zed@example.com"])
    await store.create_player("amy", "Amy", ["amy@example.com"])
    await ingest(store, push(commit("z", email="zed@example.com")))
    await ingest(store, push(commit("a", email="amy@example.com")))
    page = await store.board("people")
    assert [(m.username, m.points, m.rank) for m in page.models] == [
        ("zed", 11, 1),
        ("amy", 11, 2),
    ]


@pytest_twisted.ensureDeferred
async def test_board_pages(store: Store) -> None:
    """A board pages by cursor until next is None, highest points first."""
    for i in range(5):
        email = f"p{i}@example.com"
        await store.create_player(f"p{i}", f"P{i}", [email])
        await ingest(
            store, push(*(commit(f"{i}-{n}", email=email) for n in range(i + 1)))
        )
    first = await store.board("people", limit=2)
    assert [m.username for m in first.models] == ["p4", "p3"]
    assert first.next == "2"
    last = await store.board("people", offset=4, limit=2)
    assert [m.username for m in last.models] == ["p0"]
    assert last.next is None


@pytest_twisted.ensureDeferred
async def test_commit_pages_are_stable(store: Store) -> None:
    """Commit pages by cursor see every commit once, newest first."""
    await ingest(store, push(*(commit(str(i)) for i in range(7))))
    seen, cursor = [], None
    while True:
        page = await store.commits(cursor=cursor, limit=3)
        seen.extend(m.hash for m in page.models)
        if page.next is None:
            break
        cursor = page.next
    assert seen == [sha(str(i)) for i in reversed(range(7))]


@pytest_twisted.ensureDeferred
async def test_message_stored_verbatim(store: Store) -> None:
    """A message holding markup is stored byte for byte."""
    message = "<script>alert('x')</script> & done"
    await ingest(store, push(commit("a", message=message)))
    assert (await store.commit(sha("a"))).message == message


@pytest_twisted.ensureDeferred
async def test_create_player_conflicts_change_nothing(store: Store) -> None:
    """A taken username or e-mail is refused and nothing of the request stays."""
    await ada(store)
    with pytest.raises(Conflict):
        await store.create_player("ada", "Other", ["new@example.com"])
    with pytest.raises(Conflict):
        await store.create_player("bob", "Bob", ["bob@example.com", "ADA@example.com"])
    with pytest.raises(NotFound):
        await store.player("bob")
    # bob@example.com was not claimed by the refused request.
    await store.create_player("bob", "Bob", ["bob@example.com"])


@pytest_twisted.ensureDeferred
async def test_create_player_refuses_bad_input(store: Store) -> None:
    """Malformed usernames and e-mails are refused with a clear error."""
    with pytest.raises(InvalidInput, match="username"):
        await store.create_player("no spaces", "X", [])
    with pytest.raises(InvalidInput, match="e-mail"):
        await store.create_player("x", "X", ["not-an-email"])


@pytest_twisted.ensureDeferred
async def test_deactivated_project_stores_nothing(store: Store) -> None:
    """A push to a deactivated project is refused and stores no commit."""
    await ingest(store, push(commit("a")))
    await store.set_project_active("gh-ada-engine", False)
    result = await ingest(store, push(commit("b")))
    assert not result.active and result.new == ()
    with pytest.raises(NotFound):
        await store.commit(sha("b"))


@pytest_twisted.ensureDeferred
async def test_deactivating_unknown_project(store: Store) -> None:
    """Deactivating a project that does not exist is NotFound and creates none."""
    with pytest.raises(NotFound):
        await store.set_project_active("gh-nobody-nothing", False)
    with pytest.raises(NotFound):
        await store.detail("projects", "gh-nobody-nothing")


@pytest_twisted.ensureDeferred
async def test_slug_collision_gets_suffix(store: Store) -> None:
    """Two repositories whose slugs collide get distinct projects."""
    one = project("a-b", "c")
    other = project("a", "b-c")
    assert one.slug == other.slug
    r1 = await ingest(store, push(commit("1"), proj=one))
    r2 = await ingest(store, push(commit("2"), proj=other))
    assert r1.project == "gh-a-b-c" and r2.project == "gh-a-b-c-2"


@pytest_twisted.ensureDeferred
async def test_unknown_game(store: Store) -> None:
    """A board of a game that does not exist is NotFound."""
    with pytest.raises(NotFound):
        await store.board("people", "no-such-game")
