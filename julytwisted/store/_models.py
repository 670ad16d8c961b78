# -*- test-case-name: tests.store.test_store -*-
"""
The pure half of the store: checking what clients send before it reaches
Redis, and turning Redis replies into the records of L{julytwisted.models}.
No key is spelled here; L{julytwisted.store._keys} owns those.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict, TypeVar

from julytwisted.errors import InvalidInput
from julytwisted.game.days import parse_offset
from julytwisted.game.events import CommitEvent
from julytwisted.game.games import Game, slugify
from julytwisted.game.scoring import COMMIT_POINTS
from julytwisted.models import (
    UNSET,
    Board,
    Commit,
    CommitFile,
    Group,
    Language,
    ListedGame,
    Member,
    Page,
    Player,
    Project,
)

_T = TypeVar("_T")

#: The longest message a feed entry carries.
SUMMARY_LENGTH = 200

#: Blanks as C{str.strip} and C{str.isspace} know them, spelled out for
#: JSON Schema, whose C{\\s} (ECMA-262's) is another set.
_BLANK = (
    r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a"
    r"\u2028\u2029\u202f\u205f\u3000"
)
_ATOM = rf"[^@{_BLANK}\x00-\x08\x0e-\x1b\x7f]+"

#: A username, as the API takes it (stored lower-cased).
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}$"
#: A commit e-mail as the API takes it: blanks around it are dropped; no
#: blank or control character within.
EMAIL_PATTERN = rf"^[{_BLANK}]*{_ATOM}@{_ATOM}\.{_ATOM}[{_BLANK}]*$"
#: A name (a player's, a location's, a team's): not blank; at most 100
#: characters (C{maxLength}), checked apart.
NAME_PATTERN = rf"[^{_BLANK}]"

USERNAME = re.compile(USERNAME_PATTERN)
EMAIL = re.compile(EMAIL_PATTERN)
_NAME = re.compile(NAME_PATTERN)


def language_slug(name: str) -> str:
    """
    @param name: a language name such as C{"C++"}.
    @return: its slug, keeping C{+} and C{#} apart (C{"cpp"}, C{"csharp"}).
    """
    return slugify(name.replace("+", "p").replace("#", "sharp"))


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def summary(message: str) -> str:
    """
    @return: the first line of a commit message, in at most
        L{SUMMARY_LENGTH} characters: what lists and the feed show.
    """
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first[:SUMMARY_LENGTH].rstrip()


class BoardRow(TypedDict):
    """
    One member of a board as C{lua/board.lua} reads it.

    @ivar rank: 1 for the first, L{False} for a member without points.
    @ivar fields: the member's own hash (a player's name, a project's URL).
    """

    member: str
    points: int
    rank: int | Literal[False]
    commits: int
    projects: int
    pending: int
    fields: dict[str, str]


def board_rows(reply: str) -> tuple[int, list[BoardRow]]:
    decoded = json.loads(reply)
    rows = decoded["rows"]
    # cjson has one encoding for an empty table: an object.
    return int(decoded["total"]), rows if isinstance(rows, list) else []


def hash_reply(flat: list[str]) -> dict[str, str]:
    """@return: an HGETALL reply, C{[field, value, ...]}, as a dict."""
    return dict(zip(flat[0::2], flat[1::2], strict=True))


def json_list(value: str) -> list[Any]:
    decoded = json.loads(value) if value else []
    return decoded if isinstance(decoded, list) else []


def commit_request(
    commit: CommitEvent, games: list[str], future: bool = False
) -> dict[str, Any]:
    """
    @param games: the slugs of the games the commit scores in.
    @param future: whether it claims a time after its arrival (flagged).
    """
    return {
        "hash": commit.hash,
        "url": commit.url,
        "message": commit.message,
        "summary": summary(commit.message),
        "timestamp": iso(commit.timestamp),
        "author": commit.author_name,
        "email": commit.author_email,
        "files": json.dumps(
            [
                {"path": f.path, "change": f.change, "language": f.language}
                for f in commit.files
            ]
        ),
        "languages": list(commit.languages),
        "games": games,
        "future": future,
        "utc_offset": "" if commit.utc_offset is None else str(commit.utc_offset),
    }


def valid_username(username: str) -> str:
    # Checked before lower-casing: "\u212a".lower() is an ASCII "k".
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise InvalidInput(
            "username must be 1 to 39 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return username.lower()


def valid_email(email: str) -> str:
    if not isinstance(email, str) or len(email) > 254:
        raise InvalidInput(f"invalid e-mail address {email!r}")
    if not EMAIL.fullmatch(email):
        raise InvalidInput(f"invalid e-mail address {email!r}")
    return email.strip().lower()


def valid_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.search(name) or len(name) > 100:
        raise InvalidInput(f"{what} must be 1 to 100 characters")
    return name.strip()


def group_request(name: str | None, what: str) -> dict[str, str] | None:
    if name is None or name == "":
        return None
    cleaned = valid_name(name, what)
    slug = slugify(cleaned)
    if not _ASCII_ALNUM.search(cleaned):
        raise InvalidInput(f"{what} {name!r} needs at least one letter or digit")
    return {"slug": slug, "name": cleaned}


def cursor_int(cursor: str) -> int:
    """
    @param cursor: a page's C{next}: ASCII digits, at most 15 of them.
    @return: its value.
    @raise InvalidInput: for anything else (C{str.isdigit} would also take
        other scripts' digits and superscripts, and Redis no huge numbers).
    """
    if not _CURSOR.fullmatch(cursor):
        raise InvalidInput(f"invalid cursor {cursor[:40]!r}")
    return int(cursor)


_CURSOR = re.compile(r"[0-9]{1,15}")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


def offset_page(models: Sequence[_T], offset: int, limit: int, total: int) -> Page[_T]:
    more = offset + limit < total
    return Page(tuple(models), str(offset + limit) if more else None, total)


def game_record(game: Game, current: bool) -> ListedGame:
    return ListedGame(game.slug, game.name, iso(game.start), iso(game.end), current)


def player_record(row: BoardRow) -> Player:
    f = row["fields"]
    return Player(
        username=row["member"],
        name=f.get("name", row["member"]),
        points=row["points"],
        rank=row["rank"] or None,
        commits=row["commits"],
        projects=row["projects"],
        location=f.get("location") or None,
        team=f.get("team") or None,
        picture_url=f.get("picture_url") or None,
        pending_points=_pending_points(row),
        time_zone=f.get("time_zone") or None,
    )


def _pending_points(row: BoardRow) -> int:
    return row["pending"] * COMMIT_POINTS


#: The largest watcher or fork count a project shows.
MAX_COUNT = 10**9


def _count(stored: str | None) -> int:
    """
    A stored count as a whole number from 0 to L{MAX_COUNT}; counts stored
    before they were bounded may read C{"1e+30"}.
    """
    try:
        value = float(stored or 0)
    except ValueError:
        return 0
    if value != value:
        return 0
    return int(min(max(value, 0.0), MAX_COUNT))


def project_record(row: BoardRow, rank: int | None = None) -> Project:
    """
    @param rank: the rank to show instead of the board's (within a size).
    """
    f = row["fields"]
    return Project(
        slug=row["member"],
        name=f.get("name", row["member"]),
        url=f.get("url", ""),
        service=f.get("service", ""),
        description=f.get("description", ""),
        watchers=_count(f.get("watchers")),
        forks=_count(f.get("forks")),
        active=f.get("active", "1") == "1",
        points=row["points"],
        rank=rank or row["rank"] or None,
        commits=row["commits"],
        pending_points=_pending_points(row),
    )


def group_record(row: BoardRow) -> Group:
    f = row["fields"]
    return Group(
        slug=row["member"],
        name=f.get("name", row["member"]),
        points=row["points"],
        rank=row["rank"] or None,
        commits=row["commits"],
        approved=f["approved"] == "1" if "approved" in f else UNSET,
    )


def language_record(row: BoardRow) -> Language:
    return Language(
        slug=language_slug(row["member"]),
        name=row["member"],
        points=row["points"],
        rank=row["rank"] or None,
        commits=row["commits"],
    )


def _commit_file(item: Any) -> CommitFile:
    return CommitFile(item["path"], item["change"], item.get("language"))


#: The fields of a stored commit that lists read: all but its message.
LISTED_COMMIT_FIELDS = (
    "hash",
    "url",
    "summary",
    "timestamp",
    "author",
    "username",
    "project",
    "files",
    "languages",
    "games",
    "arrived",
    "future",
    "pending",
    "rejected",
    "utc_offset",
    "review",
    "review_reason",
    "review_flags",
    "review_until",
    "reports",
)


def commit_record(f: dict[str, str], detail: bool = False) -> Commit:
    """
    @param f: a stored commit's fields; its message only for C{detail}.
    @param detail: give the whole message, not only the summary.
    """
    # Commits stored before summaries were have their message alone.
    shown = f.get("summary")
    if shown is None:
        shown = summary(f.get("message", ""))
    return Commit(
        hash=f["hash"],
        url=f.get("url", ""),
        summary=shown,
        message=f.get("message", "") if detail else UNSET,
        arrived=f.get("arrived") or None,
        future=f.get("future") == "1",
        pending=f.get("pending") == "1",
        rejected=f.get("rejected") or None,
        review=f.get("review") or None,
        review_reason=f.get("review_reason") or None,
        review_flags=tuple(json_list(f.get("review_flags", ""))),
        review_until=f.get("review_until") or None,
        reports=_reports(f.get("reports")),
        timestamp=f.get("timestamp", ""),
        author=f.get("author", ""),
        username=f.get("username") or None,
        project=f.get("project", ""),
        files=tuple(_commit_file(i) for i in json_list(f.get("files", ""))),
        languages=tuple(json_list(f.get("languages", ""))),
        games=tuple(json_list(f.get("games", ""))),
        utc_offset=parse_offset(f.get("utc_offset")),
    )


def _reports(stored: str | None) -> int:
    try:
        return max(0, int(stored or 0))
    except ValueError:
        return 0


#: The record of each board's rows.
RECORDS: dict[str, Callable[[BoardRow], Member]] = {
    Board.PEOPLE: player_record,
    Board.PROJECTS: project_record,
    Board.LOCATIONS: group_record,
    Board.TEAMS: group_record,
    Board.LANGUAGES: language_record,
}

SINGULAR: dict[str, str] = {
    Board.PEOPLE: "player",
    Board.PROJECTS: "project",
    Board.LOCATIONS: "location",
    Board.TEAMS: "team",
    Board.LANGUAGES: "language",
}

__all__ = [
    "EMAIL",
    "LISTED_COMMIT_FIELDS",
    "RECORDS",
    "SINGULAR",
    "SUMMARY_LENGTH",
    "USERNAME",
    "BoardRow",
    "board_rows",
    "commit_record",
    "commit_request",
    "cursor_int",
    "game_record",
    "group_record",
    "group_request",
    "hash_reply",
    "iso",
    "json_list",
    "language_record",
    "language_slug",
    "offset_page",
    "player_record",
    "project_record",
    "summary",
    "valid_email",
    "valid_name",
    "valid_username",
]
