"""
Private boards against a real redis-server: creating, joining with a code up
to the cap, leaving, removal and rotation by the owner, the limits, and the
ranking of members by their points inside the board's dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import pytest_twisted

from julytwisted.errors import Conflict, Forbidden, InvalidInput, NotFound
from julytwisted.store import Store
from julytwisted.store import private_boards as pb
from tests.builders import IN_JULY, commit, ingest, project, push

GAME = "julython-2026"


async def players(store: Store, *names: str) -> None:
    for name in names:
        await store.create_player(name, name.title(), [f"{name}@example.com"])


async def make(store: Store, owner: str = "ada", **kwargs: object) -> pb.OwnedBoard:
    return await store.private_boards.create(
        owner,
        "Sprint",
        store.game(GAME),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest_twisted.ensureDeferred
async def test_create_and_join(store: Store) -> None:
    """The owner is the first member; a code joins, and joining twice is once."""
    await players(store, "ada", "bob")
    board = await make(store)
    assert board.members == 1 and board.owner == "ada"
    assert len(board.code) == 16 and len(board.token) >= 32
    game = store.game(GAME)
    assert (board.start, board.end) == (
        game.start.isoformat().replace("+00:00", "Z"),
        game.end.isoformat().replace("+00:00", "Z"),
    )
    joined = await store.private_boards.join("bob", board.code.lower(), store.now())
    assert joined.id == board.id and joined.members == 2
    again = await store.private_boards.join("BOB", board.code, store.now())
    assert again.members == 2
    assert [b.id for b in await store.private_boards.boards_of("bob")] == [board.id]


@pytest_twisted.ensureDeferred
async def test_cap(store: Store) -> None:
    """A board capped at 2 refuses a third with Conflict; nobody is lost."""
    await players(store, "ada", "bob", "cy")
    board = await make(store, cap=2)
    await store.private_boards.join("bob", board.code, store.now())
    with pytest.raises(Conflict, match="full"):
        await store.private_boards.join("cy", board.code, store.now())
    assert (await store.private_boards.board(board.id)).members == 2
    assert await store.private_boards.boards_of("cy") == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cap": 0}, "cap"),
        ({"cap": 1001}, "cap"),
        ({"start": datetime(2026, 6, 1, tzinfo=UTC)}, "inside"),
        ({"end": datetime(2026, 9, 1, tzinfo=UTC)}, "inside"),
        (
            {"start": IN_JULY, "end": IN_JULY - timedelta(days=1)},
            "after",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_board(store: Store, kwargs: dict[str, object], message: str) -> None:
    """A bad cap or dates are refused and no board is made."""
    await players(store, "ada")
    with pytest.raises(InvalidInput, match=message):
        await make(store, **kwargs)
    assert await store.private_boards.boards_of("ada") == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "a\x00b"])
@pytest_twisted.ensureDeferred
async def test_bad_name(store: Store, name: str) -> None:
    """A blank, long or control-character name is refused."""
    await players(store, "ada")
    with pytest.raises(InvalidInput):
        await store.private_boards.create("ada", name, store.game(GAME))


@pytest_twisted.ensureDeferred
async def test_owner_limit(store: Store) -> None:
    """The eleventh board of one owner is refused; the ten stay."""
    await players(store, "ada")
    for _ in range(pb.MAX_OWNED):
        await make(store)
    with pytest.raises(Conflict, match="own"):
        await make(store)
    assert len(await store.private_boards.boards_of("ada")) == pb.MAX_OWNED


@pytest_twisted.ensureDeferred
async def test_rotate_code(store: Store) -> None:
    """The old code stops working at once; only the owner rotates."""
    await players(store, "ada", "bob", "cy")
    board = await make(store)
    with pytest.raises(Forbidden):
        await store.private_boards.rotate_code("bob", board.id)
    rotated = await store.private_boards.rotate_code("ada", board.id)
    assert rotated.code != board.code
    with pytest.raises(NotFound):
        await store.private_boards.join("bob", board.code, store.now())
    await store.private_boards.join("cy", rotated.code, store.now())
    token = await store.private_boards.rotate_token("ada", board.id)
    assert not await store.private_boards.may_read(board.id, None, board.token)
    assert await store.private_boards.may_read(board.id, None, token.token)
    assert await store.private_boards.may_read(board.id, "cy", None)
    assert not await store.private_boards.may_read(board.id, "bob", "guess")


@pytest_twisted.ensureDeferred
async def test_remove_leave_delete(store: Store) -> None:
    """The owner removes, a member leaves, the owner cannot leave, delete ends all."""
    await players(store, "ada", "bob", "cy")
    board = await make(store)
    for who in ("bob", "cy"):
        await store.private_boards.join(who, board.code, store.now())
    with pytest.raises(Forbidden):
        await store.private_boards.remove_member("bob", board.id, "cy")
    await store.private_boards.remove_member("ada", board.id, "cy")
    await store.private_boards.leave("bob", board.id)
    with pytest.raises(Conflict):
        await store.private_boards.leave("ada", board.id)
    with pytest.raises(NotFound):
        await store.private_boards.leave("bob", board.id)
    await store.private_boards.join("bob", board.code, store.now())
    await store.private_boards.delete("ada", board.id)
    with pytest.raises(NotFound):
        await store.private_boards.board(board.id)
    with pytest.raises(NotFound):
        await store.private_boards.join("cy", board.code, store.now())
    assert await store.private_boards.boards_of("bob") == []


@pytest_twisted.ensureDeferred
async def test_standings_in_dates(store: Store) -> None:
    """
    Only members' commits in the game whose own time is inside the dates
    count, 1 each and 10 for each project; ties go to who got there first.
    """
    await players(store, "ada", "bob", "cy")
    start = datetime(2026, 7, 5, tzinfo=UTC)
    end = datetime(2026, 7, 12, tzinfo=UTC)
    board = await make(store, start=start, end=end)
    await store.private_boards.join("bob", board.code, store.now())
    inside, outside = (
        datetime(2026, 7, 6, tzinfo=UTC),
        datetime(2026, 7, 13, tzinfo=UTC),
    )
    # Pushed within a week of their making: older, they would be held as
    # stale until an admin accepted them.
    arrived = datetime(2026, 7, 12, 12, tzinfo=UTC)
    await ingest(store, push(commit("b1", "bob@example.com", inside)), arrived)
    await ingest(
        store,
        push(
            commit("a1", "ada@example.com", inside),
            commit("a2", "ada@example.com", outside),
            commit("a3", "ada@example.com", start - timedelta(microseconds=1)),
            proj=project("ada", "other"),
        ),
        arrived,
    )
    await ingest(store, push(commit("c1", "cy@example.com", inside)), arrived)
    found = await store.private_boards.standings(board.id, fresh=True)
    assert [(s.username, s.points, s.commits, s.rank) for s in found.standings] == [
        ("bob", 11, 1, 1),
        ("ada", 11, 1, 2),
    ]
    await ingest(
        store, push(commit("a4", "ada@example.com", end - timedelta(seconds=1)))
    )
    found = await store.private_boards.standings(board.id, fresh=True)
    assert [(s.username, s.points, s.projects) for s in found.standings] == [
        ("ada", 22, 2),
        ("bob", 11, 1),
    ]


@pytest_twisted.ensureDeferred
async def test_standings_kept_briefly(store: Store) -> None:
    """
    A kept ranking is served until a member joins or leaves, or a member's
    commit counts on the board (its page, told of the commit live, reads
    the ranking again at once); others' commits keep it.
    """
    await players(store, "ada", "bob")
    board = await make(store)
    first = await store.private_boards.standings(board.id)
    await ingest(store, push(commit("b1", "bob@example.com")))
    assert await store.private_boards.standings(board.id) == first
    await ingest(store, push(commit("a1", "ada@example.com")))
    now = await store.private_boards.standings(board.id)
    assert [(s.username, s.points) for s in now.standings] == [("ada", 11)]
    await store.private_boards.join("bob", board.code, store.now())
    now = await store.private_boards.standings(board.id)
    assert [(s.username, s.points) for s in now.standings] == [
        ("bob", 11),
        ("ada", 11),
    ]


@pytest_twisted.ensureDeferred
async def test_unknown(store: Store) -> None:
    """Ids and codes of no board, however spelled, are 404s."""
    await players(store, "ada")
    for bad in ("nope", "a" * 10, "../x", ""):
        with pytest.raises(NotFound):
            await store.private_boards.standings(bad)
    with pytest.raises(NotFound):
        await store.private_boards.join("ada", "A" * 16, store.now())
    with pytest.raises(NotFound):
        await store.private_boards.join("ada", "short", store.now())
