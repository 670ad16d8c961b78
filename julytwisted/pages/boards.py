# -*- test-case-name: tests.pages.test_pages -*-
"""
The public HTML pages: home, the five boards, a page per player, project,
location and team, and help.  A klein app of its own, mounted by
L{julytwisted.site.Root} for every path the API and the account pages do
not claim.

Pages are cheap to serve twice: board reads are kept for a few seconds in
the process (so a busy front page costs Redis one read per board per few
seconds), so is the page rendered for an anonymous visitor, and every page
carries an ETag and a short max-age (L{julytwisted._render}).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from klein import Klein
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest
from twisted.web.template import Tag, tags

from julytwisted.auth.sessions import Sessions
from julytwisted.errors import InvalidInput, NotFound
from julytwisted.game import badges as _badges
from julytwisted.game.games import Game
from julytwisted.models import (
    UNSET,
    Commit,
    Group,
    ListedGame,
    Member,
    Page,
    Player,
    Project,
)
from julytwisted.pages._html import (
    BOARD_TITLES,
    Content,
    aria,
    board_table,
    commit_list,
    game_selector,
    member_link,
    pager,
    upload_form,
    when,
)
from julytwisted.pages._render import Recent, Renderer, install_error_pages
from julytwisted.store import PROJECT_SIZES, Store, all_of

#: Rows on one page of a board.
PAGE_SIZE = 50

#: The most commits a player's page reads to draw the calendar.
CALENDAR_COMMITS = 1000


#: Security headers of every page: nothing from elsewhere, no framing.
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


def _link(url: str, text: str) -> Content:
    """A link to somewhere else, only for http(s) addresses."""
    if url.startswith(("https://", "http://")):
        return tags.a(text, href=url, rel="nofollow noopener")
    return text


def _screenshots(model: Project, csrf: str | None) -> Content:
    """
    A project's screenshots, latest first, each a link to the full image;
    and for a signed-in player, the form that adds one.
    """
    shots = () if model.screenshots is UNSET else model.screenshots
    if not shots and csrf is None:
        return ""
    parts: list[Content] = [tags.h2("Screenshots", id="screenshots")]
    if shots:
        parts.append(
            tags.ul(class_="screenshots")(
                tags.li(
                    tags.a(href=url)(
                        tags.img(
                            src=url,
                            alt=f"Screenshot {n} of {model.name}",
                            loading="lazy",
                        )
                    )
                )
                for n, url in enumerate(shots, 1)
            )
        )
    if csrf is not None:
        after = f"/projects/{quote(model.slug)}#screenshots"
        parts.append(
            upload_form(
                csrf,
                {"kind": "screenshot", "project": model.slug, "next": after},
                "Add a screenshot (PNG, JPEG, GIF or WebP)",
                "f-screenshot",
            )
        )
    return tags.section(parts)


def _figures(model: Member, keys: tuple[str, ...]) -> Tag:
    labels = {"rank": "Rank", "points": "Points", "commits": "Commits"}
    labels["projects"] = "Projects"
    return tags.dl(class_="figures")(
        [
            tags.div(tags.dt(labels[k]), tags.dd(str(getattr(model, k) or "none")))
            for k in keys
        ]
    )


class Pages:
    """
    The public pages, bound to one L{Store}.
    """

    app = Klein()

    def __init__(
        self, store: Store, sessions: Sessions, clock: IReactorTime, keep: float = 5.0
    ) -> None:
        """
        @param keep: seconds a board read is reused before Redis is asked again.
        """
        self.store = store
        self._recent = Recent(clock, keep)
        self.renderer = Renderer(sessions, kept=self._recent)
        self._clock = clock

    install_error_pages(app)

    # Reads, kept a few seconds

    def _board(
        self, kind: str, game: str, offset: int, limit: int
    ) -> Deferred[Page[Member]]:
        return Deferred.fromCoroutine(
            self._recent.get(
                ("board", kind, game, offset, limit),
                lambda: self.store.board(kind, game, offset, limit),
            )
        )

    def _games(self) -> Deferred[Page[ListedGame]]:
        return Deferred.fromCoroutine(
            self._recent.get(("games",), lambda: self.store.list_games(0, 100))
        )

    # Home

    @app.route("/", methods=["GET"])
    def home(self, request: IRequest) -> Deferred[bytes]:
        return Deferred.fromCoroutine(
            self.renderer.public(request, lambda: self._home_page(request))
        )

    async def _home_page(self, request: IRequest) -> tuple[str, Content]:
        game = self.store.game()
        boards = await all_of(
            [self._board(kind, game.slug, 0, 10) for kind in BOARD_TITLES]
        )
        commits = await self._recent.get(
            ("commits", game.slug), lambda: self.store.game_commits(game.slug)
        )
        recent = await self._recent.get(
            ("recent",), lambda: self.store.commits(limit=10)
        )
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
            _live_panel(recent.models),
        ]
        return game.name, content

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
    def board(self, request: IRequest, kind: str) -> Deferred[bytes]:
        return Deferred.fromCoroutine(
            self.renderer.public(request, lambda: self._board_page(request, kind))
        )

    async def _board_page(self, request: IRequest, kind: str) -> tuple[str, Content]:
        game = self.store.game(_game_arg(request))
        size = _size_arg(request) if kind == "projects" else None
        number = _page_number(request)
        offset = (number - 1) * PAGE_SIZE
        # The games' list is cached: read it first, the rows after.
        games = await self._games()
        rows: Deferred[Page[Member]]
        if size is None:
            rows = self._board(kind, game.slug, offset, PAGE_SIZE)
        else:
            rows = Deferred.fromCoroutine(
                self._recent.get(
                    ("size", size, game.slug, offset),
                    lambda: self.store.projects_by_size(
                        size, game.slug, offset, PAGE_SIZE
                    ),
                )
            )
        page = await rows
        title = BOARD_TITLES[kind][0] if size is None else f"{size.title()} projects"
        total = page.total or 0
        keep = {"size": size} if size else {}
        content = [
            _sizes(game, size) if kind == "projects" else "",
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

    # Members

    @app.route("/people/<username>", methods=["GET"])
    def player(self, request: IRequest, username: str) -> Deferred[bytes]:
        return Deferred.fromCoroutine(
            self.renderer.public(request, lambda: self._player_page(request, username))
        )

    async def _player_page(
        self, request: IRequest, username: str
    ) -> tuple[str, Content]:
        game = self.store.game(_game_arg(request))
        model = await self.store.player(username, game.slug)
        calendar = await self._calendar(model, game)
        content = [
            tags.p(class_="who")(
                tags.img(src=model.picture_url, alt="", width="64", height="64")
                if model.picture_url
                else "",
                f"@{model.username} in {game.name}",
            ),
            _figures(model, ("rank", "points", "commits", "projects")),
            await self._groups(model, game),
            calendar,
            tags.h2("Recent commits"),
            commit_list(
                (await self.store.commits(username=model.username)).models,
                "No commits yet.",
            ),
        ]
        return model.name, content

    async def _groups(self, model: Player, game: Game) -> Content:
        parts: list[Content] = []
        for key, kind, slug in (
            ("location", "locations", model.location),
            ("team", "teams", model.team),
        ):
            if slug:
                try:
                    group = await self.store.group(kind, slug, game.slug)
                except NotFound:
                    group = Group(slug=slug, name=slug, points=0, rank=None, commits=0)
                link = member_link(kind, group)
                parts.append(tags.li(f"{key.title()}: ", link))
        return tags.ul(class_="groups")(parts) if parts else ""

    async def _calendar(self, model: Player, game: Game) -> Content:
        username = model.username
        stamps: list[str] = []
        cursor: str | None = None
        while len(stamps) < CALENDAR_COMMITS:
            page = await self.store.commits(username=username, cursor=cursor, limit=100)
            stamps += [c.timestamp for c in page.models if game.slug in c.games]
            cursor = page.next
            if cursor is None:
                break
        counts = _badges.per_day(stamps)
        days = _badges.game_days(game)
        streak = _badges.longest_streak(d for d in counts if d in set(days))
        earned = _badges.badges(model.commits, model.projects, streak)
        return [
            tags.h2("Badges"),
            tags.p(f"Longest streak: {streak} day{'s' * (streak != 1)} in a row."),
            tags.ul(class_="badges")(
                [
                    tags.li(b.name, class_="earned" if b.earned else "unearned")
                    for b in earned
                ]
            ),
            tags.h2("Commits per day"),
            _heat_map(days, counts),
        ]

    @app.route("/projects/<slug>", methods=["GET"])
    def project(self, request: IRequest, slug: str) -> Deferred[bytes]:
        return Deferred.fromCoroutine(
            self.renderer.public(request, lambda: self._project_page(request, slug))
        )

    async def _project_page(self, request: IRequest, slug: str) -> tuple[str, Content]:
        game = self.store.game(_game_arg(request))
        model = await self.store.project(slug, game.slug)
        content = [
            tags.p(_link(model.url, model.url) if model.url else ""),
            tags.p(model.description) if model.description else "",
            tags.p("This project is deactivated: it no longer scores.", class_="notice")
            if not model.active
            else "",
            _figures(model, ("rank", "points", "commits")),
            _screenshots(model, self._csrf(request)),
            tags.h2("Recent commits"),
            commit_list(
                (await self.store.commits(project=model.slug)).models,
                "No commits yet.",
            ),
        ]
        return model.name, content

    def _csrf(self, request: IRequest) -> str | None:
        """@return: the visitor's CSRF token, if they are signed in."""
        sessions = self.renderer.sessions
        return (
            sessions.csrf_token(request) if sessions.viewer(request).signed_in else None
        )

    @app.route("/<any(locations,teams):kind>/<slug>", methods=["GET"])
    def group(self, request: IRequest, kind: str, slug: str) -> Deferred[bytes]:
        return Deferred.fromCoroutine(
            self.renderer.public(request, lambda: self._group_page(request, kind, slug))
        )

    async def _group_page(
        self, request: IRequest, kind: str, slug: str
    ) -> tuple[str, Content]:
        game = self.store.game(_game_arg(request))
        model = await self.store.group(kind, slug, game.slug)
        note: Content = ""
        if kind == "teams" and model.approved is False:
            note = tags.p(
                "This team waits for an organiser's approval.", class_="notice"
            )
        content = [
            note,
            tags.p(f"In {game.name}:"),
            _figures(model, ("rank", "points", "commits")),
            tags.p(tags.a(f"All {kind}", href=f"/{kind}/?game={quote(game.slug)}")),
        ]
        return model.name, content

    # Help

    @app.route("/help/", methods=["GET"])
    def help(self, request: IRequest) -> Deferred[bytes]:
        return Deferred.fromCoroutine(
            self.renderer.public(request, lambda: self._help_page(request))
        )

    async def _help_page(self, request: IRequest) -> tuple[str, Content]:
        base = _base_url(request)
        return "How to take part", _help(base)


