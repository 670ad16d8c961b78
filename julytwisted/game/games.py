# -*- test-case-name: tests.game.test_scoring -*-
"""
What a game is: its name, its slug, its window and its points; and the rules
of editing one at run time.  Pure and immutable.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import attrs

from julytwisted.errors import InvalidInput

COMMIT_POINTS = 1
"""Points every new commit earns on each board it scores on."""

FIRST_COMMIT_BONUS = 10
"""Extra points the first time a member scores on a project in a game."""

MAX_POINTS = 100
"""The most points a game may give a commit, or a first commit as its bonus."""

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """
    Turn a display name into a URL slug.

    @param name: any text, such as C{"Julython 2026"}.
    @return: the text lower-cased with every run of other characters turned into
        one C{-} and none at either end (C{"julython-2026"}); empty when the
        name holds no letter or digit.
    """
    return _NOT_SLUG.sub("-", name.lower()).strip("-")


def aware_utc(value: datetime) -> datetime:
    """@return: C{value}, when it carries a time zone.
    @raise ValueError: for a naive one."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"timestamp {value!r} carries no time zone")
    return value


def parse_instant(name: str, text: object) -> datetime:
    """
    @param name: the field's name, for the error.
    @param text: an ISO 8601 instant with its offset, such as
        C{"2026-07-20T18:00:00+02:00"}.
    @return: the instant, in UTC.
    @raise InvalidInput: when C{text} is no such instant.
    """
    try:
        if not isinstance(text, str):
            raise TypeError(text)
        return aware_utc(datetime.fromisoformat(text.strip())).astimezone(UTC)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{name} must be an ISO 8601 instant with its offset, such as"
            " 2026-07-20T18:00:00Z"
        ) from None


def _bounded(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or not 0 <= value <= MAX_POINTS:
        raise ValueError(
            f"{attribute.name} must be a whole number from 0 to {MAX_POINTS}"
        )


@attrs.frozen
class Game:
    """
    A competition window: commits whose own timestamp falls in [start, end)
    score in it.

    @ivar name: the display name, such as C{"Julython 2026"}.
    @ivar start: the first instant of the window, aware.
    @ivar end: the first instant after the window, aware.
    @ivar commit_points: the points each commit earns on each board.
    @ivar first_bonus: the extra points a member earns the first time it
        scores on a project in the game.
    """

    name: str
    start: datetime = attrs.field(converter=aware_utc)
    end: datetime = attrs.field(converter=aware_utc)
    commit_points: int = attrs.field(
        default=COMMIT_POINTS, kw_only=True, validator=_bounded
    )
    first_bonus: int = attrs.field(
        default=FIRST_COMMIT_BONUS, kw_only=True, validator=_bounded
    )

    @end.validator
    def _check_end(self, attribute: attrs.Attribute[datetime], value: datetime) -> None:
        if value <= self.start:
            raise ValueError(f"game {self.name!r} ends before it starts")

    #: The game's slug: its name lower-cased, other runs turned into C{-}.
    slug: str = attrs.field(init=False, eq=False, repr=False)

    @slug.default
    def _slug(self) -> str:
        return slugify(self.name)

    def holds(self, when: datetime) -> bool:
        """
        @param when: an aware instant.
        @return: whether C{when} falls inside this game's window.
        """
        return self.start <= when < self.end


#: The fields of a game an edit may change, as its log names them.
EDITABLE = ("start", "end", "commit_points", "first_bonus")


@attrs.frozen
class Change:
    """
    One field of a game changed by an edit, as its log shows it.

    @ivar field: one of L{EDITABLE}.
    @ivar old: its value before, as text (an instant in ISO 8601).
    @ivar new: its value after, as text.
    """

    field: str
    old: str
    new: str


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def changes(old: Game, new: Game) -> tuple[Change, ...]:
    """@return: each field of L{EDITABLE} whose value differs, in that order."""
    found = []
    for field in EDITABLE:
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            found.append(Change(field, _text(before), _text(after)))
    return tuple(found)


def check_edit(old: Game, new: Game, now: datetime) -> tuple[Change, ...]:
    """
    Whether an edit may change a game at C{now}, and what it changes.

    A game that has not started may change anything; one that is running
    keeps its start (commits have scored from it), and its end may move to
    any instant from C{now} on (ending it now, as L{end_now} does); one that has
    ended changes no more.  An edit that changes nothing is always allowed.

    @return: the changes, empty when there are none.
    @raise InvalidInput: when the edit is not allowed.
    """
    found = changes(old, new)
    if not found or now < old.start:
        if found and new.start <= now:
            raise InvalidInput("a game that has not started cannot start in the past")
        return found
    if old.end <= now:
        raise InvalidInput(f"game {old.slug!r} has ended: it can no longer change")
    if new.start != old.start:
        raise InvalidInput(f"game {old.slug!r} has started: its start is fixed")
    if new.end < now:
        raise InvalidInput("a running game's end cannot move into the past")
    return found


def end_now(game: Game, now: datetime) -> Game:
    """
    @return: the running C{game} with its end moved to C{now}.
    @raise InvalidInput: when it is not running.
    """
    if now <= game.start:
        raise InvalidInput(f"game {game.slug!r} has not started: edit its dates")
    if game.end <= now:
        raise InvalidInput(f"game {game.slug!r} has already ended")
    return attrs.evolve(game, end=now)


__all__ = [
    "COMMIT_POINTS",
    "EDITABLE",
    "FIRST_COMMIT_BONUS",
    "MAX_POINTS",
    "Change",
    "Game",
    "aware_utc",
    "changes",
    "check_edit",
    "end_now",
    "parse_instant",
    "slugify",
]
