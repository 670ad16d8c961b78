# -*- test-case-name: tests.test_methods_boards -*-
"""
The private boards' JSON-RPC methods under C{julython.}: C{createBoard},
C{joinBoard}, C{leaveBoard}, C{boardStandings}, C{removeBoardMember},
C{rotateBoardCode} and C{deleteBoard}, thin over
L{julytwisted.store.private_boards}.
"""

from __future__ import annotations

from julytwisted import rpc
from julytwisted.auth.authenticator import Principal
from julytwisted.errors import Forbidden
from julytwisted.methods._caller import Said, player_of
from julytwisted.store import Store
from julytwisted.store.private_boards import (
    BoardStandings,
    OwnedBoard,
    PrivateBoard,
    optional_instant,
)


def register_private_boards(registry: rpc.Registry, store: Store) -> None:
    """
    Offer the private boards' methods: a player makes a board, others join
    it with its code, its owner runs it, and members or bots holding its
    read token read its standings.

    @param registry: where the methods go.
    @param store: where the boards are.
    """
    boards = store.private_boards

    @registry.method(
        "julython.createBoard(name=String, game=String, start=String, end=String,"
        " cap=Number) -> Object",
        authenticated=True,
    )
    async def create_board(
        ctx: rpc.CallContext,
        name: str,
        game: str | None = None,
        start: str | None = None,
        end: str | None = None,
        cap: int | None = None,
    ) -> OwnedBoard:
        """
        Make a private board in a game (the current one by default), from
        C{start} to C{end} (ISO 8601 instants inside the game; the whole
        game by default), for at most C{cap} members (1 to 1000).  You get
        its join code, to share, and its read-only token, for bots.
        """
        return await boards.create(
            player_of(ctx),
            name,
            store.game(game),
            optional_instant(start, "start"),
            optional_instant(end, "end"),
            cap,
            store.now(),
        )

    @registry.method("julython.joinBoard(code=String) -> Object", authenticated=True)
    async def join_board(ctx: rpc.CallContext, code: str) -> PrivateBoard:
        """Join a private board with its code; 409 when it is full."""
        return await boards.join(player_of(ctx), code, store.now())

    @registry.method("julython.leaveBoard(id=String) -> Object", authenticated=True)
    async def leave_board(ctx: rpc.CallContext, id: str) -> Said:
        """Leave a private board (its owner deletes it instead)."""
        await boards.leave(player_of(ctx), id)
        return Said(f"you left board {id}")

    @registry.method("julython.boardStandings(id=String, token=String) -> Object")
    async def board_standings(
        ctx: rpc.CallContext, id: str, token: str | None = None
    ) -> BoardStandings:
        """
        A private board's members ranked by their points in its dates: for
        its members (signed in), or with its read-only C{token}.
        """
        user = ctx.user
        username = user.username if isinstance(user, Principal) else None
        if not await boards.may_read(id, username, token):
            raise Forbidden("this board is private: join it, or give its token")
        return await boards.standings(id)

    @registry.method(
        "julython.removeBoardMember(id=String, username=String) -> Object",
        authenticated=True,
    )
    async def remove_member(ctx: rpc.CallContext, id: str, username: str) -> Said:
        """Take a member off your board; they may join again only with the code."""
        await boards.remove_member(player_of(ctx), id, username)
        return Said(f"{username} is off board {id}")

    @registry.method(
        "julython.rotateBoardCode(id=String, token=Boolean) -> Object",
        authenticated=True,
    )
    async def rotate_code(
        ctx: rpc.CallContext, id: str, token: bool = False
    ) -> OwnedBoard:
        """
        Give your board a new join code (with C{token} true: a new read
        token instead); the old one stops working at once.
        """
        if token:
            return await boards.rotate_token(player_of(ctx), id)
        return await boards.rotate_code(player_of(ctx), id)

    @registry.method("julython.deleteBoard(id=String) -> Object", authenticated=True)
    async def delete_board(ctx: rpc.CallContext, id: str) -> Said:
        """Delete your board and every membership of it."""
        await boards.delete(player_of(ctx), id)
        return Said(f"board {id} is deleted")


__all__ = ["register_private_boards"]
