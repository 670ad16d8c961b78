# -*- test-case-name: tests.pages.test_pages,tests.pages.test_commit_lists -*-
"""
The public HTML pages: L{Pages}, a klein app of its own, mounted by
L{julytwisted.site.Root} for every path the API and the account pages do
not claim.  This module draws the home page and the five boards; the page
of one player, project, location or team is drawn by
L{julytwisted.pages._details}, and help by L{julytwisted.pages._help}.

Pages are cheap to serve twice: board reads are kept for a few seconds in
the process (so a busy front page costs Redis one read per board per few
seconds), so is the page rendered for an anonymous visitor, and every page
carries an ETag and a short max-age (L{julytwisted.pages._render}).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from klein import Klein
from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest
from twisted.web.template import Tag, tags

from julytwisted.auth.sessions import Sessions
from julytwisted.errors import InvalidInput, JulythonError
from julytwisted.game.games import Game
from julytwisted.game.review import BURST_LIMIT
from julytwisted.models import (
    Board,
    Commit,
    ListedGame,
    Member,
    Page,
)
from julytwisted.pages._details import group_page, player_page, project_page
from julytwisted.pages._game import game_page
from julytwisted.pages._help import help_page
from julytwisted.pages._html import (
    BOARD_TITLES,
    Content,
    aria,
    board_table,
    game_selector,
    live_panel,
    pager,
    when,
)
from julytwisted.pages._render import Recent, Renderer, install_error_pages
from julytwisted.store import PROJECT_SIZES, Store, all_of

#: Rows on one page of a board.
PAGE_SIZE = 50


def _page_number(request: IRequest) -> int:
    raw = request.args.get(b"page", [b"1"])[-1]
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise InvalidInput("page must be a whole number from 1")
    return int(raw)


def _game_arg(request: IRequest) -> str | None:
    raw = request.args.get(b"game", [b""])[-1]
    try:
        return raw.decode("utf-8") or None
    except UnicodeDecodeError:
        raise InvalidInput("game is not UTF-8") from None


class Pages:
    """
    The public pages, bound to one L{Store}.
    """

    app = Klein()

    def __init__(
        self,
        store: Store,
        sessions: Sessions,
        clock: IReactorTime,
        keep: float = 5.0,
        open_repositories: bool = False,
        data_center: str | None = None,
        review_days: int = 0,
        burst_limit: int = BURST_LIMIT,
    ) -> None:
        """
        @param keep: seconds a board read is reused before Redis is asked again.
        @param open_repositories: whether the help page tells of repositories
            nobody added (an open event) besides adding them.
        @param data_center: the web address of the configured Bitbucket Data
            Center, which the help page then tells of; L{None} for none.
        @param review_days: how long new points stay pending
            (C{--review-days}), which the help page tells.
        @param burst_limit: the commits by one author in one minute past
            which each waits for an organiser (C{--burst-limit}), likewise.
        """
        self.store = store
        self._open = open_repositories
        self._data_center = data_center
        self._review_days = review_days
        self._burst_limit = burst_limit
        self._recent = Recent(clock, keep)
        self.renderer = Renderer(sessions, kept=self._recent)
        self._clock = clock

    install_error_pages(app)

    # Reads, kept a few seconds

    async def _board(
        self, kind: str, game: str, offset: int, limit: int
    ) -> Page[Member]:
        return await self._recent.get(
            ("board", kind, game, offset, limit),
            lambda: self.store.board(kind, game, offset, limit),
        )

    async def _games(self) -> Page[ListedGame]:
        return await self._recent.get(("games",), lambda: self.store.list_games(0, 100))

    # Home

    @app.route("/", methods=["GET"])
    async def home(self, request: IRequest) -> bytes:
        return await self.renderer.public(request, lambda: self._home_page(request))

    async def _home_page(self, request: IRequest) -> tuple[str, Content]:
        game = self.store.game()
        boards = await all_of(
            [self._board(kind, game.slug, 0, 10) for kind in BOARD_TITLES]
        )
        commits = await self._recent.get(
            ("commits", game.slug), lambda: self.store.game_commits(game.slug)
        )
        since, recent, names = await self._recent.get(("recent",), self._latest)
        players = boards[0].total or 0
        content = [
            self._game_banner(game),
            tags.p(class_="totals")(
                tags.strong(f"{commits:,}"),
                f" commit{'s' * (commits != 1)} and ",
                tags.strong(f"{players:,}"),
                f" player{'s' * (players != 1)} in this game so far.",
            ),
            tags.div(class_="boards")(
                [
                    tags.section(
                        tags.h2(tags.a(BOARD_TITLES[kind][0], href=f"/{kind}/")),
                        board_table(kind, page.models, f"Top 10 {kind}"),
                    )
                    for kind, page in zip(BOARD_TITLES, boards, strict=True)
                ]
            ),
            live_panel(recent, names, since, "global"),
        ]
        return game.name, content

    async def _latest(self) -> tuple[str | None, Sequence[Commit], dict[str, str]]:
        """
        The latest commits, and the id of the feed's newest entry read just
        before them: every commit after that id is newer than those shown.
        """
        newest = await self.store.feed_tail(["global"], 1)
        commits = (await self.store.commits(limit=10)).models
        names = await self.store.project_names(c.project for c in commits)
        return (newest[-1].id if newest else None), commits, names

    def _game_banner(self, game: Game) -> Tag:
        now = self.store.now()
        if now < game.start:
            lead, target = "Starts in ", game.start
        elif now < game.end:
            lead, target = "Ends in ", game.end
        else:
            return tags.p(class_="countdown")(
                "This game ended on ", when(_iso(game.end))
            )
        left = target - now
        hours = left.seconds // 3600
        text = f"{left.days} days, {hours} hours"
        clock = tags.time(text, datetime=_iso(target), class_="countdown-clock")
        # The script counts from the server's time, not the browser's.
        clock.attributes["data-now"] = _iso(now)
        return tags.p(class_="countdown")(
            lead,
            clock,
            " (",
            when(_iso(target)),
            ")",
        )

    # Boards

    @app.route(
        "/<any(people,projects,locations,teams,languages):kind>/", methods=["GET"]
    )
    async def board(self, request: IRequest, kind: str) -> bytes:
        return await self.renderer.public(
            request, lambda: self._board_page(request, kind)
        )

    async def _board_page(self, request: IRequest, kind: str) -> tuple[str, Content]:
        game = self.store.game(_game_arg(request))
        size = _size_arg(request) if kind == Board.PROJECTS else None
        number = _page_number(request)
        offset = (number - 1) * PAGE_SIZE
        # The games' list is cached: read it first, the rows after.
        games = await self._games()
        page: Page[Member]
        if size is None:
            page = await self._board(kind, game.slug, offset, PAGE_SIZE)
        else:
            page = await self._recent.get(
                ("size", size, game.slug, offset),
                lambda: self.store.projects_by_size(size, game.slug, offset, PAGE_SIZE),
            )
        title = BOARD_TITLES[kind][0] if size is None else f"{size.title()} projects"
        total = page.total or 0
        keep = {"size": size} if size else {}
        content = [
            _sizes(game, size) if kind == Board.PROJECTS else "",
            game_selector(f"/{kind}/", games.models, game.slug, keep),
            tags.p(f"{total:,} in {game.name}."),
            board_table(kind, page.models, f"{title} in {game.name}", offset),
            pager(
                f"/{kind}/",
                {"game": game.slug, **keep},
                number,
                page.next is not None,
            ),
        ]
        return f"{title}: {game.name}", content

    # One player, project, location or team: see _details

    @app.route("/people/<username>", methods=["GET"])
    async def player(self, request: IRequest, username: str) -> bytes:
        return await self.renderer.public(
            request, lambda: self._player_page(request, username)
        )

    async def _player_page(
        self, request: IRequest, username: str
    ) -> tuple[str, Content]:
        game = self.store.game(_game_arg(request))
        return await player_page(self.store, game, username)

    @app.route("/projects/<slug>", methods=["GET"])
    async def project(self, request: IRequest, slug: str) -> bytes:
        return await self.renderer.public(
            request, lambda: self._project_page(request, slug)
        )

    async def _project_page(self, request: IRequest, slug: str) -> tuple[str, Content]:
        game = self.store.game(_game_arg(request))
        return await project_page(self.store, game, slug, await self._csrf(request))

    async def _csrf(self, request: IRequest) -> str | None:
        """@return: the visitor's CSRF token, if they are signed in."""
        sessions = self.renderer.sessions
        viewer = await sessions.viewer(request)
        return sessions.csrf_token(request) if viewer.signed_in else None

    @app.route("/<any(locations,teams):kind>/<slug>", methods=["GET"])
    async def group(self, request: IRequest, kind: str, slug: str) -> bytes:
        return await self.renderer.public(
            request, lambda: self._group_page(request, kind, slug)
        )

    async def _group_page(
        self, request: IRequest, kind: str, slug: str
    ) -> tuple[str, Content]:
        game = self.store.game(_game_arg(request))
        return await group_page(self.store, game, kind, slug)

    @app.route("/games/<slug>", methods=["GET"])
    async def game(self, request: IRequest, slug: str) -> bytes:
        return await self.renderer.public(request, lambda: self._game_page(slug))

    async def _game_page(self, slug: str) -> tuple[str, Content]:
        return game_page(await self.store.games.detail(slug))

    # Help

    @app.route("/help/", methods=["GET"])
    async def help(self, request: IRequest) -> bytes:
        return await self.renderer.public(request, lambda: self._help_page(request))

    async def _help_page(self, request: IRequest) -> tuple[str, Content]:
        try:
            games = (await self._games()).models
        except JulythonError:
            # Help is for when things go wrong too: without Redis, it names
            # the current game alone rather than failing.
            game = self.store.game()
            games = (
                ListedGame(
                    game.slug, game.name, _iso(game.start), _iso(game.end), True
                ),
            )
        return help_page(
            request,
            games,
            self._open,
            self._data_center,
            self._review_days,
            self._burst_limit,
        )


def _iso(when_: datetime) -> str:
    return when_.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _size_arg(request: IRequest) -> str | None:
    raw = request.args.get(b"size", [b""])[-1].decode("latin-1")
    if raw and raw not in PROJECT_SIZES:
        raise InvalidInput(f"size must be one of {', '.join(PROJECT_SIZES)}")
    return raw or None


def _sizes(game: Game, chosen: str | None) -> Tag:
    """Links to the projects board whole and split by size."""
    items = []
    for size in (None, *PROJECT_SIZES):
        label = "All" if size is None else size.title()
        if size is not None:
            lo, hi = PROJECT_SIZES[size]
            label += f" ({lo}+ watchers)" if hi < 0 else f" ({lo} to {hi - 1} watchers)"
        query = f"?game={quote(game.slug)}" + (f"&size={size}" if size else "")
        link = tags.a(label, href="/projects/" + query)
        if size == chosen:
            link.attributes["aria-current"] = "page"
        items.append(tags.li(link))
    return aria(tags.nav(class_="sizes")(tags.ul(items)), label="Project sizes")


__all__ = ["PAGE_SIZE", "Pages"]
