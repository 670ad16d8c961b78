# -*- test-case-name: tests.pages.test_private_board_pages -*-
"""
C{/boards/}: a signed-in player's private boards, made and joined here;
C{/boards/<id>}: one board's ranking, for its members (signed in) and for
whoever holds its read-only token (C{?token=}); its owner's tools (the code,
the token, rotating them, removing members, deleting) and a member's
leaving.  The forms call what the JSON-RPC methods call
(L{julytwisted.store.private_boards}).
"""

from __future__ import annotations

import json
from typing import Any

from klein import Klein
from twisted.web.iweb import IRequest
from twisted.web.template import Tag, tags

from julytwisted.auth.sessions import Sessions
from julytwisted.errors import (
    Forbidden,
    InvalidInput,
    JulythonError,
    NotFound,
    SignInRequired,
)
from julytwisted.models import Commit
from julytwisted.pages._html import Content, field, live_panel, message, post_form
from julytwisted.pages._render import (
    Renderer,
    checked_form,
    error_status,
    install_error_pages,
    redirect,
)
from julytwisted.store import Store, all_of
from julytwisted.store.feed import FeedEntry
from julytwisted.store.private_boards import (
    MAX_CAP,
    MAX_NAME,
    BoardStandings,
    OwnedBoard,
    PrivateBoard,
    optional_instant,
)

#: The first segment of every path here.
SEGMENT = b"boards"
_HOME = "/boards/"

#: A board's channel on the live feed is this and its id.
CHANNEL_PREFIX = "board:"

#: How many of a board's latest commits its page shows.
LATEST = 10

#: The ids of the elements a commit's arrival refreshes: the facts (how
#: many members) and the ranking.
_FACTS = "board-facts"
_STANDINGS = "standings"


