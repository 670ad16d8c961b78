"""
The rules of provisional points (L{julytwisted.game.review}): which commits
are flagged for an admin, when held points count, and what a reason is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from julytwisted.game import scoring
from julytwisted.game.games import Game
from julytwisted.game.review import (
    MAX_REASON,
    Flag,
    commit_flags,
    is_burst,
    is_stale,
    minute_of,
    reason_text,
    release_at,
)
from julytwisted.game.scoring import ScoredCommit, builtin_games
from tests.builders import IN_JULY, commit

JULY = builtin_games(2026)[1]
ARRIVED = datetime(2026, 7, 15, 12, tzinfo=UTC)


def flags(
    when: datetime = IN_JULY,
    files: tuple[str, ...] = ("main.py",),
    oldest: datetime | None = None,
    listed: bool = True,
    scored: tuple[Game, ...] = (JULY,),
) -> tuple[Flag, ...]:
    return commit_flags(
        commit("a", when=when, files=files),
        ARRIVED,
        scored,
        oldest or when,
        listed,
    )


def test_an_ordinary_commit_has_no_flag() -> None:
    """Dated five days before its arrival, with files, alone: no flag."""
    assert flags() == ()


def test_stale_is_more_than_seven_days_before_arrival() -> None:
    """Seven days before its arrival is not stale; a second more is."""
    week = ARRIVED - timedelta(days=7)
    assert not is_stale(week, ARRIVED)
    assert is_stale(week - timedelta(seconds=1), ARRIVED)
    assert flags(when=week - timedelta(seconds=1)) == (Flag.STALE,)


def test_empty_only_where_the_host_lists_files() -> None:
    """No files: empty from GitHub's webhook, nothing said otherwise."""
    assert flags(files=()) == (Flag.EMPTY,)
    assert flags(files=(), listed=False) == ()


def test_history_from_before_the_game() -> None:
    """
    A push that also carries a commit dated before the game's start flags
    its commits in the game; one whose oldest commit is in the game does not.
    """
    before = JULY.start - timedelta(minutes=1)
    assert flags(oldest=before) == (Flag.HISTORY,)
    assert flags(oldest=JULY.start) == ()


def test_a_commit_scoring_nowhere_is_never_flagged() -> None:
    """Holding a commit that scores in no game would change nothing."""
    assert flags(files=(), scored=()) == ()


def test_flags_come_in_order() -> None:
    """Stale, empty and history together, in the order L{Flag} lists them."""
    old = ARRIVED - timedelta(days=10)
    assert flags(when=old, files=(), oldest=JULY.start - timedelta(days=1)) == (
        Flag.STALE,
        Flag.EMPTY,
        Flag.HISTORY,
    )


def test_burst_is_past_the_limit() -> None:
    """The limit's own count is no burst; one more is."""
    assert not is_burst(30)
    assert is_burst(31)
    assert is_burst(3, limit=2)


def test_minute_of_is_the_utc_minute() -> None:
    """An instant of any offset falls in its UTC minute."""
    when = datetime.fromisoformat("2026-07-10T11:30:59+02:00")
    assert minute_of(when) == "2026-07-10T09:30"


def test_release_at() -> None:
    """Held points count N days after arrival; with 0 days, at once."""
    assert release_at(ARRIVED, 0) is None
    assert release_at(ARRIVED, 3) == ARRIVED + timedelta(days=3)


@pytest.mark.parametrize("bad", ["", "   ", None, 42, "x" * (MAX_REASON + 1)])
def test_bad_reasons_are_refused(bad: object) -> None:
    """A reason is text, not blank, at most 500 characters."""
    with pytest.raises(ValueError):
        reason_text(bad)


def test_reasons_are_one_line() -> None:
    """Runs of white space (new lines too) become one space."""
    assert reason_text("  copied\n from\tsomeone  ") == "copied from someone"
    assert reason_text("x" * MAX_REASON) == "x" * MAX_REASON


def test_tally_leaves_out_held_and_rejected() -> None:
    """Held and rejected commits score nothing; accepted ones as any other."""

    def one(seed: str, review: str | None) -> ScoredCommit:
        return ScoredCommit(
            scoring_hash(seed), "p", IN_JULY, "ada", arrived=ARRIVED, review=review
        )

    boards = scoring.tally(
        [one("a", "held"), one("b", "rejected"), one("c", "accepted")], JULY
    )
    assert boards["people"] == {"ada": 11}
    assert scoring.tally([one("a", "held")], JULY)["people"] == {}


def scoring_hash(seed: str) -> str:
    return commit(seed).hash
