# -*- test-case-name: tests.game.test_scoring,tests.store.test_ingest_rules -*-
"""
Game windows and points: which games a commit scores in, and how much.

Pure functions with no I/O.  L{julytwisted.store} applies these rules inside
one Lua script per push; L{tally} states them again in plain Python, as the
oracle that tests and the recount job compare the store against.

Every year has two built-in games: J(an)ulython in January and Julython in
July.  "Midnight local time" is honoured by padding each UTC window twelve
hours on either side, so Julython 2026 runs from 2026-06-30T12:00Z up to (but
not including) 2026-08-01T12:00Z.  Custom games come from the command line as
L{Game} values; a custom game whose slug equals a built-in one replaces it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import MAXYEAR, MINYEAR, UTC, datetime, timedelta
from enum import StrEnum

import attrs

from julytwisted.game.games import COMMIT_POINTS, FIRST_COMMIT_BONUS, Game


class Board(StrEnum):
    """
    The boards every game keeps, spelled as their URLs, keys and feed
    messages spell them.
    """

    PEOPLE = "people"
    PROJECTS = "projects"
    LOCATIONS = "locations"
    TEAMS = "teams"
    LANGUAGES = "languages"


#: Every board, in the order the site lists them.
BOARDS = tuple(Board)

#: The boards of groups a player joins: a location and a team.
GROUPS = (Board.LOCATIONS, Board.TEAMS)
"""The names of the boards every game keeps, as L{tally} returns them."""

FIRST_BUILTIN_YEAR = 1970
"""The earliest year whose built-in games L{find_game} resolves by slug."""

LAST_BUILTIN_YEAR = 9999
"""The latest year whose built-in games L{find_game} resolves by slug."""

LATE_GRACE = timedelta(hours=48)
"""
How long after a game's window a commit of that window may still arrive and
score in it (C{--late-grace}): a push delivered late scores, history
imported later does not fill an ended game.
"""

FUTURE_SKEW = timedelta(days=1)
"""
How far a commit's own time may be after its arrival (clocks differ): one
dated later is stored and flagged as from the future, and scores nowhere.
"""

_PADDING = timedelta(hours=12)
_BUILTIN_SLUG = re.compile(r"^(julython|j-an-ulython)-([0-9]{4})$")


def _window(name: str, start: datetime, end: datetime) -> Game:
    return Game(name, start - _PADDING, end + _PADDING)


@functools.lru_cache(maxsize=64)
def builtin_games(year: int) -> tuple[Game, Game]:
    """
    The two games every year holds.

    @param year: the calendar year, from C{datetime.MINYEAR + 1} to
        C{datetime.MAXYEAR}.
    @return: J(an)ulython (January) then Julython (July) of that year, each
        padded twelve hours on both sides of its UTC month.
    @raise ValueError: for a year whose windows no L{datetime} can hold.
    """
    if not MINYEAR < year <= MAXYEAR:
        raise ValueError(f"no built-in games in year {year}")
    january = _window(
        f"J(an)ulython {year}",
        datetime(year, 1, 1, tzinfo=UTC),
        datetime(year, 2, 1, tzinfo=UTC),
    )
    july = _window(
        f"Julython {year}",
        datetime(year, 7, 1, tzinfo=UTC),
        datetime(year, 8, 1, tzinfo=UTC),
    )
    return january, july


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"instant {when!r} carries no time zone")
    return when


def _games_near(when: datetime, custom: Sequence[Game]) -> list[Game]:
    """
    The built-in games of the years around C{when}, then the custom games.

    The built-in games of the year before, of, and after C{when}'s UTC year
    include every built-in game that holds C{when} and the latest one that
    ended before it.  A custom game whose slug is a built-in one replaces it.
    """
    year = _aware(when).astimezone(UTC).year
    replaced = {game.slug for game in custom}
    games = [
        game
        for near in range(max(year - 1, MINYEAR + 1), min(year + 1, MAXYEAR) + 1)
        for game in builtin_games(near)
        if game.slug not in replaced
    ]
    games.extend(custom)
    return games


def _by_start(game: Game) -> tuple[datetime, datetime, str]:
    return (game.start, game.end, game.slug)


def games_at(when: datetime, custom: Sequence[Game] = ()) -> tuple[Game, ...]:
    """
    Every game a commit made at C{when} scores in.

    @param when: an aware instant, such as a commit's own timestamp.
    @param custom: the configured games besides the built-in ones.
    @return: the games whose window holds C{when}, ordered by start (then
        end, then slug); empty when none does.
    @raise ValueError: when C{when} is naive.
    """
    held = {game for game in _games_near(when, custom) if game.holds(when)}
    return tuple(sorted(held, key=_by_start))


def is_future(when: datetime, arrived: datetime) -> bool:
    """
    @param when: a commit's own time, aware.
    @param arrived: when its push arrived, aware.
    @return: whether the commit claims a time more than L{FUTURE_SKEW}
        after its arrival.
    """
    return _aware(when) > _aware(arrived) + FUTURE_SKEW


def scores_in(
    game: Game, when: datetime, arrived: datetime, grace: timedelta = LATE_GRACE
) -> bool:
    """
    Whether a commit made at C{when} whose push arrived at C{arrived} scores
    in C{game}: the window holds its own time, the window extended by
    C{grace} holds its arrival, and it is not from the future.
    """
    if is_future(when, arrived) or not game.holds(when):
        return False
    return game.start <= arrived < game.end + grace


def games_scored(
    when: datetime,
    arrived: datetime,
    custom: Sequence[Game] = (),
    grace: timedelta = LATE_GRACE,
) -> tuple[Game, ...]:
    """
    Every game a commit scores in (see L{scores_in}), ordered as
    L{games_at} orders them; a commit never makes a game.
    """
    return tuple(
        game for game in games_at(when, custom) if scores_in(game, when, arrived, grace)
    )


def current_game(now: datetime, custom: Sequence[Game] = ()) -> Game:
    """
    The game the boards show when no game is named.

    @param now: the aware present instant.
    @param custom: the configured games besides the built-in ones.
    @return: among the games holding C{now}, the one that started last
        (ties go to the one ending first, then to the lower slug); when none
        holds it, the one that ended last (ties go to the one that started
        last); when none has ended either, the next to start.
    @raise ValueError: when C{now} is naive.
    """
    games = _games_near(now, custom)
    held = [game for game in games if game.holds(now)]
    if held:
        return _latest_start(held)
    ended = [game for game in games if game.end <= now]
    if ended:
        last_end = max(game.end for game in ended)
        return _latest_start([game for game in ended if game.end == last_end])
    return min(games, key=_by_start)


def _latest_start(games: Sequence[Game]) -> Game:
    """The game that started last; ties go to the one ending first, then slug."""
    latest = max(game.start for game in games)
    return min(
        (game for game in games if game.start == latest),
        key=lambda game: (game.end, game.slug),
    )


def find_game(slug: str, custom: Sequence[Game] = ()) -> Game | None:
    """
    The game a slug names.

    @param slug: a game's slug, such as C{"julython-2026"}.
    @param custom: the configured games besides the built-in ones; these are
        searched first.
    @return: the custom game with that slug; else the built-in game when the
        slug is C{"julython-YYYY"} or C{"j-an-ulython-YYYY"} with C{YYYY}
        from L{FIRST_BUILTIN_YEAR} to L{LAST_BUILTIN_YEAR}; else L{None}.
    """
    for game in custom:
        if game.slug == slug:
            return game
    match = _BUILTIN_SLUG.match(slug)
    if match is None:
        return None
    year = int(match.group(2))
    if not FIRST_BUILTIN_YEAR <= year <= LAST_BUILTIN_YEAR:
        return None
    january, july = builtin_games(year)
    return july if match.group(1) == "julython" else january


def is_builtin_slug(slug: str) -> bool:
    """
    @param slug: a game slug.
    @return: whether the slug has the shape of a built-in game's, whatever
        its year; custom games should not take such a slug.
    """
    return _BUILTIN_SLUG.match(slug) is not None


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class ScoredCommit:
    """
    A stored commit, reduced to what scoring needs.

    @ivar hash: the commit id; a hash counts once, at its first occurrence.
    @ivar project: the slug of the project it was pushed to.
    @ivar timestamp: the commit's own time, aware.
    @ivar username: the player it belongs to, or L{None} for an orphan.
    @ivar location: the player's location slug, or L{None}.
    @ivar team: the player's (approved) team slug, or L{None}.
    @ivar languages: the languages of the files it touched.
    @ivar arrived: when its push arrived, aware; L{None} for a commit stored
        before arrivals were, which scores by its own time alone.
    @ivar pending: whether it waits for its host to confirm it
        (C{--verify-commits}); it scores nothing until then.
    @ivar rejected: whether its host refused it; it never scores.
    @ivar review: where it stands in review (L{julytwisted.game.review}):
        C{"held"} scores nothing yet, C{"rejected"} never scores,
        C{"accepted"} or L{None} scores as any other.
    """

    hash: str
    project: str
    timestamp: datetime = attrs.field(converter=_aware)
    username: str | None = None
    location: str | None = None
    team: str | None = None
    languages: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    arrived: datetime | None = None
    pending: bool = False
    rejected: bool = False
    review: str | None = None


@attrs.define
class _Tally:
    """The boards of one game being filled, and which members met which project."""

    commit_points: int = COMMIT_POINTS
    first_bonus: int = FIRST_COMMIT_BONUS
    boards: dict[str, dict[str, int]] = attrs.Factory(
        lambda: {board: {} for board in BOARDS}
    )
    met: set[tuple[str, str, str]] = attrs.Factory(set)

    def add(self, board: str, member: str, points: int) -> None:
        scores = self.boards[board]
        scores[member] = scores.get(member, 0) + points

    def score(self, board: str, member: str, project: str) -> None:
        points = self.commit_points
        if (board, member, project) not in self.met:
            self.met.add((board, member, project))
            points += self.first_bonus
        self.add(board, member, points)

    def commit(self, commit: ScoredCommit) -> None:
        project = commit.project
        self.score(Board.PROJECTS, project, project)
        if commit.username is not None:
            self.score(Board.PEOPLE, commit.username, project)
            if commit.location is not None:
                self.score(Board.LOCATIONS, commit.location, project)
            if commit.team is not None:
                self.score(Board.TEAMS, commit.team, project)
        for language in sorted(set(commit.languages)):
            if language:
                self.add(Board.LANGUAGES, language, self.commit_points)


#: The review states whose commits score nothing (L{ScoredCommit.review}).
_NOT_COUNTING = frozenset({"held", "rejected"})


def tally(
    commits: Iterable[ScoredCommit], game: Game, grace: timedelta = LATE_GRACE
) -> dict[str, dict[str, int]]:
    """
    Score commits from scratch: the reference the store's boards must match.

    Each hash counts once, as its first occurrence says.  A commit scores only
    when the game holds its timestamp and, when its arrival is known, when
    it arrived within the game's window plus C{grace} and is not from the
    future (L{scores_in}).  It earns the game's commit points
    (L{Game.commit_points}, by default L{COMMIT_POINTS}) for its
    project and, when it has a player, for the player and the player's
    location and team; each of those earns the game's first bonus
    (L{Game.first_bonus}) more the first time it scores on that project in
    the game.  Each distinct language of the commit earns the commit points,
    with no bonus.  An orphan (no player) scores for its project and
    languages only.  A commit waiting for its host's word, or refused by it,
    scores nothing; once verified it scores as any other, by its arrival.
    So does a commit held for review or rejected by an admin.

    @param commits: the commits, in any order.
    @param game: the game to score.
    @return: C{{board: {member: points}}} with a key for each of L{BOARDS};
        members that scored nothing are absent.
    """
    result = _Tally(game.commit_points, game.first_bonus)
    seen: set[str] = set()
    for commit in commits:
        if commit.hash in seen:
            continue
        seen.add(commit.hash)
        if commit.pending or commit.rejected or commit.review in _NOT_COUNTING:
            scores = False
        elif commit.arrived is None:
            scores = game.holds(commit.timestamp)
        else:
            scores = scores_in(game, commit.timestamp, commit.arrived, grace)
        if scores:
            result.commit(commit)
    return result.boards


__all__ = [
    "BOARDS",
    "COMMIT_POINTS",
    "FIRST_BUILTIN_YEAR",
    "FIRST_COMMIT_BONUS",
    "FUTURE_SKEW",
    "GROUPS",
    "LAST_BUILTIN_YEAR",
    "LATE_GRACE",
    "Board",
    "ScoredCommit",
    "builtin_games",
    "current_game",
    "find_game",
    "games_at",
    "games_scored",
    "is_builtin_slug",
    "is_future",
    "scores_in",
    "tally",
]