class PrivateBoardPages:
    """The pages of private boards, over the store and the web sessions."""

    app = Klein()

    def __init__(self, store: Store, sessions: Sessions) -> None:
        self._store = store
        self._boards = store.private_boards
        self.sessions = sessions
        self.renderer = Renderer(sessions)

    @app.handle_errors(SignInRequired)
    def sign_in_first(self, request: IRequest, failure: Any) -> bytes:
        return redirect(request, "/login")

    install_error_pages(app)

    @app.route("/boards", methods=["GET"])
    def bare(self, request: IRequest) -> bytes:
        return redirect(request, _HOME)

    @app.route(_HOME, methods=["GET"])
    async def home(self, request: IRequest) -> bytes:
        username = await self.sessions.player(request)
        code = _query(request, "code")
        return await self._home(request, username, "", typed_code=code)

    @app.route(_HOME, methods=["POST"])
    async def create(self, request: IRequest) -> bytes:
        form = checked_form(self.sessions, request)
        username = await self.sessions.player(request)
        try:
            cap = form.get("cap", "").strip()
            if cap and not (cap.isascii() and cap.isdigit() and len(cap) <= 4):
                raise _bad_cap()
            board = await self._boards.create(
                username,
                form.get("name", ""),
                self._store.game(form.get("game") or None),
                optional_instant(form.get("start"), "start"),
                optional_instant(form.get("end"), "end"),
                int(cap) if cap else None,
                self._store.now(),
            )
        except JulythonError as e:
            status = error_status(request, e)
            return await self._home(request, username, e.message, status, form)
        return redirect(request, f"{_HOME}{board.id}")

    @app.route(_HOME + "join", methods=["POST"])
    async def join(self, request: IRequest) -> bytes:
        form = checked_form(self.sessions, request)
        username = await self.sessions.player(request)
        code = form.get("code", "")
        try:
            board = await self._boards.join(username, code, self._store.now())
        except JulythonError as e:
            status = error_status(request, e)
            return await self._home(request, username, e.message, status, None, code)
        return redirect(request, f"{_HOME}{board.id}")

    @app.route(_HOME + "<board_id>", methods=["GET"])
    async def board(self, request: IRequest, board_id: str) -> bytes:
        viewer = await self.sessions.viewer(request)
        token = _query(request, "token")
        if viewer.username is None and token is None:
            raise SignInRequired()
        if not await self._boards.may_read(board_id, viewer.username, token):
            raise Forbidden(
                "this board is private: join it with its code, or open the"
                " link with its token"
            )
        return await self._show(request, board_id, viewer.username, "")

    @app.route(
        _HOME + "<board_id>/<any(leave,remove,rotate_code,rotate_token,delete):what>",
        methods=["POST"],
    )
    async def act(self, request: IRequest, board_id: str, what: str) -> bytes:
        form = checked_form(self.sessions, request)
        username = await self.sessions.player(request)
        try:
            said = await self._act(username, board_id, what, form.get("username", ""))
        except JulythonError as e:
            if not await self._boards.may_read(board_id, username, None):
                raise
            status = error_status(request, e)
            return await self._show(request, board_id, username, e.message, status)
        if what in ("leave", "delete"):
            return await self._home(request, username, said)
        return await self._show(request, board_id, username, said)

    async def _act(self, username: str, board_id: str, what: str, member: str) -> str:
        boards = self._boards
        if what == "leave":
            await boards.leave(username, board_id)
            return "You left the board."
        if what == "remove":
            await boards.remove_member(username, board_id, member)
            return f"{member} is off the board."
        if what == "rotate_code":
            await boards.rotate_code(username, board_id)
            return "The board has a new join code; the old one no longer works."
        if what == "rotate_token":
            await boards.rotate_token(username, board_id)
            return "The board has a new read token; the old one no longer works."
        await boards.delete(username, board_id)
        return "The board is deleted."

    async def _home(
        self,
        request: IRequest,
        username: str,
        said: str,
        status: int = 200,
        typed: dict[str, str] | None = None,
        typed_code: str | None = None,
    ) -> bytes:
        csrf = self.sessions.csrf_token(request)
        mine = await self._boards.boards_of(username)
        content: list[Content] = [
            message(said, error=status >= 400) if said else "",
            _listing(mine),
            _join_form(csrf, typed_code or ""),
            _create_form(csrf, typed or {}, self._store.game().slug),
        ]
        return await self.renderer.page(
            request, "Private boards", content, status, cache=False
        )

    async def _show(
        self,
        request: IRequest,
        board_id: str,
        username: str | None,
        said: str,
        status: int = 200,
    ) -> bytes:
        standings = await self._boards.standings(board_id)
        csrf = self.sessions.csrf_token(request)
        member = await self._boards.is_member(standings.id, username)
        content: list[Content] = [
            message(said, error=status >= 400) if said else "",
            _facts(standings),
            _table(standings, csrf if username == standings.owner else None),
            # Live for members only: the channel admits a token's holder
            # when the token is in its URL, which the script does not send.
            await self._latest(standings.id) if member else "",
        ]
        if username == standings.owner:
            owned = await self._boards.owned(username, board_id)
            content.append(_owner_tools(owned, csrf))
        elif member:
            content.append(_button(board_id, "leave", csrf, "Leave this board"))
        request.setHeader(b"Referrer-Policy", b"no-referrer")
        return await self.renderer.page(
            request, standings.name, content, status, cache=False
        )

    async def _latest(self, board_id: str) -> Tag:
        """
        The board's latest commits, from its live channel's stream, kept
        live in the page; each commit that comes in refreshes the ranking.
        """
        channel = f"{CHANNEL_PREFIX}{board_id}"
        entries = await self._store.feed_tail([channel], LATEST)
        found = await all_of([self._commit(e) for e in reversed(entries)])
        commits = [c for c in found if c is not None]
        names = await self._store.project_names(c.project for c in commits)
        since = entries[-1].id if entries else None
        return live_panel(commits, names, since, channel, (_FACTS, _STANDINGS))

    async def _commit(self, entry: FeedEntry) -> Commit | None:
        """@return: the commit a feed entry tells of, if it is one still stored."""
        if entry.type != "commit":
            return None
        try:
            told = json.loads(entry.data)
            return await self._store.commit(str(told["hash"]))
        except (ValueError, KeyError, TypeError, NotFound):
            return None


def _bad_cap() -> JulythonError:
    return InvalidInput(f"cap must be a whole number from 1 to {MAX_CAP}")


def _query(request: IRequest, name: str) -> str | None:
    values = request.args.get(name.encode())
    if not values:
        return None
    try:
        text: str = values[-1].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text or None