def _iso(when_: datetime) -> str:
    return when_.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _live_panel(commits: Sequence[Commit]) -> Tag:
    """
    The latest commits, rendered now so the page works without JavaScript.
    The live feed's script keeps this section live: it listens on the
    channel its C{data-channel} names and prepends to its C{ol.commits},
    skipping the commits already shown.
    """
    section = tags.section(id="live-feed", class_="live")(
        tags.h2("Latest commits", id="live-feed-title"),
        commit_list(commits, "No commits yet."),
        # The list the feed prepends to is there even before the first commit.
        "" if commits else tags.ol(class_="commits"),
        # The live feed's own script: it finds this section and keeps it live.
        tags.script(src="/live/live.js", defer="defer"),
    )
    section.attributes["data-channel"] = "global"
    return aria(section, labelledby="live-feed-title", live="polite")


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


def _heat_map(days: list[Any], counts: dict[Any, int]) -> Content:
    if not days:
        return tags.p("This game has no days.")
    most = max((counts.get(d, 0) for d in days), default=0)
    first_weekday = days[0].weekday()
    heads = [
        aria(tags.li(name, class_="weekday"), hidden="true")
        for name in ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
    ]
    pads = [aria(tags.li(class_="pad"), hidden="true") for _ in range(first_weekday)]
    cells: list[Content] = [*heads, *pads]
    for day in days:
        n = counts.get(day, 0)
        label = f"{day:%a %d %b}: {n} commit{'s' * (n != 1)}"
        cells.append(
            tags.li(
                tags.span(label, class_="label"),
                class_=f"day level-{_badges.level(n, most)}",
                title=label,
            )
        )
    return aria(tags.ol(class_="heatmap")(cells), label="Commits per day")


