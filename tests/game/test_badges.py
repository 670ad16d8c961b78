"""Badges, streaks and the calendar of a game: pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from julytwisted.game import badges
from julytwisted.game.games import Game


def test_july_has_its_31_days() -> None:
    """The padded July window gives July 1 to 31, no more."""
    game = Game(
        "Julython 2026",
        datetime(2026, 6, 30, 12, tzinfo=UTC),
        datetime(2026, 8, 1, 12, tzinfo=UTC),
    )
    days = badges.game_days(game)
    assert (days[0], days[-1], len(days)) == (date(2026, 7, 1), date(2026, 7, 31), 31)


def test_streak() -> None:
    """The streak is the longest run of days in a row, whatever their order."""
    days = [date(2026, 7, d) for d in (5, 3, 1, 2, 2)]
    assert badges.longest_streak(days) == 3
    assert badges.longest_streak([]) == 0


def test_badges_earned_at_their_thresholds() -> None:
    """10 commits, 5 projects and a 7-day streak earn exactly those badges."""
    earned = [b.name for b in badges.badges(10, 5, 7) if b.earned]
    assert earned == ["1 commit", "10 commits", "5 projects", "7-day streak"]
    assert not any(b.earned for b in badges.badges(0, 0, 0))


def test_levels() -> None:
    """Shades run 0 for none to 4 for the busiest day."""
    assert [badges.level(n, 8) for n in (0, 1, 2, 4, 8)] == [0, 1, 1, 2, 4]
