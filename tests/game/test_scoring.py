"""
Tests for L{julytwisted.scoring}: game windows, the current game, and points.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from julytwisted.game.games import Game
from julytwisted.game.scoring import (
    BOARDS,
    COMMIT_POINTS,
    FIRST_COMMIT_BONUS,
    FUTURE_SKEW,
    LATE_GRACE,
    ScoredCommit,
    builtin_games,
    current_game,
    find_game,
    games_at,
    games_scored,
    is_future,
    scores_in,
    tally,
)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


JANUARY_2026, JULY_2026 = builtin_games(2026)
MID_JULY = at(2026, 7, 15)
SPRINT = Game("Summer Sprint", at(2026, 7, 10), at(2026, 7, 20))


def commit(
    hash: str,
    when: datetime = MID_JULY,
    project: str = "proj",
    username: str | None = "alice",
    location: str | None = None,
    team: str | None = None,
    languages: tuple[str, ...] = (),
) -> ScoredCommit:
    """A scored commit with defaults inside Julython 2026."""
    return ScoredCommit(hash, project, when, username, location, team, languages)


def test_constants() -> None:
    """The point values and board names are the ones the rules give."""
    assert COMMIT_POINTS == 1
    assert FIRST_COMMIT_BONUS == 10
    assert BOARDS == ("people", "projects", "locations", "teams", "languages")


def test_julython_window() -> None:
    """Julython pads July by twelve hours on each side."""
    assert JULY_2026.name == "Julython 2026"
    assert JULY_2026.start == at(2026, 6, 30, 12)
    assert JULY_2026.end == at(2026, 8, 1, 12)


def test_january_window() -> None:
    """J(an)ulython starts at noon UTC on the last day of the year before."""
    assert JANUARY_2026.name == "J(an)ulython 2026"
    assert JANUARY_2026.start == at(2025, 12, 31, 12)
    assert JANUARY_2026.end == at(2026, 2, 1, 12)


def test_builtin_slugs() -> None:
    """The built-in games' slugs come from their names."""
    assert JULY_2026.slug == "julython-2026"
    assert JANUARY_2026.slug == "j-an-ulython-2026"


def test_builtin_games_bad_year() -> None:
    """A year no datetime can hold the games of is refused."""
    with pytest.raises(ValueError):
        builtin_games(10000)


def test_window_start_is_in() -> None:
    """The first instant of Julython's window scores in it."""
    assert games_at(at(2026, 6, 30, 12)) == (JULY_2026,)


def test_window_end_is_out() -> None:
    """The instant Julython's window ends scores in no game."""
    assert games_at(at(2026, 8, 1, 12)) == ()
    assert games_at(at(2026, 8, 1, 11, 59)) == (JULY_2026,)


def test_before_window_is_out() -> None:
    """The instant before Julython's window scores in no game."""
    assert games_at(at(2026, 6, 30, 11, 59)) == ()


def test_january_window_start_in_previous_year() -> None:
    """Noon UTC on New Year's Eve counts for the next year's J(an)ulython."""
    assert games_at(at(2025, 12, 31, 12)) == (JANUARY_2026,)
    assert games_at(at(2025, 12, 31, 11, 59)) == ()


def test_games_at_offset_instant() -> None:
    """An instant with a UTC offset is placed by its UTC value."""
    plus14 = timezone(timedelta(hours=14))
    when = datetime(2026, 8, 2, 1, 0, tzinfo=plus14)  # 2026-08-01T11:00Z
    assert games_at(when) == (JULY_2026,)


def test_games_at_naive_refused() -> None:
    """A naive instant is refused rather than guessed at."""
    with pytest.raises(ValueError):
        games_at(datetime(2026, 7, 15))


def test_games_at_overlapping_custom_game() -> None:
    """A commit inside a custom game and Julython scores in both, by start."""
    assert games_at(at(2026, 7, 15), [SPRINT]) == (JULY_2026, SPRINT)


def test_games_at_custom_game_alone() -> None:
    """A custom game outside the built-in windows holds its own commits."""
    spring = Game("Spring", at(2026, 4, 1), at(2026, 4, 8))
    assert games_at(at(2026, 4, 3), [spring]) == (spring,)
    assert games_at(at(2026, 4, 8), [spring]) == ()


def test_current_game_during_julython() -> None:
    """In July the current game is that July's Julython."""
    assert current_game(at(2026, 7, 15)) == JULY_2026


def test_current_game_after_julython() -> None:
    """Between games the current game is the one that ended last."""
    assert current_game(at(2026, 11, 21)) == JULY_2026
    assert current_game(at(2026, 8, 1, 12)) == JULY_2026


def test_current_game_spring() -> None:
    """In spring the current game is January's J(an)ulython."""
    assert current_game(at(2026, 3, 1)) == JANUARY_2026


def test_current_game_late_december() -> None:
    """At noon on New Year's Eve the next J(an)ulython has begun."""
    assert current_game(at(2026, 12, 31, 12)) == builtin_games(2027)[0]
    assert current_game(at(2026, 12, 31, 11)) == JULY_2026


