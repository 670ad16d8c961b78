"""
C{GET /api/v1/boards/<id>} over real HTTP against a real redis-server: read
with the board's token (header or query) or a member's API token, refused
without one or with another, revalidated by its ETag.
"""

from __future__ import annotations

import json

import pytest_twisted
import treq

from julytwisted.store import Store
from tests.builders import commit, ingest, push


async def get(
    server: str, path: str, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    response = await treq.get(server + path, headers=headers or None)
    found = {
        k.decode().lower(): v[-1].decode()
        for k, v in response.headers.getAllRawHeaders()
    }
    return response.code, found, await response.content()


@pytest_twisted.ensureDeferred
async def test_read_with_tokens(server: str, store: Store) -> None:
    """
    The board's token reads it as a header or in the query, a member's API
    token too; no token is 401, a stranger's or an old one 403: the
    ranking never reaches them.
    """
    for name in ("ada", "bob", "eve"):
        await store.create_player(name, name, [f"{name}@example.com"])
    board = await store.private_boards.create("ada", "Sprint", store.game())
    await store.private_boards.join("bob", board.code, store.now())
    await ingest(store, push(commit("b1", "bob@example.com")))
    path = f"/api/v1/boards/{board.id}"
    code, headers, body = await get(server, path, Authorization=f"Bearer {board.token}")
    assert code == 200
    found = json.loads(body)
    assert [(s["username"], s["points"]) for s in found["standings"]] == [
        ("bob", 11),
        ("ada", 0),
    ]
    assert "token" not in found and "code" not in found
    assert headers["cache-control"] == "private, max-age=30"
    assert headers["access-control-allow-origin"] == "*"
    code, _, again = await get(server, f"{path}?token={board.token}")
    assert (code, again) == (200, body)
    member = await store.create_token("bob")
    code, _, again = await get(server, path, Authorization=f"Bearer {member}")
    assert (code, again) == (200, body)
    code, headers, body = await get(server, path)
    assert code == 401 and b"ranking" not in body and "www-authenticate" in headers
    stranger = await store.create_token("eve")
    for token in (stranger, "guess", board.code):
        code, _, body = await get(server, path, Authorization=f"Bearer {token}")
        assert code == 403 and b"bob" not in body
    await store.private_boards.rotate_token("ada", board.id)
    code, _, _ = await get(server, f"{path}?token={board.token}")
    assert code == 403


@pytest_twisted.ensureDeferred
async def test_etag(server: str, store: Store) -> None:
    """A matching If-None-Match is a 304 with no body; a join changes the tag."""
    for name in ("ada", "bob"):
        await store.create_player(name, name, [f"{name}@example.com"])
    board = await store.private_boards.create("ada", "Sprint", store.game())
    auth = f"Bearer {board.token}"
    path = f"/api/v1/boards/{board.id}"
    _, headers, _ = await get(server, path, Authorization=auth)
    tag = headers["etag"]
    code, headers, body = await get(
        server, path, Authorization=auth, **{"If-None-Match": tag}
    )
    assert (code, body) == (304, b"") and headers["etag"] == tag
    await store.private_boards.join("bob", board.code, store.now())
    code, headers, _ = await get(
        server, path, Authorization=auth, **{"If-None-Match": tag}
    )
    assert code == 200 and headers["etag"] != tag


@pytest_twisted.ensureDeferred
async def test_unknown_board(server: str, store: Store) -> None:
    """No such board is 404 with any token, never a 500."""
    for board_id in ("abcdefghij", "x", "%0A"):
        code, _, _ = await get(server, f"/api/v1/boards/{board_id}?token=t")
        assert code == 404, board_id
