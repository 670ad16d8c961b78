# -*- test-case-name: tests.store.test_private_boards -*-
"""
Private boards: a player's own board inside a game, with its own dates,
whose members join with a code; its ranking read by members, or by bots
holding its read-only token.

Standings are computed on read from each member's commit index and the
game's commits (L{lua/private_board_standings.lua}), never kept as sorted
sets the ingest would have to maintain: a recount that drops a commit from
the game, an adoption that gives orphans to a player, and a move between
groups are then reflected without any script of theirs knowing of boards.
The ranking is kept a few seconds (L{STANDINGS_SECONDS}) so that a board of
a thousand members read by many costs one computation.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from base64 import b32encode
from collections.abc import Callable
from datetime import datetime

import attrs

from julytwisted.errors import (
    Conflict,
    DrawnTaken,
    Forbidden,
    InvalidInput,
    NotFound,
)
from julytwisted.game.games import Game
from julytwisted.redis_service import RedisClient
from julytwisted.store import _keys
from julytwisted.store._models import NAME_PATTERN, iso
from julytwisted.store._scripts import POINTS, script

#: The longest board name.
MAX_NAME = 80
#: The most members a board may be capped at.
MAX_CAP = 1000
#: The most boards one player may own.
MAX_OWNED = 10
#: The most boards one player may be a member of, owned ones included.
MAX_JOINED = 100
#: How long a computed ranking is served before it is computed again.
STANDINGS_SECONDS = 30

_WRITE = script("private_board.lua")
_STANDINGS = script("private_board_standings.lua")
_NAME = re.compile(NAME_PATTERN)
_ID = re.compile(r"[a-z2-7]{10}")
_CODE = re.compile(r"[A-Z2-7]{16}")


def _random(characters: int) -> str:
    """@return: C{characters} random base32 characters (5 bits each)."""
    return b32encode(secrets.token_bytes(characters)).decode()[:characters]


def sortable(when: datetime) -> str:
    """
    @return: an instant as the standings script compares commits' times:
        seconds to the second, then six digits of fraction, so that text
        order is time order.
    """
    text = iso(when)
    fraction = text[20:-1] if len(text) > 20 else ""
    return text[:19] + (fraction + "000000")[:6]


@attrs.frozen
class PrivateBoard:
    """
    A private board: its members ranked by their points in the board's
    dates, inside one game.

    @ivar cap: the most members it takes; 0 for the site's limit
        (L{MAX_CAP}).
    """

    id: str
    name: str
    owner: str
    game: str
    start: str
    end: str
    cap: int
    members: int


@attrs.frozen
class OwnedBoard(PrivateBoard):
    """
    A private board as its owner sees it: with the code others join with
    and the read-only token bots read its ranking with.
    """

    code: str
    token: str


@attrs.frozen
class BoardStanding:
    """One member's place on a private board, points counted in its dates."""

    rank: int
    username: str
    name: str
    picture_url: str
    points: int
    commits: int
    projects: int


@attrs.frozen
class BoardStandings(PrivateBoard):
    """A private board with its members ranked, highest points first."""

    standings: tuple[BoardStanding, ...]


def _refuse(status: str, found: dict[str, object]) -> None:
    """Raise the error a script's refusal means; nothing for C{ok}."""
    errors: dict[str, Callable[[], Exception]] = {
        "unknown": lambda: NotFound("no such board"),
        "unknown_code": lambda: NotFound("no board has that join code"),
        "forbidden": lambda: Forbidden("only the board's owner may do that"),
        "no_player": lambda: NotFound("no such player"),
        "owned_limit": lambda: Conflict(f"you own {MAX_OWNED} boards already"),
        "joined_limit": lambda: Conflict(
            f"you are on {MAX_JOINED} boards already: leave one first"
        ),
        "full": lambda: Conflict(f"the board is full ({found.get('cap')} members)"),
        "owner": lambda: Conflict(
            "the owner cannot leave or be removed: delete the board instead"
        ),
        "not_member": lambda: NotFound("not a member of that board"),
        "collision": DrawnTaken,
    }
    if status != "ok":
        raise errors.get(status, lambda: RuntimeError(status))()


def _board_id(board_id: object) -> str:
    if not isinstance(board_id, str) or not _ID.fullmatch(board_id):
        raise NotFound("no such board")
    return board_id


def _code(code: object) -> str:
    if not isinstance(code, str):
        raise InvalidInput("code must be a string")
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    if not _CODE.fullmatch(cleaned):
        raise NotFound("no board has that join code")
    return cleaned


