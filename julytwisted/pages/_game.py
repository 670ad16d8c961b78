# -*- test-case-name: tests.pages.test_game_pages -*-
"""
A game's page at C{/games/<slug>} (its window, its points, the log of its
changes) and the admin's forms that make, change and end games.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.web.template import Tag, tags

from julytwisted.errors import InvalidInput
from julytwisted.game.games import parse_instant
from julytwisted.models import GameDetail, GameLogEntry
from julytwisted.pages._html import Content, field, post_form

#: What each field of a game is called on its page.
_LABELS = {
    "start": "Start",
    "end": "End",
    "commit_points": "Points per commit",
    "first_bonus": "First-commit bonus",
}

_STATES = {"upcoming": "Not started", "running": "Running", "ended": "Ended"}


def game_page(game: GameDetail) -> tuple[str, Content]:
    """@return: the title and content of a game's page."""
    facts = [
        ("Runs", f"{game.start} up to {game.end}"),
        ("State", _STATES[game.state]),
        (_LABELS["commit_points"], str(game.commit_points)),
        (_LABELS["first_bonus"], str(game.first_bonus)),
    ]
    content: list[Content] = [
        tags.h1(game.name),
        tags.dl(class_="facts")([[tags.dt(k), tags.dd(v)] for k, v in facts]),
        tags.p(tags.a("Its people board", href=f"/people/?game={game.slug}")),
        tags.section(tags.h2("Changes"), _log(game.log, game.editable)),
    ]
    return game.name, content


def _log(log: Sequence[GameLogEntry], editable: bool) -> Content:
    if not log:
        if editable:
            return tags.p("No change is logged yet.")
        return tags.p("A built-in game: it never changes.")
    rows = [
        tags.tr(
            tags.td(tags.time(entry.at, datetime=entry.at)),
            tags.td(entry.by),
            tags.td(entry.action),
            tags.td(
                tags.ul(
                    [
                        tags.li(
                            f"{_LABELS[c.field]}: "
                            + (f"{c.old} \N{RIGHTWARDS ARROW} " if c.old else "")
                            + c.new
                        )
                        for c in entry.changes
                    ]
                )
            ),
        )
        for entry in log
    ]
    head = tags.tr([tags.th(h, scope="col") for h in ("When", "Who", "What", "Fields")])
    return tags.table(class_="log")(
        tags.caption("Changes, oldest first"), tags.thead(head), tags.tbody(rows)
    )


def form_instant(name: str, text: str) -> str | None:
    """
    @return: a form's instant as ISO 8601 in UTC, L{None} when left blank;
        one typed without an offset (as a C{datetime-local} box sends it) is
        taken as UTC.
    @raise InvalidInput: when it is no instant.
    """
    text = text.strip()
    if not text:
        return None
    try:
        return parse_instant(name, text).isoformat()
    except InvalidInput:
        return parse_instant(name, text + "+00:00").isoformat()


def form_points(name: str, text: str) -> int | None:
    """
    @return: a form's points, L{None} when left blank.
    @raise InvalidInput: when they are no whole number.
    """
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{_LABELS[name]} must be a whole number from 0 to 100")
    return int(text)


_WHEN = (
    "UTC unless an offset is given, such as 2026-07-20T18:00 or 2026-07-20T18:00+02:00"
)


def admin_games(games: Sequence[GameDetail], csrf: str) -> Tag:
    """The admin's section on games: those that may change, and the forms."""
    rows = [
        tags.li(
            tags.a(g.name, href=f"/games/{g.slug}"),
            f" ({g.slug}): {_STATES[g.state].lower()}, {g.start} up to {g.end}",
        )
        for g in games
    ]
    points = [
        field(_LABELS["commit_points"], "commit_points", hint="0 to 100; blank: 1"),
        field(_LABELS["first_bonus"], "first_bonus", hint="0 to 100; blank: 10"),
    ]
    return tags.section(
        tags.h2("Games"),
        tags.ul(rows) if rows else tags.p("No game made at run time or by --game."),
        tags.h3("Make a game"),
        post_form(
            "/admin/create-game",
            csrf,
            [
                field("Name", "name", required=True, ident="f-game-name"),
                field("Start", "start", required=True, hint=_WHEN, ident="f-new-start"),
                field("End", "end", required=True, hint=_WHEN, ident="f-new-end"),
                *points,
            ],
            "Make the game",
        ),
        tags.h3("Change a game"),
        tags.p(
            "Before it starts anything may change; while it runs, its end and"
            " its points (then its boards are recounted); once ended, nothing."
            " Leave blank what stays."
        ),
        post_form(
            "/admin/update-game",
            csrf,
            [
                field("Game slug", "slug", required=True, ident="f-edit-slug"),
                field("Start", "start", hint=_WHEN, ident="f-edit-start"),
                field("End", "end", hint=_WHEN, ident="f-edit-end"),
                field(_LABELS["commit_points"], "commit_points", ident="f-edit-points"),
                field(_LABELS["first_bonus"], "first_bonus", ident="f-edit-bonus"),
            ],
            "Change the game",
        ),
        tags.h3("End a game now"),
        post_form(
            "/admin/end-game",
            csrf,
            [field("Game slug", "slug", required=True, ident="f-end-slug")],
            "End the game",
        ),
    )


__all__ = ["admin_games", "form_instant", "form_points", "game_page"]
