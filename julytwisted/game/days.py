# -*- test-case-name: tests.game.test_days,tests.pages.test_fair_days -*-
"""
A player's days: the calendar day each of their commits counts for.

A day is the player's own, not UTC's: the local date of a commit's time in
the time zone the player chose, else in the UTC offset the commit's payload
gave its time in, else (a commit that carried none) in UTC.  Each commit
counts for exactly one day, and the days are computed on read from the
commits, so a player who changes their zone sees every day re-bucketed at
once, the same way everywhere.  Pure: no I/O.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from julytwisted.errors import InvalidInput

#: The longest time zone name accepted (the longest IANA name is 32).
ZONE_LENGTH = 64

#: Offsets a commit may carry, in minutes: strictly less than a day either
#: way, as Python's time zones require (real ones span -12:00 to +14:00).
MOST_OFFSET = 24 * 60 - 1


@functools.cache
def time_zones() -> dict[str, str]:
    """
    @return: every IANA time zone name the system's database holds, by its
        lower-cased spelling.  Read once: listing them opens every file.
    """
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def valid_time_zone(name: object) -> str:
    """
    @param name: what a player typed, such as C{"europe/paris"}.
    @return: the IANA name, as the database spells it (C{"Europe/Paris"}).
    @raise InvalidInput: for anything that is not such a name.
    """
    if isinstance(name, str) and len(name) <= ZONE_LENGTH:
        found = time_zones().get(name.strip().lower())
        if found is not None:
            return found
    raise InvalidInput(
        "time zone must be an IANA time zone name, such as Europe/Paris"
        " or America/Los_Angeles"
    )


def zone_of(name: str | None) -> tzinfo | None:
    """
    @param name: a player's stored time zone, or L{None}/empty for none.
    @return: the zone; L{None} for none, or for a name the database no
        longer holds (the commits' own offsets then rule).
    """
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def offset_minutes(when: datetime) -> int | None:
    """
    @param when: a time as a payload gave it.
    @return: its UTC offset in whole minutes, L{None} for a naive time.
    """
    offset = when.utcoffset()
    if offset is None:
        return None
    return int(offset.total_seconds() // 60)


def valid_offset(minutes: object) -> int | None:
    """@return: C{minutes} when it is an offset a time may carry, else L{None}."""
    if type(minutes) is int and -MOST_OFFSET <= minutes <= MOST_OFFSET:
        return minutes
    return None


def local_day(when: datetime, offset: int | None, zone: tzinfo | None) -> date:
    """
    The day a commit counts for.

    @param when: the commit's time, aware.
    @param offset: the UTC offset, in minutes, its payload gave; L{None}
        when unknown.
    @param zone: the player's time zone, which rules over C{offset}.
    """
    if zone is None:
        known = valid_offset(offset)
        zone = UTC if known is None else timezone(timedelta(minutes=known))
    return when.astimezone(zone).date()


def parse_offset(stored: str | None) -> int | None:
    """@return: a stored offset (minutes, as text) as a number, else L{None}."""
    try:
        return valid_offset(int(stored or ""))
    except ValueError:
        return None


def per_day(
    commits: Iterable[tuple[str, int | None]], zone: tzinfo | None
) -> Counter[date]:
    """
    How many commits count for each day.

    @param commits: each commit's ISO 8601 time and the UTC offset, in
        minutes, its payload gave (L{None} when unknown).
    @param zone: the player's time zone, L{None} for none.
    @return: commits per day; every commit whose time reads counts once.
    """
    counts: Counter[date] = Counter()
    for stamp, offset in commits:
        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        try:
            day = local_day(when, offset, zone)
        except OverflowError:
            # Its local day is before year 1 or after 9999: as written.
            day = when.date()
        counts[day] += 1
    return counts


__all__ = [
    "MOST_OFFSET",
    "ZONE_LENGTH",
    "local_day",
    "offset_minutes",
    "parse_offset",
    "per_day",
    "time_zones",
    "valid_offset",
    "valid_time_zone",
    "zone_of",
]
