# -*- test-case-name: tests.game.test_badges -*-
"""
A player's badges, streaks and calendar of commits: pure functions of their
figures and commit days (their own days: L{julytwisted.game.days}), no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

import attrs

from julytwisted.game.games import Game

#: Commit counts that earn a badge.
COMMIT_BADGES = (1, 10, 31, 100, 1000)

#: Project counts that earn a badge.
PROJECT_BADGES = (5, 10, 50, 100)

#: Streaks, in days in a row with a commit, that earn a badge.
STREAK_BADGES = (7, 14, 31)


@attrs.frozen
class Badge:
    """
    @ivar name: what it is called.
    @ivar earned: whether the player has it.
    """

    name: str
    earned: bool


def game_days(game: Game) -> list[date]:
    """
    The calendar days of a game: each day whose UTC midnight is inside the
    window, less the 12 hours of padding at its end.
    """
    first = game.start.date()
    if datetime(first.year, first.month, first.day, tzinfo=game.start.tzinfo) < (
        game.start
    ):
        first += timedelta(days=1)
    last = game.end - timedelta(hours=12)
    days = []
    day = first
    while datetime(day.year, day.month, day.day, tzinfo=game.end.tzinfo) < last:
        days.append(day)
        day += timedelta(days=1)
    return days


def longest_streak(days: Iterable[date]) -> int:
    """@return: the most days in a row among C{days}."""
    ordered = sorted(set(days))
    best = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


def badges(commits: int, projects: int, streak: int) -> Sequence[Badge]:
    """Every badge, earned or not, for a player's figures in a game."""
    return (
        *(Badge(f"{n} commit{'s' * (n > 1)}", commits >= n) for n in COMMIT_BADGES),
        *(Badge(f"{n} projects", projects >= n) for n in PROJECT_BADGES),
        *(Badge(f"{n}-day streak", streak >= n) for n in STREAK_BADGES),
    )


def level(count: int, most: int) -> int:
    """@return: the shade, 0 to 4, of a day with C{count} commits."""
    if count <= 0 or most <= 0:
        return 0
    return min(4, 1 + (count * 4 - 1) // most)


__all__ = [
    "COMMIT_BADGES",
    "PROJECT_BADGES",
    "STREAK_BADGES",
    "Badge",
    "badges",
    "game_days",
    "level",
    "longest_streak",
]
