# -*- test-case-name: tests.pages.test_pages -*-
"""
The detail pages of the public site, one player, project, location or team
in a game: what each shows, read from the store.  L{Pages
<julytwisted.pages.boards.Pages>} routes to them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from twisted.web.template import Tag, tags

from julytwisted.errors import NotFound
from julytwisted.game import badges as _badges
from julytwisted.game.games import Game
from julytwisted.models import UNSET, Board, Group, Member, Player, Project
from julytwisted.pages._html import (
    Content,
    aria,
    commit_list,
    member_link,
    upload_form,
)
from julytwisted.store import Store, all_of

#: The most commits a player's page reads to draw the calendar.
CALENDAR_COMMITS = 1000


async def player_page(store: Store, game: Game, username: str) -> tuple[str, Content]:
    """
    A player in a game: picture, figures, location and team, badges, the
    commits per day, and the latest commits.

    @return: the page's title and content.
    @raise NotFound: for an unknown player.
    """
    model = await store.player(username, game.slug)
    calendar = await _calendar(store, model, game)
    content = [
        tags.p(class_="who")(
            tags.img(src=model.picture_url, alt="", width="64", height="64")
            if model.picture_url
            else "",
            f"@{model.username} in {game.name}",
        ),
        _figures(model, ("rank", "points", "pending_points", "commits", "projects")),
        await _groups(store, model, game),
        calendar,
        tags.h2("Recent commits"),
        commit_list(
            (await store.commits(username=model.username)).models,
            "No commits yet.",
        ),
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
        commit_list(
            (await store.commits(project=model.slug)).models,
            "No commits yet.",
        ),
    ]
    return model.name, content


async def group_page(
    store: Store, game: Game, kind: str, slug: str
) -> tuple[str, Content]:
    """
    A location or a team in a game: its figures, and whether a team still
    waits for approval.

    @param kind: L{Board.LOCATIONS} or L{Board.TEAMS}.
    @return: the page's title and content.
    @raise NotFound: for an unknown group.
    """
    model = await store.group(kind, slug, game.slug)
    note: Content = ""
    if kind == Board.TEAMS and model.approved is False:
        note = tags.p("This team waits for an organiser's approval.", class_="notice")
    content = [
        note,
        tags.p(f"In {game.name}:"),
        _figures(model, ("rank", "points", "commits")),
        tags.p(tags.a(f"All {kind}", href=f"/{kind}/?game={quote(game.slug)}")),
    ]
    return model.name, content


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
    labels |= {"projects": "Projects", "pending_points": "Pending"}
    # Pending points show only while commits wait for their host's word.
    shown = [k for k in keys if k != "pending_points" or getattr(model, k, None)]
    return tags.dl(class_="figures")(
        [
            tags.div(tags.dt(labels[k]), tags.dd(str(getattr(model, k) or "none")))
            for k in shown
        ]
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


async def _calendar(store: Store, model: Player, game: Game) -> Content:
    """The player's badges, longest streak and commits per day in the game."""
    stamps = await _commit_times(store, model.username, game)
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


async def _commit_times(store: Store, username: str, game: Game) -> list[str]:
    """The timestamps of the player's commits in the game, up to a limit."""
    stamps: list[str] = []
    cursor: str | None = None
    while len(stamps) < CALENDAR_COMMITS:
        page = await store.commits(username=username, cursor=cursor, limit=100)
        stamps += [c.timestamp for c in page.models if game.slug in c.games]
        cursor = page.next
        if cursor is None:
            break
    return stamps


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


__all__ = ["CALENDAR_COMMITS", "group_page", "player_page", "project_page"]