def _base_url(request: IRequest) -> str:
    host = (request.getHeader(b"host") or b"localhost").decode("latin-1")
    scheme = "https" if request.isSecure() else "http"
    return f"{scheme}://{host}"


def _help(base: str) -> Content:
    hooks = {s: f"{base}/api/v1/{s}" for s in ("github", "bitbucket", "gitlab")}
    return [
        tags.h2("The rules"),
        tags.ul(
            tags.li(
                "Games run through July (Julython) and January (J(an)ulython)."
                " Midnight is yours: the window opens 12 hours early and"
                " closes 12 hours late, for every time zone."
            ),
            tags.li("Each new commit inside a game earns you 1 point."),
            tags.li("The first commit you make to a project in a game earns 10 more."),
            tags.li(
                "Commits are yours when their author e-mail is one of the"
                " e-mails on your profile. Add an e-mail later and your"
                " earlier commits are counted for you."
            ),
            tags.li(
                "Your location and team score with you; a new team scores"
                " once an organiser approves it."
            ),
        ),
        tags.h2("Add the webhook"),
        tags.p("Point a push webhook of each repository you work on at this server:"),
        tags.h3("GitHub"),
        tags.ol(
            tags.li("Settings → Webhooks → Add webhook."),
            tags.li("Payload URL: ", tags.code(hooks["github"])),
            tags.li("Content type: application/json; events: just the push event."),
        ),
        tags.h3("Bitbucket"),
        tags.ol(
            tags.li("Repository settings → Webhooks → Add webhook."),
            tags.li("URL: ", tags.code(hooks["bitbucket"])),
            tags.li("Triggers: repository push."),
        ),
        tags.h3("GitLab"),
        tags.ol(
            tags.li("Settings → Webhooks → Add new webhook."),
            tags.li("URL: ", tags.code(hooks["gitlab"])),
            tags.li("Trigger: push events."),
        ),
        tags.p(
            "If the organisers gave you a webhook secret, enter it as the"
            " secret (GitHub, Bitbucket) or the secret token (GitLab)."
        ),
        tags.h2("Then"),
        tags.p(
            tags.a("Sign up", href="/signup"),
            " with the e-mail your commits carry, push, and watch the ",
            tags.a("boards", href="/people/"),
            ".",
        ),
    ]


__all__ = ["PAGE_SIZE", "Pages"]
