# -*- test-case-name: tests.config.test_config -*-
"""
The value parsers of C{twistd julython}'s options: each takes the text of
one option and returns the checked value, or raises L{usage.UsageError}
with a message naming the option and the problem.

Listen endpoints are checked for their shape only: this module does not
import C{twisted.internet}, and L{julytwisted.service} turns them into
endpoints.  C{--redis} URLs are L{julytwisted.config._redis_url}'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta

from twisted.python import usage

from julytwisted.config._settings import (
    DEFAULT_LIMITS,
    DEFAULT_LISTEN,
    DEFAULT_UPLOAD_TYPES,
    Limit,
    MiB,
)
from julytwisted.game.games import Game, slugify
from julytwisted.game.scoring import is_builtin_slug

ENDPOINT_TYPES = ("tcp", "tcp6", "ssl", "unix", "systemd")
"""The server endpoint types C{--listen} accepts."""

_DIGITS = re.compile(r"[0-9]+")
_SIZE = re.compile(r"([0-9]+)\s*([kmg]i?b?|b)?", re.I)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": MiB, "g": 1024 * MiB}
_LIMIT = re.compile(r"(?P<count>[0-9]{1,6})/(?P<period>[0-9]{0,5})(?P<unit>[smh])")
_PERIODS = {"s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"([0-9]{1,6})([smhd])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def parse_listen(description: str) -> str:
    """
    Check the shape of a server endpoint description.

    @param description: a strport such as C{"tcp:8080:interface=127.0.0.1"},
        or a bare port number.
    @return: the description, a bare port number turned into C{"tcp:PORT"}.
    @raise usage.UsageError: when it is empty, names no endpoint type of
        L{ENDPOINT_TYPES}, or gives that type no arguments.
    """
    text = description.strip()
    if not text:
        raise usage.UsageError("--listen: the endpoint description is empty")
    if _DIGITS.fullmatch(text):
        port = int(text)
        if port > 65535:
            raise usage.UsageError(f"--listen: port {port} is over 65535")
        return f"tcp:{port}"
    kind, colon, rest = text.partition(":")
    if kind not in ENDPOINT_TYPES:
        raise usage.UsageError(
            f"--listen {description!r}: endpoint type {kind!r} is not one of "
            f"{', '.join(ENDPOINT_TYPES)}"
        )
    if not colon or not rest:
        raise usage.UsageError(
            f"--listen {description!r}: give the {kind} endpoint its arguments, "
            f"as in {DEFAULT_LISTEN!r}"
        )
    return text


def parse_size(option: str, text: str) -> int:
    """
    @param option: the option's name, for the message.
    @param text: a number of bytes, or of KiB, MiB or GiB with a suffix
        C{K}, C{M} or C{G} (C{20M}, C{1GiB}).
    @return: the bytes, at least 1.
    @raise usage.UsageError: for anything else.
    """
    match = _SIZE.fullmatch(text.strip())
    if not match or int(match.group(1)) < 1:
        raise usage.UsageError(
            f"--{option}: {text!r} is not a size such as 1048576, 512K, 20M or 1G"
        )
    unit = (match.group(2) or "")[:1].lower()
    return int(match.group(1)) * _UNITS[unit]


def parse_upload_types(
    specs: Iterable[str],
) -> Mapping[str, tuple[str, ...]]:
    """
    @param specs: C{KIND=TYPE,TYPE...} values, each replacing the default
        list of its kind (C{avatar}, C{screenshot} or C{file}).
    @return: the accepted types of every kind.
    @raise usage.UsageError: for an unknown kind or a malformed type.
    """
    types = dict(DEFAULT_UPLOAD_TYPES)
    for spec in specs:
        kind, equals, listed = spec.partition("=")
        kind = kind.strip()
        if not equals or kind not in types:
            raise usage.UsageError(
                f"--upload-types {spec!r}: expected KIND=TYPE,... with KIND one "
                f"of {', '.join(types)}"
            )
        names = tuple(t.strip().lower() for t in listed.split(",") if t.strip())
        for name in names:
            if name != "*" and not re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", name):
                raise usage.UsageError(
                    f"--upload-types {spec!r}: {name!r} is not a content type"
                )
        types[kind] = names
    return types


def parse_limit(spec: str) -> tuple[str, Limit | None]:
    """
    @param spec: C{NAME=COUNT/PERIOD}, the period in seconds, minutes or hours
        with an optional number before the unit (C{rpc=600/m},
        C{login=5/10m}), or C{NAME=off}.
    @return: the name and the limit (L{None} for off).
    @raise usage.UsageError: for an unknown name or a malformed limit.
    """
    name, _, value = spec.partition("=")
    name, value = name.strip(), value.strip()
    if name not in DEFAULT_LIMITS:
        known = ", ".join(DEFAULT_LIMITS)
        raise usage.UsageError(f"--rate-limit: {name!r} is none of {known}")
    if value.lower() == "off":
        return name, None
    found = _LIMIT.fullmatch(value)
    if found is None or int(found["count"]) == 0 or found["period"] == "0":
        raise usage.UsageError(
            f"--rate-limit: {spec!r} is not NAME=COUNT/PERIOD like rpc=600/m, "
            "login=5/10m or webhooks=off"
        )
    seconds = int(found["period"] or 1) * _PERIODS[found["unit"]]
    return name, Limit(int(found["count"]), float(seconds))


def _instant(text: str, what: str, spec: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise usage.UsageError(
            f"--game {spec!r}: {what} {text!r} is not an ISO 8601 instant"
        ) from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise usage.UsageError(
            f"--game {spec!r}: {what} {text!r} carries no UTC offset; "
            "add Z or one such as +02:00"
        )
    return when.astimezone(UTC)


def parse_game(spec: str) -> Game:
    """
    Parse one C{--game} value.

    @param spec: C{NAME=START/END}, where START and END are ISO 8601 instants
        with a UTC offset or C{Z}, such as
        C{"PyCon Sprint=2026-05-18T00:00Z/2026-05-22T00:00Z"}.
    @return: the game, its instants in UTC.
    @raise usage.UsageError: when the value is malformed, an instant is naive,
        the game does not end after it starts, or the name gives an empty
        slug or one of the built-in games' shape.
    """
    name, equals, window = spec.rpartition("=")
    name = name.strip()
    if not equals or not name:
        raise usage.UsageError(f"--game {spec!r}: expected NAME=START/END")
    start_text, slash, end_text = window.partition("/")
    if not slash:
        raise usage.UsageError(f"--game {spec!r}: expected NAME=START/END")
    start = _instant(start_text, "start", spec)
    end = _instant(end_text, "end", spec)
    if end <= start:
        raise usage.UsageError(f"--game {spec!r}: the game must end after it starts")
    slug = slugify(name)
    if not slug:
        raise usage.UsageError(f"--game {spec!r}: the name holds no letter or digit")
    if is_builtin_slug(slug):
        raise usage.UsageError(
            f"--game {spec!r}: slug {slug!r} is reserved for the built-in "
            "Julython and J(an)ulython games"
        )
    return Game(name, start, end)


def unique_games(games: Iterable[Game]) -> tuple[Game, ...]:
    """
    @return: the games of every C{--game}, in order.
    @raise usage.UsageError: when two share a slug.
    """
    ordered = tuple(games)
    seen: dict[str, Game] = {}
    for game in ordered:
        other = seen.setdefault(game.slug, game)
        if other is not game:
            raise usage.UsageError(
                f"--game: {other.name!r} and {game.name!r} share the slug {game.slug!r}"
            )
    return ordered


def _whole_number(raw: str) -> bool:
    # str.isdigit() alone admits digits int() refuses, such as "²".
    return raw.isascii() and raw.isdigit()


def parse_count(option: str, raw: str, low: int, high: int) -> int:
    """
    @param option: the option's name, for the message.
    @param raw: a whole number, in decimal digits.
    @return: the number, from C{low} to C{high}.
    @raise usage.UsageError: for anything else.
    """
    if not _whole_number(raw) or not low <= int(raw) <= high:
        raise usage.UsageError(f"--{option}: a whole number from {low} to {high}")
    return int(raw)


def parse_seconds(option: str, raw: str, least: float) -> float:
    """
    @param option: the option's name, for the message.
    @param raw: a number of seconds, fractions allowed.
    @return: the seconds, from C{least} to a day.
    @raise usage.UsageError: for anything else.
    """
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not least <= value <= 86400:
        raise usage.UsageError(
            f"--{option}: a number of seconds from {least:g} to 86400, not {raw!r}"
        )
    return value


def parse_time_of_day(option: str, raw: str) -> time | None:
    """
    @param option: the option's name, for the message.
    @param raw: C{HH:MM} (UTC), or C{off}.
    @return: the time, or L{None} for off.
    @raise usage.UsageError: for anything else.
    """
    text = raw.strip()
    if text.lower() == "off":
        return None
    found = _TIME_OF_DAY.fullmatch(text)
    if found is None:
        raise usage.UsageError(f"--{option}: HH:MM (UTC) or off, not {text!r}")
    return time(int(found[1]), int(found[2]))


def parse_minutes(option: str, raw: str) -> int | None:
    """
    @param option: the option's name, for the message.
    @param raw: minutes, up to a week, or C{off}.
    @return: the minutes, or L{None} for off.
    @raise usage.UsageError: for anything else.
    """
    text = raw.strip()
    if text.lower() == "off":
        return None
    if not _whole_number(text) or not 1 <= int(text) <= 10080:
        raise usage.UsageError(
            f"--{option}: minutes from 1 to 10080, or off, not {text!r}"
        )
    return int(text)


def parse_duration(option: str, raw: str, most: timedelta) -> timedelta:
    """
    @param option: the option's name, for the message.
    @param raw: a whole number and its unit: C{s}, C{m}, C{h} or C{d}
        (C{48h}, C{2d}, C{30m}, C{0s}).
    @return: the duration, at most C{most}.
    @raise usage.UsageError: for anything else.
    """
    text = raw.strip().lower()
    found = _DURATION.fullmatch(text)
    value = (
        timedelta(seconds=int(found[1]) * _DURATION_UNITS[found[2]]) if found else None
    )
    if value is None or value > most:
        raise usage.UsageError(
            f"--{option}: a duration such as 48h, 2d or 30m, at most "
            f"{most.days} days, not {raw.strip()!r}"
        )
    return value


__all__ = [
    "ENDPOINT_TYPES",
    "parse_count",
    "parse_duration",
    "parse_game",
    "parse_limit",
    "parse_listen",
    "parse_minutes",
    "parse_seconds",
    "parse_size",
    "parse_time_of_day",
    "parse_upload_types",
    "unique_games",
]
