"""
The private boards' JSON-RPC methods over real HTTP against a real
redis-server: create, join by code up to the cap, standings for members and
token holders only, removal, rotation, leaving and deletion.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted

from julytwisted.store import Store
from tests.builders import commit, ingest, push
from tests.test_methods import rpc


async def bearer(store: Store, username: str) -> str:
    await store.create_player(username, username.title(), [f"{username}@example.com"])
    return "Bearer " + await store.create_token(username)


async def ok(server: str, method: str, params: Any, auth: str | None) -> Any:
    code, answer = await rpc(server, method, params, auth)
    assert code == 200 and "result" in answer, answer
    return answer["result"]


async def error(server: str, method: str, params: Any, auth: str | None) -> int:
    _, answer = await rpc(server, method, params, auth)
    assert "error" in answer, answer
    code: int = answer["error"]["code"]
    return code


@pytest_twisted.ensureDeferred
async def test_board_over_rpc(server: str, store: Store) -> None:
    """The whole life of a board through JSON-RPC, each refusal clear."""
    ada, bob, cy = [await bearer(store, n) for n in ("ada", "bob", "cy")]
    board = await ok(
        server,
        "julython.createBoard",
        {"name": "Sprint", "start": "2026-07-05T00:00Z", "cap": 2},
        ada,
    )
    assert board["start"] == "2026-07-05T00:00:00Z" and board["cap"] == 2
    assert await error(server, "julython.createBoard", {"name": "x"}, None) == 401
    joined = await ok(server, "julython.joinBoard", {"code": board["code"]}, bob)
    assert joined == {k: v for k, v in board.items() if k not in ("code", "token")} | {
        "members": 2
    }
    assert "code" not in joined
    assert await error(server, "julython.joinBoard", {"code": board["code"]}, cy) == 409
    await ingest(store, push(commit("b1", "bob@example.com")))
    standings = await ok(server, "julython.boardStandings", {"id": board["id"]}, bob)
    assert [(s["username"], s["points"]) for s in standings["standings"]] == [
        ("bob", 11),
        ("ada", 0),
    ]
    assert (
        await error(server, "julython.boardStandings", {"id": board["id"]}, cy) == 403
    )
    by_token = await ok(
        server,
        "julython.boardStandings",
        {"id": board["id"], "token": board["token"]},
        None,
    )
    assert by_token == standings
    assert (
        await error(
            server,
            "julython.removeBoardMember",
            {"id": board["id"], "username": "ada"},
            bob,
        )
        == 403
    )
    await ok(
        server,
        "julython.removeBoardMember",
        {"id": board["id"], "username": "bob"},
        ada,
    )
    rotated = await ok(server, "julython.rotateBoardCode", {"id": board["id"]}, ada)
    assert rotated["code"] != board["code"] and rotated["token"] == board["token"]
    assert await error(server, "julython.joinBoard", {"code": board["code"]}, cy) == 404
    await ok(server, "julython.joinBoard", {"code": rotated["code"]}, cy)
    fresh = await ok(
        server, "julython.rotateBoardCode", {"id": board["id"], "token": True}, ada
    )
    assert fresh["token"] != board["token"]
    old = {"id": board["id"], "token": board["token"]}
    assert await error(server, "julython.boardStandings", old, None) == 403
    await ok(server, "julython.leaveBoard", {"id": board["id"]}, cy)
    assert await error(server, "julython.leaveBoard", {"id": board["id"]}, ada) == 409
    await ok(server, "julython.deleteBoard", {"id": board["id"]}, ada)
    assert await error(server, "julython.boardStandings", old, None) == 404


@pytest_twisted.ensureDeferred
async def test_bad_board_params(server: str, store: Store) -> None:
    """Bad names, dates and caps are -32602, and no board is made."""
    ada = await bearer(store, "ada")
    for params in (
        {"name": ""},
        {"name": "x", "cap": 1001},
        {"name": "x", "cap": "ten"},
        {"name": "x", "start": "yesterday"},
        {"name": "x", "start": "2026-07-05T00:00"},
        {"name": "x", "end": "2027-01-01T00:00Z"},
        {"name": "x", "game": "no-such-game"},
    ):
        code = await error(server, "julython.createBoard", params, ada)
        assert code in (-32602, 404), params
    assert await store.private_boards.boards_of("ada") == []
