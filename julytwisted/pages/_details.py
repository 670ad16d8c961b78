# -*- test-case-name: tests.pages.test_player_pages,tests.pages.test_group_pages -*-
"""
The detail pages of the public site, one player, project, location or team
in a game: what each shows, read from the store.  L{Pages
<julytwisted.pages.boards.Pages>} routes to them.
"""

from __future__ import annotations

from urllib.parse import quote

from twisted.web.template import Tag, tags

from julytwisted.errors import NotFound
from julytwisted.game.games import Game
from julytwisted.models import UNSET, Board, Group, Member, Page, Player, Project
from julytwisted.pages._calendar import calendar
from julytwisted.pages._html import (
    Content,
    commit_list,
    member_link,
    upload_form,
)
from julytwisted.store import Store, all_of

#: The most commits a player's page reads to draw the calendar.
CALENDAR_COMMITS = 1000

#: The most members a location's or a team's page lists.
MOST_MEMBERS = 100


async def player_page(store: Store, game: Game, username: str) -> tuple[str, Content]:
    """
    A player in a game: picture, figures, location and team, badges, the
    commits per day, and the latest commits.

    @return: the page's title and content.
    @raise NotFound: for an unknown player.
    """
    model = await store.player(username, game.slug)
    made = await _commit_times(store, model.username, game)
    content = [
        tags.p(class_="who")(
            tags.img(src=model.picture_url, alt="", width="64", height="64")
            if model.picture_url
            else "",
            f"@{model.username} in {game.name}",
        ),
        _figures(model, ("rank", "points", "pending_points", "commits", "projects")),
        await _groups(store, model, game),
        calendar(model, game, made),
        tags.h2("Recent commits"),
        await _commits(store, username=model.username),
    ]
    return model.name, content


async def project_page(
    store: Store, game: Game, slug: str, csrf: str | None
) -> tuple[str, Content]:
    """
    A project in a game: its link and description, figures, screenshots,
    and the latest commits.

    @param csrf: the visitor's CSRF token when signed in, who may add a
        screenshot; L{None} otherwise.
    @return: the page's title and content.
    @raise NotFound: for an unknown project.
    """
    model = await store.project(slug, game.slug)
    content = [
        tags.p(_link(model.url, model.url) if model.url else ""),
        tags.p(model.description) if model.description else "",
        tags.p("This project is deactivated: it no longer scores.", class_="notice")
        if not model.active
        else "",
        _figures(model, ("rank", "points", "pending_points", "commits")),
        _screenshots(model, csrf),
        tags.h2("Recent commits"),
        await _commits(store, project=model.slug),
    ]
    return model.name, content


async def group_page(
    store: Store, game: Game, kind: str, slug: str
) -> tuple[str, Content]:
    """
    A location or a team in a game: its figures, whether a team still
    waits for approval, and its members with their points, most first.

    @param kind: L{Board.LOCATIONS} or L{Board.TEAMS}.
    @return: the page's title and content.
    @raise NotFound: for an unknown group.
    """
    model = await store.group(kind, slug, game.slug)
    members = await store.group_members(kind, model.slug, game.slug, MOST_MEMBERS)
    note: Content = ""
    if kind == Board.TEAMS and model.approved is False:
        note = tags.p("This team waits for an organiser's approval.", class_="notice")
    content = [
        note,
        tags.h2(f"In {game.name}"),
        _figures(model, ("rank", "points", "commits")),
        tags.h2("Members"),
        _members(members, game),
        tags.p(tags.a(f"All {kind}", href=f"/{kind}/?game={quote(game.slug)}")),
    ]
    return model.name, content


def _members(members: Page[Player], game: Game) -> Tag:
    """A group's members by their points in a game."""
    if not members.models:
        return tags.p("Nobody belongs here yet.", class_="empty")
    total = members.total or 0
    shown = len(members.models)
    caption = (
        f"Members' points in {game.name}"
        if shown == total
        else f"The top {shown} of {total:,} members by points in {game.name}"
    )
    rows = [
        tags.tr(
            tags.th(tags.a(p.name or p.username, href=_href(p, game)), scope="row"),
            tags.td(f"{p.points:,}", class_="num"),
            tags.td(f"{p.commits:,}", class_="num"),
        )
        for p in members.models
    ]
    return tags.table(class_="board")(
        tags.caption(caption),
        tags.thead(
            tags.tr(
                tags.th("Player", scope="col"),
                tags.th("Points", scope="col", class_="num"),
                tags.th("Commits", scope="col", class_="num"),
            )
        ),
        tags.tbody(rows),
    )


def _href(player: Player, game: Game) -> str:
    return f"/people/{quote(player.username)}?game={quote(game.slug)}"


async def _commits(
    store: Store, username: str | None = None, project: str | None = None
) -> Tag:
    """The latest commits of a player or a project, with their projects' names."""
    commits = (await store.commits(username=username, project=project)).models
    names = await store.project_names(c.project for c in commits)
    return commit_list(commits, "No commits yet.", names)


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
    """A member's figures in a game, 0 for what it has none of."""
    labels = {"rank": "Rank", "points": "Points", "commits": "Commits"}
    labels |= {"projects": "Projects", "pending_points": "Pending"}
    # Pending points show only while commits wait for their host's word.
    shown_keys = [k for k in keys if k != "pending_points" or getattr(model, k, None)]

    def shown(key: str) -> str:
        value = getattr(model, key)
        if key == "rank":
            return "unranked" if value is None else f"{value:,}"
        return f"{value or 0:,}"

    return tags.dl(class_="figures")(
        [tags.div(tags.dt(labels[k]), tags.dd(shown(k))) for k in shown_keys]
    )


async def _groups(store: Store, model: Player, game: Game) -> Content:
    """Links to the player's location and team, read together."""
    memberships = (
        ("location", Board.LOCATIONS, model.location),
        ("team", Board.TEAMS, model.team),
    )
    wanted = [(key, kind, slug) for key, kind, slug in memberships if slug]
    groups = await all_of([_group(store, kind, slug, game) for _, kind, slug in wanted])
    parts = [
        tags.li(f"{key.title()}: ", member_link(kind, group))
        for (key, kind, _), group in zip(wanted, groups, strict=True)
    ]
    return tags.ul(class_="groups")(parts) if parts else ""


async def _group(store: Store, kind: str, slug: str, game: Game) -> Group:
    """@return: a location or team in the game, a bare one if it has none."""
    try:
        return await store.group(kind, slug, game.slug)
    except NotFound:
        return Group(slug=slug, name=slug, points=0, rank=None, commits=0)


async def _commit_times(
    store: Store, username: str, game: Game
) -> list[tuple[str, int | None]]:
    """
    The times of the player's commits in the game, up to a limit, each with
    the UTC offset its push gave.
    """
    stamps: list[tuple[str, int | None]] = []
    cursor: str | None = None
    while len(stamps) < CALENDAR_COMMITS:
        page = await store.commits(username=username, cursor=cursor, limit=100)
        stamps += [
            (c.timestamp, c.utc_offset) for c in page.models if game.slug in c.games
        ]
        cursor = page.next
        if cursor is None:
            break
    return stamps


__all__ = [
    "CALENDAR_COMMITS",
    "MOST_MEMBERS",
    "group_page",
    "player_page",
    "project_page",
]
