"""
The private boards' pages over a real Site and Redis: make a board, join it
with its code, see its ranking as a member or with its token, and the
owner's tools; a stranger sees nothing of it.
"""

from __future__ import annotations

import re

import pytest_twisted

from julytwisted.store import Store
from tests.builders import commit, ingest, push
from tests.htmlcheck import check_page
from tests.pages.test_accounts import Visitor


async def player(server: str, store: Store, name: str) -> Visitor:
    visitor = Visitor(server)
    await visitor.sign_up(name)
    await store.add_email(name, f"{name}@example.com")
    return visitor


async def csrf_of(visitor: Visitor) -> str:
    _, home, _ = await visitor.get("/boards/")
    found = re.search(rb'name="csrf" value="([^"]+)"', home)
    assert found is not None
    return found.group(1).decode()


async def make_board(ada: Visitor, **fields: str) -> str:
    code, body, headers = await ada.post(
        "/boards/", {"name": "Sprint <b>", **fields}, await csrf_of(ada)
    )
    assert code == 303, body
    location: str = headers.getRawHeaders("Location")[0]
    return location.rsplit("/", 1)[1]


@pytest_twisted.ensureDeferred
async def test_make_join_and_rank(server: str, store: Store) -> None:
    """The owner makes a board; another joins with its code; both see the ranking."""
    ada, bob = await player(server, store, "ada"), await player(server, store, "bob")
    board_id = await make_board(ada, cap="5")
    code, page, _ = await ada.get(f"/boards/{board_id}")
    assert code == 200
    check_page(page)
    assert b"Sprint &lt;b&gt;" in page
    board = await store.private_boards.board(board_id)
    assert board.code.encode() in page and board.token.encode() in page
    code, _, _ = await bob.post("/boards/join", {"code": board.code}, "x")
    assert code == 403
    _, home, _ = await bob.get("/boards/")
    check_page(home)
    csrf = re.search(rb'name="csrf" value="([^"]+)"', home)
    assert csrf is not None
    code, _, _ = await bob.post(
        "/boards/join", {"code": board.code.lower()}, csrf.group(1).decode()
    )
    assert code == 303
    await ingest(store, push(commit("b1", "bob@example.com")))
    code, page, _ = await bob.get(f"/boards/{board_id}")
    assert code == 200 and b">bob<" in page.replace(b"Bob", b"bob")
    assert board.code.encode() not in page and board.token.encode() not in page
    assert b"Leave this board" in page


@pytest_twisted.ensureDeferred
async def test_private(server: str, store: Store) -> None:
    """
    A stranger signed in gets 403, an anonymous visitor is sent to sign in,
    and the token's link shows the ranking without the owner's secrets.
    """
    ada, eve = await player(server, store, "ada"), await player(server, store, "eve")
    board_id = await make_board(ada)
    board = await store.private_boards.board(board_id)
    code, page, _ = await eve.get(f"/boards/{board_id}")
    assert code == 403 and b"Sprint" not in page
    code, _, headers = await Visitor(server).get(f"/boards/{board_id}")
    assert code == 303 and headers.getRawHeaders("Location") == ["/login"]
    code, page, _ = await Visitor(server).get(f"/boards/{board_id}?token={board.token}")
    assert code == 200 and b"Sprint" in page and board.code.encode() not in page
    code, page, _ = await Visitor(server).get(f"/boards/{board_id}?token=guess")
    assert code == 403 and b"Sprint" not in page


@pytest_twisted.ensureDeferred
async def test_bad_form_keeps_typing(server: str, store: Store) -> None:
    """A refused board says why, keeps what was typed, and makes nothing."""
    ada = await player(server, store, "ada")
    _, home, _ = await ada.get("/boards/")
    csrf = re.search(rb'name="csrf" value="([^"]+)"', home)
    assert csrf is not None
    code, page, _ = await ada.post(
        "/boards/",
        {"name": "Mine", "start": "2020-01-01T00:00Z", "cap": "5"},
        csrf.group(1).decode(),
    )
    assert code == 400 and b"inside" in page and b'value="Mine"' in page
    check_page(page)
    assert await store.private_boards.boards_of("ada") == []