def _listing(boards: list[PrivateBoard]) -> Tag:
    if not boards:
        return tags.section(tags.h2("Your boards"), tags.p("None yet."))
    return tags.section(
        tags.h2("Your boards"),
        tags.ul(class_="private-boards")(
            [
                tags.li(
                    tags.a(b.name, href=f"{_HOME}{b.id}"),
                    f" · {b.game} · {b.members} member{'' if b.members == 1 else 's'}",
                )
                for b in boards
            ]
        ),
    )


def _join_form(csrf: str, code: str) -> Tag:
    return tags.section(
        tags.h2("Join a board"),
        post_form(
            _HOME + "join",
            csrf,
            [field("Join code", "code", code, required=True, hint="From its owner.")],
            "Join",
        ),
    )


def _create_form(csrf: str, typed: dict[str, str], game: str) -> Tag:
    fields = [
        field(
            "Name",
            "name",
            typed.get("name", ""),
            required=True,
            hint=f"At most {MAX_NAME} characters.",
        ),
        field(
            "Game",
            "game",
            typed.get("game", game),
            hint="A game's slug; the current one by default.",
        ),
        field(
            "Start",
            "start",
            typed.get("start", ""),
            hint="An ISO 8601 time inside the game, such as 2026-07-04T00:00Z;"
            " the game's start when empty.",
        ),
        field(
            "End",
            "end",
            typed.get("end", ""),
            hint="Likewise; the game's end when empty.",
        ),
        field(
            "Member cap",
            "cap",
            typed.get("cap", ""),
            type="number",
            hint=f"1 to {MAX_CAP}; {MAX_CAP} when empty.",
        ),
    ]
    return tags.section(
        tags.h2("Make a board"), post_form(_HOME, csrf, fields, "Make the board")
    )


def _facts(board: BoardStandings) -> Tag:
    cap = board.cap or MAX_CAP
    return tags.p(class_="board-facts", id=_FACTS)(
        f"{board.game}, from {board.start} to {board.end}; "
        f"{board.members} of at most {cap} members; owned by ",
        tags.a(board.owner, href=f"/people/{board.owner}"),
        ".",
    )


def _table(board: BoardStandings, owner_csrf: str | None) -> Tag:
    head = [
        tags.th("Rank", scope="col"),
        tags.th("Player", scope="col"),
        tags.th("Points", scope="col"),
        tags.th("Commits", scope="col"),
        tags.th("Projects", scope="col"),
    ]
    if owner_csrf is not None:
        head.append(tags.th("Member", scope="col"))
    rows = []
    for s in board.standings:
        cells: list[Content] = [
            tags.td(str(s.rank)),
            tags.td(tags.a(s.name, href=f"/people/{s.username}")),
            tags.td(str(s.points)),
            tags.td(str(s.commits)),
            tags.td(str(s.projects)),
        ]
        if owner_csrf is not None:
            cells.append(
                tags.td(
                    ""
                    if s.username == board.owner
                    else _button(
                        board.id,
                        "remove",
                        owner_csrf,
                        f"Remove {s.username}",
                        s.username,
                    )
                )
            )
        rows.append(tags.tr(cells))
    return tags.table(class_="board", id=_STANDINGS)(
        tags.caption("Members by points in the board's dates"),
        tags.thead(tags.tr(head)),
        tags.tbody(rows),
    )


def _button(
    board_id: str, what: str, csrf: str, label: str, member: str | None = None
) -> Tag:
    hidden = (
        [tags.input(type="hidden", name="username", value=member)] if member else []
    )
    return post_form(f"{_HOME}{board_id}/{what}", csrf, hidden, label, class_="inline")


def _owner_tools(board: OwnedBoard, csrf: str) -> Tag:
    return tags.section(
        tags.h2("Your board"),
        tags.dl(class_="board-secrets")(
            tags.dt("Join code"),
            tags.dd(tags.code(board.code, class_="secret")),
            tags.dt("Read token, for bots"),
            tags.dd(tags.code(board.token, class_="secret")),
            tags.dt("API"),
            tags.dd(tags.code(f"/api/v1/boards/{board.id}")),
        ),
        tags.p(
            "Share the code with those you invite. Bots read the ranking "
            "with the token as Authorization: Bearer TOKEN."
        ),
        _button(board.id, "rotate_code", csrf, "New join code"),
        " ",
        _button(board.id, "rotate_token", csrf, "New read token"),
        " ",
        _button(board.id, "delete", csrf, "Delete the board"),
    )


__all__ = ["SEGMENT", "PrivateBoardPages"]