def check_board_name(name: object) -> str:
    """
    @return: the name, stripped.
    @raise InvalidInput: for one blank, over L{MAX_NAME} characters, or
        holding control characters.
    """
    if not isinstance(name, str):
        raise InvalidInput("name must be a string")
    name = name.strip()
    if not name or not _NAME.search(name):
        raise InvalidInput("name must not be blank")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"name must be at most {MAX_NAME} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidInput("name must not hold control characters")
    return name


def check_dates(
    game: Game, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """
    @return: a board's dates: as given, each defaulting to the game's own.
    @raise InvalidInput: for dates outside the game's window, or an end not
        after the start.
    """
    start = game.start if start is None else start
    end = game.end if end is None else end
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start and end need a time zone offset")
    if not game.start <= start < game.end or not game.start < end <= game.end:
        raise InvalidInput(
            f"start and end must fall inside {game.name}: "
            f"{iso(game.start)} to {iso(game.end)}"
        )
    if end <= start:
        raise InvalidInput("end must come after start")
    return start, end


def optional_instant(text: object, field: str) -> datetime | None:
    """
    @return: an ISO 8601 instant with its offset, or L{None} for none given.
    @raise InvalidInput: for anything else, naming C{field}.
    """
    if text is None or text == "":
        return None
    if not isinstance(text, str) or len(text) > 40:
        raise InvalidInput(f"{field} must be an ISO 8601 time with an offset")
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{field} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise InvalidInput(f"{field} needs a time zone offset, such as Z")
    return when


def _record(fields: dict[str, str], members: int) -> OwnedBoard:
    return OwnedBoard(
        id=fields["id"],
        name=fields["name"],
        owner=fields["owner"],
        game=fields["game"],
        start=fields["start"],
        end=fields["end"],
        cap=int(fields.get("cap") or 0),
        members=members,
        code=fields["code"],
        token=fields["token"],
    )


def public(board: OwnedBoard) -> PrivateBoard:
    """@return: the board without its code and token, for its members."""
    fields = attrs.asdict(board, recurse=False)
    del fields["code"], fields["token"]
    return PrivateBoard(**fields)


class PrivateBoards:
    """Private boards in Redis: their writes, their members, their ranking."""

    def __init__(self, redis: RedisClient, cache_seconds: int = STANDINGS_SECONDS):
        """
        @param cache_seconds: how long a computed ranking is served again.
        """
        self._redis = redis
        self._cache_seconds = cache_seconds

    async def _write(self, op: str, **request: object) -> dict[str, object]:
        found: dict[str, object] = json.loads(
            await self._redis.run(_WRITE, args=(json.dumps({"op": op, **request}),))
        )
        _refuse(str(found["status"]), found)
        return found

    async def create(
        self,
        owner: str,
        name: str,
        game: Game,
        start: datetime | None = None,
        end: datetime | None = None,
        cap: int | None = None,
        now: datetime | None = None,
    ) -> OwnedBoard:
        """
        Make a board owned by a player, who is its first member.

        @param cap: the most members, 1 to L{MAX_CAP}; L{None} for that.
        @raise InvalidInput: for a bad name, dates or cap.
        @raise Conflict: when the owner owns L{MAX_OWNED} boards already or
            is on L{MAX_JOINED}.
        """
        name = check_board_name(name)
        start, end = check_dates(game, start, end)
        if cap is not None and (
            not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= MAX_CAP
        ):
            raise InvalidInput(f"cap must be a whole number from 1 to {MAX_CAP}")
        request: dict[str, object] = {
            "owner": owner.lower(),
            "name": name,
            "game": game.slug,
            "start": iso(start),
            "end": iso(end),
            "start_key": sortable(start),
            "end_key": sortable(end),
            "cap": cap or 0,
            "created": (now or start).timestamp(),
            "max_owned": MAX_OWNED,
            "max_joined": MAX_JOINED,
        }
        while True:
            board_id, code = _random(10).lower(), _random(16)
            try:
                await self._write(
                    "create", id=board_id, code=code, token=_random(32), **request
                )
            except DrawnTaken:
                continue
            return await self.owned(owner, board_id)

    async def _fields(self, board_id: str) -> tuple[dict[str, str], int]:
        key = _keys.private_board(_board_id(board_id))
        fields = await self._redis.execute("HGETALL", key)
        if not fields:
            raise NotFound("no such board")
        members = await self._redis.execute(
            "ZCARD", _keys.private_board_members(board_id)
        )
        pairs = iter(fields)
        return dict(zip(pairs, pairs, strict=True)), int(members)

    async def board(self, board_id: str) -> OwnedBoard:
        """
        @return: a board with its secrets; show them to its owner only.
        @raise NotFound: for no such board.
        """
        fields, members = await self._fields(board_id)
        return _record(fields, members)

    async def owned(self, owner: str, board_id: str) -> OwnedBoard:
        """
        @return: a board, with its code and token, for its owner.
        @raise Forbidden: for anyone else.
        """
        board = await self.board(board_id)
        if board.owner != owner.lower():
            raise Forbidden("only the board's owner may see its code and token")
        return board

    async def join(self, username: str, code: str, now: datetime) -> PrivateBoard:
        """
        Join a board by its code; joining a board one is on changes nothing.

        @raise NotFound: for a code that opens no board (or no longer does).
        @raise Conflict: for a full board, or a player on L{MAX_JOINED}.
        """
        found = await self._write(
            "join",
            code=_code(code),
            username=username.lower(),
            now=now.timestamp(),
            max_joined=MAX_JOINED,
        )
        return public(await self.board(str(found["id"])))

    async def leave(self, username: str, board_id: str) -> None:
        """
        Leave a board.

        @raise Conflict: for its owner, who deletes it instead.
        @raise NotFound: for a board one is not on.
        """
        await self._write("leave", id=_board_id(board_id), username=username.lower())

    async def remove_member(self, owner: str, board_id: str, member: str) -> None:
        """
        Take a member off a board, as its owner.

        @raise Forbidden: for anyone but the owner.
        """
        if not isinstance(member, str):
            raise InvalidInput("username must be a string")
        await self._write(
            "remove", id=_board_id(board_id), asker=owner.lower(), member=member.lower()
        )

    async def rotate_code(self, owner: str, board_id: str) -> OwnedBoard:
        """
        Give a board a new join code: the old one stops opening it at once.

        @raise Forbidden: for anyone but the owner.
        """
        while True:
            try:
                await self._write(
                    "rotate_code",
                    id=_board_id(board_id),
                    asker=owner.lower(),
                    code=_random(16),
                )
            except DrawnTaken:
                continue
            return await self.owned(owner, board_id)

    async def rotate_token(self, owner: str, board_id: str) -> OwnedBoard:
        """
        Give a board a new read token: the old one stops reading it at once.

        @raise Forbidden: for anyone but the owner.
        """
        await self._write(
            "rotate_token",
            id=_board_id(board_id),
            asker=owner.lower(),
            token=_random(32),
        )
        return await self.owned(owner, board_id)

    async def delete(self, owner: str, board_id: str) -> None:
        """
        Delete a board and every membership of it.

        @raise Forbidden: for anyone but the owner.
        """
        await self._write("delete", id=_board_id(board_id), asker=owner.lower())

    async def is_member(self, board_id: str, username: str | None) -> bool:
        """@return: whether a player is on a board."""
        if username is None or not _ID.fullmatch(board_id):
            return False
        key = _keys.private_board_members(board_id)
        return await self._redis.execute("ZSCORE", key, username.lower()) is not None

    async def may_read(
        self, board_id: str, username: str | None, token: str | None
    ) -> bool:
        """
        @return: whether a player (a member) or a token (the board's read
            token, compared in constant time) may read a board.
        @raise NotFound: for no such board.
        """
        board = await self.board(board_id)
        if token is not None and hmac.compare_digest(
            token.encode(), board.token.encode()
        ):
            return True
        return await self.is_member(board.id, username)

    async def boards_of(self, username: str) -> list[PrivateBoard]:
        """@return: the boards a player is on, by name."""
        key = _keys.player_private_boards(username.lower())
        ids = await self._redis.execute("SMEMBERS", key)
        found = []
        for board_id in sorted(ids):
            try:
                found.append(public(await self.board(board_id)))
            except NotFound:
                continue
        return sorted(found, key=lambda b: (b.name.lower(), b.id))

    async def standings(self, board_id: str, fresh: bool = False) -> BoardStandings:
        """
        A board's members ranked by their points in its dates.

        @param fresh: compute it now rather than serve the one kept.
        @raise NotFound: for no such board.
        """
        request = {
            "id": _board_id(board_id),
            "cache_seconds": self._cache_seconds,
            "fresh": fresh,
            **POINTS,
        }
        text = await self._redis.run(_STANDINGS, args=(json.dumps(request),))
        if not text:
            raise NotFound("no such board")
        found = json.loads(text)
        rows = found.pop("standings")
        found["standings"] = tuple(
            BoardStanding(**row) for row in (rows if isinstance(rows, list) else [])
        )
        return BoardStandings(**found)


__all__ = [
    "MAX_CAP",
    "MAX_JOINED",
    "MAX_NAME",
    "MAX_OWNED",
    "STANDINGS_SECONDS",
    "BoardStanding",
    "BoardStandings",
    "OwnedBoard",
    "PrivateBoard",
    "PrivateBoards",
    "check_board_name",
    "check_dates",
    "optional_instant",
    "public",
    "sortable",
]
