# -*- test-case-name: tests.test_store -*-
"""
Everything julytwisted keeps in Redis: players, projects, commits, games,
boards and the feed.

Every Redis key is spelled here or in the Lua scripts of C{julytwisted/lua/},
which this module owns.  Writes that touch several keys are one Lua script
each, so they are atomic and a redelivered push counts once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, ParamSpec, TypeVar

import attrs
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.interfaces import IReactorTime

from julytwisted import scoring
from julytwisted.errors import Conflict, InvalidInput, NotFound
from julytwisted.models import CommitEvent, Game, Push, slugify
from julytwisted.redis_service import RedisClient, Script

#: How many entries each feed stream keeps for replay.
FEED_LENGTH = 1000

#: The longest message a feed entry carries.
SUMMARY_LENGTH = 200

#: The most rows one page of a listing may ask for.
MAX_LIMIT = 100

_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,38}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

#: Each board's members' own hashes.
_PREFIXES = {
    "people": "j:player:",
    "projects": "j:project:",
    "locations": "j:location:",
    "teams": "j:team:",
    "languages": "",
}


_P = ParamSpec("_P")
_T = TypeVar("_T")


def _deferred(
    method: Callable[_P, Coroutine[Any, Any, _T]],
) -> Callable[_P, Deferred[_T]]:
    """Make a coroutine method return a Deferred, as Twisted callers expect."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
        return Deferred.fromCoroutine(method(*args, **kwargs))

    return wrapper


def _script(name: str) -> Script:
    return Script(files("julytwisted").joinpath("lua", name).read_text("utf-8"))


_INGEST = _script("ingest.lua")
_BOARD = _script("board.lua")
_CREATE_PLAYER = _script("create_player.lua")
_SET_IF_EXISTS = Script(
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1"
)


@attrs.frozen
class IngestResult:
    """
    What a push changed.

    @ivar project: the project's slug.
    @ivar new: the hashes of the commits that were new, in push order.
    @ivar active: L{False} when the project is deactivated and nothing was stored.
    """

    project: str
    new: tuple[str, ...]
    active: bool = True


@attrs.frozen
class Page:
    """
    One page of a listing.

    @ivar models: the rows, as JSON-ready dicts.
    @ivar next: the cursor of the next page, or L{None} on the last one.
    """

    models: list[dict[str, Any]]
    next: str | None