def test_current_game_later_custom_game_wins() -> None:
    """A custom game running now that started after Julython is current."""
    assert current_game(at(2026, 7, 15), [SPRINT]) == SPRINT


def test_current_game_earlier_custom_game_loses() -> None:
    """A custom game running now that started before Julython is not current."""
    summer = Game("Summer", at(2026, 6, 1), at(2026, 9, 1))
    assert current_game(at(2026, 7, 15), [summer]) == JULY_2026


def test_current_game_custom_game_ended_last() -> None:
    """Between games, a custom game that ended after Julython is current."""
    autumn = Game("Autumn", at(2026, 10, 1), at(2026, 10, 8))
    assert current_game(at(2026, 11, 21), [autumn]) == autumn


def test_current_game_naive_refused() -> None:
    """A naive present instant is refused."""
    with pytest.raises(ValueError):
        current_game(datetime(2026, 7, 15))


def test_find_game_julython() -> None:
    """The slug julython-YYYY names that year's Julython."""
    assert find_game("julython-2026") == JULY_2026
    assert find_game("julython-1970") == builtin_games(1970)[1]


def test_find_game_january() -> None:
    """The slug j-an-ulython-YYYY names that year's J(an)ulython."""
    assert find_game("j-an-ulython-2026") == JANUARY_2026


def test_find_game_custom() -> None:
    """A custom game is found by its slug."""
    assert find_game("summer-sprint", [SPRINT]) == SPRINT


def test_find_game_custom_first() -> None:
    """A custom game with a built-in game's slug is found before it."""
    odd = Game("Julython 2026", at(2026, 7, 1), at(2026, 8, 1))
    assert find_game("julython-2026", [odd]) == odd


def test_find_game_unknown() -> None:
    """Slugs that name no game give None."""
    for slug in ("", "julython", "julython-26", "julython-1969", "pycon-2026"):
        assert find_game(slug, [SPRINT]) is None, slug


def test_tally_worked_example_two_commits() -> None:
    """Two commits by a player with a location give each board 12 points."""
    commits = [commit("a1", location="boston"), commit("a2", location="boston")]
    boards = tally(commits, JULY_2026)
    assert boards["people"] == {"alice": 12}
    assert boards["projects"] == {"proj": 12}
    assert boards["locations"] == {"boston": 12}


def test_tally_worked_example_one_commit() -> None:
    """One commit by a player with a location gives each board 11 points."""
    boards = tally([commit("a1", location="boston")], JULY_2026)
    assert boards["people"] == {"alice": 11}
    assert boards["projects"] == {"proj": 11}
    assert boards["locations"] == {"boston": 11}


def test_tally_boards() -> None:
    """The tally has a key for every board, empty when nothing scored."""
    assert tally([], JULY_2026) == {board: {} for board in BOARDS}


def test_tally_bonus_per_project() -> None:
    """A player earns the first-commit bonus once per project."""
    commits = [commit("a1"), commit("a2", project="other"), commit("a3")]
    boards = tally(commits, JULY_2026)
    assert boards["people"] == {"alice": 23}
    assert boards["projects"] == {"proj": 12, "other": 11}


def test_tally_team_bonus_per_project() -> None:
    """A team earns the bonus once per project, whichever member commits."""
    commits = [commit("a1", team="t"), commit("b1", username="bob", team="t")]
    boards = tally(commits, JULY_2026)
    assert boards["teams"] == {"t": 12}
    assert boards["people"] == {"alice": 11, "bob": 11}


def test_tally_orphans_score_project_only() -> None:
    """A commit with no player scores for its project and languages only."""
    orphan = commit("o1", username=None, location="x", team="y", languages=("C",))
    boards = tally([orphan], JULY_2026)
    assert boards == {
        "people": {},
        "projects": {"proj": 11},
        "locations": {},
        "teams": {},
        "languages": {"C": 1},
    }


def test_tally_duplicates_counted_once() -> None:
    """A hash seen again counts once, as its first occurrence says."""
    first = commit("a1", location="boston")
    again = commit("a1", project="other", location="paris")
    boards = tally([first, first, again], JULY_2026)
    assert boards["people"] == {"alice": 11}
    assert boards["projects"] == {"proj": 11}
    assert boards["locations"] == {"boston": 11}


def test_tally_first_occurrence_outside_game() -> None:
    """A hash first seen outside the game does not count when seen again inside."""
    outside = commit("a1", when=at(2026, 9, 1))
    inside = commit("a1")
    assert tally([outside, inside], JULY_2026)["people"] == {}


def test_tally_languages() -> None:
    """Each distinct language of a commit earns one point, with no bonus."""
    commits = [
        commit("a1", languages=("Python", "C", "Python")),
        commit("a2", languages=("Python",)),
    ]
    assert tally(commits, JULY_2026)["languages"] == {"Python": 2, "C": 1}


def test_tally_only_commits_in_game() -> None:
    """Commits outside the game's window score nothing in it."""
    commits = [commit("a1"), commit("a2", when=at(2026, 8, 1, 12))]
    assert tally(commits, JULY_2026)["people"] == {"alice": 11}


