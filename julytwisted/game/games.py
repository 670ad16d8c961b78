# -*- test-case-name: tests.game.test_scoring -*-
"""
What a game is: its name, its slug and its window. Pure and immutable.
"""

from __future__ import annotations

import re
from datetime import datetime

import attrs

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


@attrs.frozen
class Game:
    """
    A competition window: commits whose own timestamp falls in [start, end)
    score in it.

    @ivar name: the display name, such as C{"Julython 2026"}.
    @ivar start: the first instant of the window, aware.
    @ivar end: the first instant after the window, aware.
    """

    name: str
    start: datetime = attrs.field(converter=aware_utc)
    end: datetime = attrs.field(converter=aware_utc)

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


__all__ = ["Game", "aware_utc", "slugify"]