def language_slug(name: str) -> str:
    """
    @param name: a language name such as C{"C++"}.
    @return: its slug, keeping C{+} and C{#} apart (C{"cpp"}, C{"csharp"}).
    """
    return slugify(name.replace("+", "p").replace("#", "sharp"))


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _summary(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first[:SUMMARY_LENGTH]


def _rows(reply: str) -> tuple[int, list[dict[str, Any]]]:
    decoded = json.loads(reply)
    rows = decoded["rows"]
    # cjson has one encoding for an empty table: an object.
    return int(decoded["total"]), rows if isinstance(rows, list) else []


def _hash(flat: list[str]) -> dict[str, str]:
    """@return: an HGETALL reply, C{[field, value, ...]}, as a dict."""
    return dict(zip(flat[0::2], flat[1::2], strict=True))


def _list(value: str) -> list[Any]:
    decoded = json.loads(value) if value else []
    return decoded if isinstance(decoded, list) else []


class Store:
    """
    The product's data, over one L{RedisClient}.

    @ivar games: the configured games besides the built-in ones.
    """

    def __init__(
        self,
        redis: RedisClient,
        clock: IReactorTime,
        games: Sequence[Game] = (),
        ingest_timeout: float = 30.0,
    ) -> None:
        """
        @param redis: the client every command goes through.
        @param clock: tells the time for the current game and timestamps.
        @param games: the configured games besides the built-in ones.
        @param ingest_timeout: seconds a push's script may take (2048 commits).
        """
        self.redis = redis
        self._clock = clock
        self.games = tuple(games)
        self._ingest_timeout = ingest_timeout

    def now(self) -> datetime:
        """@return: the clock's time, aware, in UTC."""
        return datetime.fromtimestamp(self._clock.seconds(), UTC)

    # Games

    def game(self, slug: str | None = None) -> Game:
        """
        @param slug: a game's slug, or L{None} for the current game.
        @return: the game.
        @raise NotFound: when no game has that slug.
        """
        if not slug:
            return scoring.current_game(self.now(), self.games)
        found = scoring.find_game(slug, self.games)
        if found is None:
            raise NotFound(f"no game {slug!r}")
        return found

    @_deferred
    async def list_games(self, offset: int = 0, limit: int = 20) -> Page:
        """
        Every game that has commits, every configured game and the current
        one, latest start first.
        """
        slugs = await self.redis.execute("ZRANGE", "j:games", 0, -1)
        known = {g.slug: g for g in self.games}
        current = self.game()
        known[current.slug] = current
        for slug in slugs:
            found = scoring.find_game(slug, self.games)
            if found is not None:
                known[found.slug] = found
        ordered = sorted(known.values(), key=lambda g: g.start, reverse=True)
        models = [_game_model(g, g == current) for g in ordered]
        return _offset_page(models[offset : offset + limit], offset, limit, len(models))

    # Ingest

    @_deferred
    async def ingest(self, push: Push) -> IngestResult:
        """
        Store a push's new commits and score them, atomically.

        @param push: the parsed webhook delivery.
        @return: the project's slug and the hashes that were new.
        @raise RedisUnavailable: when Redis does not answer; then nothing
            may be assumed stored, and a redelivery is safe.
        """
        request = self._ingest_request(push)
        reply = await self.redis.run(
            _INGEST, args=(json.dumps(request),), timeout=self._ingest_timeout
        )
        result = json.loads(reply)
        new = result["new"] if isinstance(result["new"], list) else []
        return IngestResult(result["project"], tuple(new), result["status"] == "ok")

    def _ingest_request(self, push: Push) -> dict[str, Any]:
        games: dict[str, dict[str, Any]] = {}
        commits = []
        for commit in push.commits:
            held = scoring.games_at(commit.timestamp, self.games)
            for g in held:
                games[g.slug] = {
                    "slug": g.slug,
                    "name": g.name,
                    "start": _iso(g.start),
                    "end": _iso(g.end),
                    "start_ts": int(g.start.timestamp()),
                }
            commits.append(_commit_request(commit, [g.slug for g in held]))
        p = push.project
        return {
            "project": {
                "slug": p.slug,
                "name": p.name,
                "url": p.url,
                "service": p.service,
                "description": p.description,
                "watchers": p.watchers,
                "forks": p.forks,
                "forked": "1" if p.forked else "0",
            },
            "commits": commits,
            "games": list(games.values()),
            "now": _iso(self.now()),
            "commit_points": scoring.COMMIT_POINTS,
            "first_bonus": scoring.FIRST_COMMIT_BONUS,
            "feed_maxlen": FEED_LENGTH,
        }

    # Players

    @_deferred
    async def create_player(
        self,
        username: str,
        name: str,
        emails: Sequence[str],
        location: str | None = None,
        team: str | None = None,
        approve_team: bool = False,
    ) -> dict[str, Any]:
        """
        Create a player.

        @param username: 1 to 39 letters, digits, C{.}, C{_} or C{-}; stored
            lower-cased.
        @param emails: the commit e-mails that identify the player.
        @param location: a location's name, created when new.
        @param team: a team's name, created when new (unapproved unless
            C{approve_team}).
        @return: the player's model.
        @raise InvalidInput: for a malformed username, e-mail or name.
        @raise Conflict: when the username or an e-mail is taken.
        """
        username = _valid_username(username)
        request = {
            "username": username,
            "name": _valid_name(name or username, "name"),
            "emails": sorted({_valid_email(e) for e in emails}),
            "location": _group(location, "location"),
            "team": _group(team, "team"),
            "approve_team": approve_team,
            "now": _iso(self.now()),
        }
        result = json.loads(
            await self.redis.run(_CREATE_PLAYER, args=(json.dumps(request),))
        )
        if result["status"] == "conflict":
            raise Conflict(f"{result['field']} {result['value']!r} is taken")
        return await self.player(username)

    @_deferred
    async def set_project_active(self, slug: str, active: bool) -> None:
        """
        Activate or deactivate a project; a deactivated one stores no pushes.

        @raise NotFound: when there is no such project.
        """
        found = await self.redis.run(
            _SET_IF_EXISTS,
            keys=(f"j:project:{slug}",),
            args=("active", "1" if active else "0"),
        )
        if not found:
            raise NotFound(f"no project {slug!r}")

    # Boards and details

    @_deferred
    async def board(
        self, kind: str, game: str | None = None, offset: int = 0, limit: int = 20
    ) -> Page:
        """
        A page of a board, highest points first.

        @param kind: one of L{scoring.BOARDS}.
        @param game: the game's slug, or L{None} for the current game.
        """
        if kind not in _PREFIXES:
            raise NotFound(f"no board {kind!r}")
        g = self.game(game)
        total, rows = await self._read_board(
            g, kind, {"offset": offset, "limit": limit}
        )
        models = [_MODELS[kind](row) for row in rows]
        return _offset_page(models, offset, limit, total)

    @_deferred
    async def detail(
        self, kind: str, member: str, game: str | None = None
    ) -> dict[str, Any]:
        """
        One member of a board, with its points and rank in a game.

        @raise NotFound: when there is no such member.
        """
        g = self.game(game)
        if kind != "languages":
            # Usernames and slugs are stored lower-cased.
            member = member.lower()
        _, rows = await self._read_board(g, kind, {"members": [member]})
        if not rows or (kind != "languages" and not rows[0]["fields"]):
            raise NotFound(f"no {_SINGULAR[kind]} {member!r}")
        return _MODELS[kind](rows[0])

    @_deferred
    async def player(self, username: str, game: str | None = None) -> dict[str, Any]:
        """@return: the player's model in a game (the current one by default)."""
        return await self.detail("people", username, game)

    async def _read_board(
        self, game: Game, kind: str, what: dict[str, Any]
    ) -> tuple[int, list[dict[str, Any]]]:
        request = {"game": game.slug, "board": kind, "prefix": _PREFIXES[kind], **what}
        return _rows(await self.redis.run(_BOARD, args=(json.dumps(request),)))

    # Commits

    @_deferred
    async def commit(self, hash: str) -> dict[str, Any]:
        """
        @return: the commit's model.
        @raise NotFound: when no such commit is stored.
        """
        fields = await self.redis.execute("HGETALL", "j:commit:" + hash.lower())
        if not fields:
            raise NotFound(f"no commit {hash!r}")
        return _commit_model(_hash(fields))

    @_deferred
    async def commits(
        self,
        game: str | None = None,
        cursor: str | None = None,
        limit: int = 20,
        username: str | None = None,
        project: str | None = None,
    ) -> Page:
        """
        Commits, newest arrival first: all of them, a game's, a player's or a
        project's.

        @param cursor: the C{next} of the previous page.
        """
        if username:
            key = f"j:player:{username.lower()}:commits"
        elif project:
            key = f"j:project:{project}:commits"
        elif game:
            key = f"j:game:{self.game(game).slug}:commits"
        else:
            key = "j:commits"
        top = "+inf" if cursor is None else f"({_cursor_int(cursor)}"
        hashes_scores = await self.redis.execute(
            "ZREVRANGEBYSCORE", key, top, "-inf", "WITHSCORES", "LIMIT", 0, limit + 1
        )
        hashes = hashes_scores[0::2][:limit]
        scores = hashes_scores[1::2]
        found = await gatherResults(
            [self.redis.execute("HGETALL", "j:commit:" + h) for h in hashes]
        )
        models = [_commit_model(_hash(f)) for f in found if f]
        more = len(hashes_scores) // 2 > limit
        return Page(models, str(int(float(scores[limit - 1]))) if more else None)


def _commit_request(commit: CommitEvent, games: list[str]) -> dict[str, Any]:
    return {
        "hash": commit.hash,
        "url": commit.url,
        "message": commit.message,
        "summary": _summary(commit.message),
        "timestamp": _iso(commit.timestamp),
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
    }


def _valid_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.fullmatch(username.lower()):
        raise InvalidInput(
            "username must be 1 to 39 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return username.lower()


def _valid_email(email: str) -> str:
    if not isinstance(email, str) or len(email) > 254:
        raise InvalidInput(f"invalid e-mail address {email!r}")
    cleaned = email.strip().lower()
    if not _EMAIL.fullmatch(cleaned):
        raise InvalidInput(f"invalid e-mail address {email!r}")
    return cleaned


def _valid_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise InvalidInput(f"{what} must be 1 to 100 characters")
    return name.strip()


def _group(name: str | None, what: str) -> dict[str, str] | None:
    if name is None or name == "":
        return None
    cleaned = _valid_name(name, what)
    slug = slugify(cleaned)
    if not slug:
        raise InvalidInput(f"{what} {name!r} needs at least one letter or digit")
    return {"slug": slug, "name": cleaned}


def _cursor_int(cursor: str) -> int:
    if not cursor.isdigit():
        raise InvalidInput(f"invalid cursor {cursor!r}")
    return int(cursor)


def _offset_page(
    models: list[dict[str, Any]], offset: int, limit: int, total: int
) -> Page:
    return Page(models, str(offset + limit) if offset + limit < total else None)


def _game_model(game: Game, current: bool) -> dict[str, Any]:
    return {
        "slug": game.slug,
        "name": game.name,
        "start": _iso(game.start),
        "end": _iso(game.end),
        "current": current,
    }


def _player_model(row: dict[str, Any]) -> dict[str, Any]:
    f = row["fields"]
    return {
        "username": row["member"],
        "name": f.get("name", row["member"]),
        "points": row["points"],
        "rank": row["rank"] or None,
        "commits": row["commits"],
        "projects": row["projects"],
        "location": f.get("location") or None,
        "team": f.get("team") or None,
        "picture_url": f.get("picture_url") or None,
    }


def _project_model(row: dict[str, Any]) -> dict[str, Any]:
    f = row["fields"]
    return {
        "slug": row["member"],
        "name": f.get("name", row["member"]),
        "url": f.get("url", ""),
        "service": f.get("service", ""),
        "description": f.get("description", ""),
        "watchers": int(f.get("watchers") or 0),
        "forks": int(f.get("forks") or 0),
        "active": f.get("active", "1") == "1",
        "points": row["points"],
        "rank": row["rank"] or None,
        "commits": row["commits"],
    }


def _group_model(row: dict[str, Any]) -> dict[str, Any]:
    f = row["fields"]
    model = {
        "slug": row["member"],
        "name": f.get("name", row["member"]),
        "points": row["points"],
        "rank": row["rank"] or None,
        "commits": row["commits"],
    }
    if "approved" in f:
        model["approved"] = f["approved"] == "1"
    return model


def _language_model(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": language_slug(row["member"]),
        "name": row["member"],
        "points": row["points"],
        "rank": row["rank"] or None,
        "commits": row["commits"],
    }


def _commit_model(f: dict[str, str]) -> dict[str, Any]:
    return {
        "hash": f["hash"],
        "url": f.get("url", ""),
        "message": f.get("message", ""),
        "timestamp": f.get("timestamp", ""),
        "author": f.get("author", ""),
        "username": f.get("username") or None,
        "project": f.get("project", ""),
        "files": _list(f.get("files", "")),
        "languages": _list(f.get("languages", "")),
        "games": _list(f.get("games", "")),
    }


_MODELS = {
    "people": _player_model,
    "projects": _project_model,
    "locations": _group_model,
    "teams": _group_model,
    "languages": _language_model,
}

_SINGULAR = {
    "people": "player",
    "projects": "project",
    "locations": "location",
    "teams": "team",
    "languages": "language",
}

__all__ = ["FEED_LENGTH", "MAX_LIMIT", "IngestResult", "Page", "Store", "language_slug"]