def test_tally_commit_scores_in_overlapping_games() -> None:
    """A commit in a custom game and Julython scores in each game's tally."""
    commits = [commit("a1")]
    assert tally(commits, SPRINT)["people"] == {"alice": 11}
    assert tally(commits, JULY_2026)["people"] == {"alice": 11}


def test_scored_commit_naive_refused() -> None:
    """A scored commit with a naive timestamp is refused."""
    with pytest.raises(ValueError):
        ScoredCommit("a1", "proj", datetime(2026, 7, 15), None, None, None, ())


_members = st.sampled_from(["a", "b", "c"])
_scored_commits = st.builds(
    ScoredCommit,
    hash=st.just(""),
    project=st.sampled_from(["p", "q"]),
    timestamp=st.datetimes(
        min_value=datetime(2026, 6, 29),
        max_value=datetime(2026, 8, 3),
        timezones=st.just(UTC),
    ),
    username=st.none() | _members,
    location=st.none() | _members,
    team=st.none() | _members,
    languages=st.lists(st.sampled_from(["C", "Python", "Go"]), max_size=3).map(tuple),
)


@given(
    commits=st.lists(_scored_commits, max_size=20),
    seed=st.randoms(use_true_random=False),
    repeats=st.lists(st.integers(min_value=0, max_value=19), max_size=10),
)
def test_tally_order_independent(
    commits: list[ScoredCommit], seed: random.Random, repeats: list[int]
) -> None:
    """Shuffling the commits and delivering some again changes no total."""
    unique = [attrs.evolve(c, hash=f"h{i}") for i, c in enumerate(commits)]
    redelivered = unique + [unique[i] for i in repeats if i < len(unique)]
    seed.shuffle(redelivered)
    assert tally(redelivered, JULY_2026) == tally(unique, JULY_2026)


# Arrival: the late grace and commits from the future

_END = datetime(2026, 8, 1, 12, tzinfo=UTC)
_MADE = datetime(2026, 7, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("arrived", "scores"),
    [
        (_MADE, True),
        (_END, True),
        (_END + LATE_GRACE - timedelta(seconds=1), True),
        (_END + LATE_GRACE, False),
        (datetime(2027, 7, 20, tzinfo=UTC), False),
        (JULY_2026.start - timedelta(seconds=1), False),
    ],
)
def test_scores_in_window_plus_grace(arrived: datetime, scores: bool) -> None:
    """
    A commit made in the game scores when its push arrives within the window
    plus the late grace (48 hours by default), never after.
    """
    assert scores_in(JULY_2026, _MADE, arrived) is scores
    assert (JULY_2026 in games_scored(_MADE, arrived)) is scores


def test_grace_is_configurable() -> None:
    """A grace of zero ends scoring with the window; a week extends it."""
    late = _END + timedelta(hours=1)
    assert not scores_in(JULY_2026, _MADE, late, timedelta(0))
    assert scores_in(JULY_2026, _MADE, late + timedelta(days=5), timedelta(days=7))


def test_future_commits_score_nowhere() -> None:
    """
    A commit dated more than a day after its arrival is from the future:
    it scores in no game, even one whose window holds both times.
    """
    arrived = datetime(2026, 7, 10, tzinfo=UTC)
    assert not is_future(arrived + FUTURE_SKEW, arrived)
    assert is_future(arrived + FUTURE_SKEW + timedelta(seconds=1), arrived)
    assert games_scored(datetime(2026, 7, 12, tzinfo=UTC), arrived) == ()
    assert games_scored(datetime(2099, 7, 12, tzinfo=UTC), arrived) == ()
    assert games_scored(datetime(2026, 7, 11, tzinfo=UTC), arrived) == (JULY_2026,)


def test_tally_follows_arrivals() -> None:
    """
    The reference tally scores a commit only as the ingest does: late and
    future commits nothing; one stored before arrivals were by its time.
    """
    on_time = ScoredCommit("a", "p", _MADE, "ada", arrived=_MADE)
    late = ScoredCommit("b", "p", _MADE, "ada", arrived=_END + timedelta(days=3))
    future = ScoredCommit(
        "c", "p", datetime(2026, 7, 30, tzinfo=UTC), "ada", arrived=_MADE
    )
    legacy = ScoredCommit("d", "p", _MADE, "ada")
    boards = tally([on_time, late, future, legacy], JULY_2026)
    assert boards["people"] == {"ada": 12}
    assert tally([late], JULY_2026, timedelta(days=4))["people"] == {"ada": 11}


def test_tally_pending_and_rejected_score_nothing() -> None:
    """
    A commit waiting for its host's word scores nothing, nor one its host
    refused; verified (no longer pending) it scores as any other, the first
    one on the project taking the bonus.
    """
    waiting = attrs.evolve(commit("a", languages=("Python",)), pending=True)
    refused = attrs.evolve(commit("b"), rejected=True)
    boards = tally([waiting, refused], JULY_2026)
    assert all(scores == {} for scores in boards.values())
    verified = tally([attrs.evolve(waiting, pending=False), refused], JULY_2026)
    assert verified["people"] == {"alice": 11}
    assert verified["languages"] == {"Python": 1}
