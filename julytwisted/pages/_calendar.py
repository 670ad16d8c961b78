# -*- test-case-name: tests.pages.test_player_pages,tests.pages.test_fair_days -*-
"""
A player's badges and calendar of commits in a game, on their page.

A game may be a month or twenty years long, so the calendar shows at most
L{MOST_WEEKS} weeks: a whole game when it is that short, else the weeks from
the player's first to their last commit in it, the latest L{MOST_WEEKS} of
them when those span more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from twisted.web.template import Tag, tags

from julytwisted.game import badges as _badges
from julytwisted.game import days as _days
from julytwisted.game.games import Game
from julytwisted.models import Player
from julytwisted.pages._html import Content, aria

#: The most weeks a calendar shows: a year.
MOST_WEEKS = 53

#: Calendars of more weeks than this lie on their side, a column a week.
_UPRIGHT_WEEKS = 6

_WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def calendar(
    model: Player, game: Game, commits: Sequence[tuple[str, int | None]]
) -> Content:
    """
    The player's badges, longest streak and commits per day in a game, each
    commit on the day it was made in the player's time zone, else in its
    own UTC offset (L{julytwisted.game.days}).

    @param model: the player, with their figures in the game.
    @param commits: the ISO 8601 time of each of their commits in the game,
        with the UTC offset, in minutes, its push gave (L{None}: none).
    """
    counts = _days.per_day(commits, _days.zone_of(model.time_zone))
    days = _badges.game_days(game)
    in_game = set(days)
    streak = _badges.longest_streak(d for d in counts if d in in_game)
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
        tags.p(_whose_days(model), class_="days"),
        _heat_map(shown_days(days, counts), counts, game, days),
    ]


def _whose_days(model: Player) -> str:
    """Which days the calendar and the streak count in."""
    if model.time_zone:
        return f"Days in {model.time_zone}, the time zone of @{model.username}."
    return (
        "Each commit counts on the day it was made in the UTC offset its "
        "push gave (UTC when it gave none)."
    )


def shown_days(days: Sequence[date], counts: dict[date, int]) -> list[date]:
    """
    @param days: the days of a game, in order.
    @param counts: commits per day.
    @return: the days of the game the calendar shows: all of them when they
        fit in L{MOST_WEEKS} weeks; else those of the weeks from the first
        to the last holding a commit, the latest L{MOST_WEEKS} of them at
        most; none when no day of the game holds a commit.
    """
    busy = [d for d in days if counts.get(d)]
    if not busy:
        return []
    if _monday(days[-1]) - _monday(days[0]) < timedelta(weeks=MOST_WEEKS):
        return list(days)
    last = _monday(busy[-1]) + timedelta(days=6)
    first = max(_monday(busy[0]), _monday(last) - timedelta(weeks=MOST_WEEKS - 1))
    return [d for d in days if first <= d <= last]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _heat_map(
    days: list[date], counts: dict[date, int], game: Game, whole: Sequence[date]
) -> Content:
    if not days:
        return tags.p(f"No commits yet in {game.name}.", class_="empty")
    most = max(counts.get(d, 0) for d in days)
    heads = [aria(tags.li(name, class_="weekday"), hidden="true") for name in _WEEKDAYS]
    pads = [
        aria(tags.li(class_="pad"), hidden="true") for _ in range(days[0].weekday())
    ]
    cells: list[Content] = [*heads, *pads]
    for day in days:
        n = counts.get(day, 0)
        label = f"{day:%a %d %b %Y}: {n} commit{'s' * (n != 1)}"
        cells.append(
            tags.li(
                tags.span(label, class_="label"),
                class_=f"day level-{_badges.level(n, most)}",
                title=label,
            )
        )
    wide = (days[-1] - days[0]).days >= 7 * _UPRIGHT_WEEKS
    grid = aria(
        tags.ol(class_="heatmap wide" if wide else "heatmap")(cells),
        label=f"Commits per day, {days[0]:%d %b %Y} to {days[-1]:%d %b %Y}",
    )
    if wide:
        # Scrolled sideways on a narrow screen: the keyboard must reach it.
        grid.attributes["tabindex"] = "0"
    return [_span_note(days, whole), grid]


def _span_note(days: list[date], whole: Sequence[date]) -> Tag | str:
    """Which part of a long game the calendar shows."""
    if days[0] == whole[0] and days[-1] == whole[-1]:
        return ""
    return tags.p(
        f"From {days[0]:%a %d %b %Y} to {days[-1]:%a %d %b %Y}: "
        "the latest weeks of this game with commits."
    )


__all__ = ["MOST_WEEKS", "calendar", "shown_days"]
