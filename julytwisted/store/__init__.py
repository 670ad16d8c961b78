# -*- test-case-name: tests.store.test_store -*-
"""
Everything julytwisted keeps in Redis: players, projects, commits, games,
boards and the feed.

Every Redis key is spelled here or in the Lua scripts of C{julytwisted/lua/},
which this module owns.  Writes that touch several keys are one Lua script
each, so they are atomic and a redelivered push counts once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, ParamSpec, TypeVar

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from julytwisted.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from julytwisted.game import scoring
from julytwisted.game.events import Push
from julytwisted.game.games import Game
from julytwisted.redis_service import RedisClient, Script, all_of
from julytwisted.store._models import (
    EMAIL_PATTERN,
    MODELS,
    NAME_PATTERN,
    SINGULAR,
    USERNAME_PATTERN,
    Page,
    board_rows,
    commit_model,
    commit_request,
    cursor_int,
    game_model,
    group_request,
    hash_reply,
    iso,
    language_slug,
    offset_page,
    valid_email,
    valid_name,
    valid_username,
)
from julytwisted.store.feed import FeedEntry, merge_entries

#: How many entries each feed stream keeps for replay.
FEED_LENGTH = 1000

#: The most rows one page of a listing may ask for.
MAX_LIMIT = 100

#: Where stored files are served; a file's URL is this and its SHA-256.
FILES_URL = "/files/"

#: The most screenshots a project's detail lists, latest first.
MAX_SCREENSHOTS = 20
#: Project sizes by watchers: the least, and the least of the next size up.
PROJECT_SIZES = {"small": (0, 10), "medium": (10, 100), "large": (100, -1)}

#: The pub/sub channel every push's feed entries are published on.
LIVE_PUBSUB = "j:live"


#: The scoring rules, as the Lua scripts take them.
_POINTS = {
    "commit_points": scoring.COMMIT_POINTS,
    "first_bonus": scoring.FIRST_COMMIT_BONUS,
}

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


def _script(name: str, scoring: bool = False) -> Script:
    lua = files("julytwisted.store").joinpath("lua")
    source = lua.joinpath(name).read_text("utf-8")
    if scoring:
        source = lua.joinpath("_scoring.lua").read_text("utf-8") + "\n" + source
    return Script(source, name.removesuffix(".lua"))


_INGEST = _script("ingest.lua", scoring=True)
_BOARD = _script("board.lua")
_CREATE_PLAYER = _script("create_player.lua")
_MOVE_MEMBER = _script("move_member.lua", scoring=True)
_APPROVE_TEAM = _script("approve_team.lua", scoring=True)
_ADOPT = _script("adopt.lua", scoring=True)
_ADD_EMAIL = _script("add_email.lua")
_REMOVE_EMAIL = _script("remove_email.lua")
_REVOKE_TOKEN = Script(
    "if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end "
    "redis.call('DEL', 'j:token:' .. ARGV[1]) return 1",
    "revoke_token",
)
_RECOUNT = _script("recount.lua", scoring=True)
_RECORD_UPLOADS = _script("record_uploads.lua")
_PROJECTS_BY_SIZE = _script("projects_by_size.lua")
_SET_IF_EXISTS = Script(
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1",
    "set_if_exists",
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
        models = [game_model(g, g == current) for g in ordered]
        return offset_page(models[offset : offset + limit], offset, limit, len(models))

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
                    "start": iso(g.start),
                    "end": iso(g.end),
                    "start_ts": int(g.start.timestamp()),
                }
            commits.append(commit_request(commit, [g.slug for g in held]))
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
            "now": iso(self.now()),
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
        password_hash: str = "",
    ) -> dict[str, Any]:
        """
        Create a player.

        @param username: 1 to 39 letters, digits, C{.}, C{_} or C{-}; stored
            lower-cased.
        @param emails: the commit e-mails that identify the player.
        @param location: a location's name, created when new.
        @param team: a team's name, created when new (unapproved unless
            C{approve_team}; an existing team keeps its approval, which
            L{approve_team} changes).
        @param password_hash: the player's password as
            L{julytwisted.passwords} hashes it, or empty for none.
        @return: the player's model.
        @raise InvalidInput: for a malformed username, e-mail or name.
        @raise Conflict: when the username or an e-mail is taken.
        """
        username = valid_username(username)
        request = {
            "username": username,
            "name": valid_name(name or username, "name"),
            "emails": sorted({valid_email(e) for e in emails}),
            "location": group_request(location, "location"),
            "team": group_request(team, "team"),
            "approve_team": approve_team,
            "now": iso(self.now()),
            "password": password_hash,
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

    @_deferred
    async def add_email(self, username: str, email: str) -> int:
        """
        Give a player another commit e-mail.

        @return: how many orphan commits wait for that e-mail (see
            L{adopt_orphans}).
        @raise Conflict: when another player has it.
        @raise NotFound: when there is no such player.
        """
        request = {"username": username.lower(), "email": valid_email(email)}
        result = json.loads(
            await self.redis.run(_ADD_EMAIL, args=(json.dumps(request),))
        )
        if result["status"] == "missing":
            raise NotFound(f"no player {username!r}")
        if result["status"] == "taken":
            raise Conflict(f"email {request['email']!r} is taken")
        return int(result["orphans"])

    @_deferred
    async def remove_email(self, username: str, email: str) -> None:
        """
        Take a commit e-mail off a player.  What it scored stays scored; its
        later commits are orphans until someone adds it.

        @raise NotFound: when the player does not have that e-mail.
        @raise Conflict: when it is their last one.
        """
        request = {"username": username.lower(), "email": valid_email(email)}
        status = await self.redis.run(_REMOVE_EMAIL, args=(json.dumps(request),))
        if status == "missing":
            raise NotFound(f"{request['email']!r} is not one of your e-mails")
        if status == "last":
            raise Conflict("that is your only e-mail: add another first")

    @_deferred
    async def adopt_orphans(self, email: str) -> int:
        """
        Score the orphan commits of an e-mail for the player who owns it now.
        Idempotent: a commit is adopted once however often this runs.

        @return: how many commits were adopted.
        """
        request = {"email": valid_email(email), **_POINTS}
        result = json.loads(await self.redis.run(_ADOPT, args=(json.dumps(request),)))
        return int(result["adopted"])

    @_deferred
    async def adopt_all_orphans(self, batch: int = 500) -> dict[str, int]:
        """
        The sweep behind L{adopt_orphans}: adopt the orphans of every e-mail
        a player owns now, in case the job queued when it was added never
        ran.  Reads the orphan sets with C{SCAN}, so Redis is never held
        for long.

        @return: C{{"emails": owned e-mails seen, "adopted": commits}}.
        """
        emails = adopted = 0
        cursor = "0"
        while True:
            cursor, keys = await self.redis.execute(
                "SCAN", cursor, "MATCH", "j:orphans:*", "COUNT", batch
            )
            for key in keys:
                email = key.removeprefix("j:orphans:")
                if await self.redis.execute("EXISTS", "j:email:" + email):
                    emails += 1
                    adopted += await self.adopt_orphans(email)
            if cursor == "0":
                return {"emails": emails, "adopted": adopted}

    @_deferred
    async def move_member(
        self, username: str, board: str, name: str | None, approve: bool = False
    ) -> list[str]:
        """
        Move a player to another location or team, or to none, taking their
        points along: both groups are recounted in every game the player has
        commits in.

        @param board: C{"locations"} or C{"teams"}.
        @param name: the new group's name (created when new), or L{None}.
        @param approve: approve a team created by this move.
        @return: the slugs of the games recounted.
        @raise NotFound: when there is no such player.
        """
        if board not in ("locations", "teams"):
            raise InvalidInput(f"players belong to locations or teams, not {board!r}")
        what = "location" if board == "locations" else "team"
        request = {
            "username": username.lower(),
            "board": board,
            "group": group_request(name, what),
            "approve": approve,
            **_POINTS,
        }
        result = json.loads(
            await self.redis.run(_MOVE_MEMBER, args=(json.dumps(request),))
        )
        if result["status"] == "missing":
            raise NotFound(f"no player {username!r}")
        return sorted(result["games"] or [])

    def check_group_name(self, name: str | None, board: str) -> None:
        """
        @raise InvalidInput: when C{name} cannot name a location or team.
        """
        group_request(name, "location" if board == "locations" else "team")

    @_deferred
    async def approve_team(self, slug: str, approved: bool = True) -> list[str]:
        """
        Approve or unapprove a team; it scores only while approved.

        @return: the slugs of the games its board entry was recounted in.
        @raise NotFound: when there is no such team.
        """
        request = {"slug": slug.lower(), "approved": approved, **_POINTS}
        result = json.loads(
            await self.redis.run(_APPROVE_TEAM, args=(json.dumps(request),))
        )
        if result["status"] == "missing":
            raise NotFound(f"no team {slug!r}")
        return sorted(result["games"] or [])

    @_deferred
    async def teams_waiting(self, limit: int = 100) -> list[dict[str, str]]:
        """
        Teams not approved yet, from the set the scripts that make, move to
        and approve teams keep (C{j:teams:waiting}).

        @return: up to C{limit} C{{slug, name}}, sorted by slug.
        """
        found = await self.redis.execute(
            "SORT", "j:teams:waiting", "ALPHA", "LIMIT", 0, limit,
            "GET", "#", "GET", "j:team:*->name",
        )  # fmt: skip
        pairs = zip(found[::2], found[1::2], strict=True)
        return [{"slug": slug, "name": name or slug} for slug, name in pairs]

    @_deferred
    async def recount(self, game: str) -> dict[str, Any]:
        """
        Rebuild every board of a game from its commits and repair any drift.
        Runs as one script: Redis answers nothing else meanwhile, about a
        second per hundred thousand commits.

        @return: C{{"commits": N, "repaired": [{board, member, was, now}]}}.
        """
        request = {"game": self.game(game).slug, **_POINTS}
        result = json.loads(
            await self.redis.run(
                _RECOUNT, args=(json.dumps(request),), timeout=self._ingest_timeout
            )
        )
        repaired = result["repaired"] if isinstance(result["repaired"], list) else []
        return {"commits": result["commits"], "repaired": repaired}

    @_deferred
    async def set_player_name(self, username: str, name: str) -> None:
        """
        Change a player's display name.

        @raise InvalidInput: for an empty or overlong name.
        @raise NotFound: when there is no such player.
        """
        found = await self.redis.run(
            _SET_IF_EXISTS,
            keys=(f"j:player:{username.lower()}",),
            args=("name", valid_name(name, "name")),
        )
        if not found:
            raise NotFound(f"no player {username!r}")

    @_deferred
    async def game_commits(self, game: str | None = None) -> int:
        """@return: how many commits a game (the current one by default) holds."""
        count = await self.redis.execute(
            "ZCARD", f"j:game:{self.game(game).slug}:commits"
        )
        return int(count)

    # Credentials

    @_deferred
    async def password_hash(self, username: str) -> str | None:
        """@return: the stored password hash of a player, or L{None}."""
        stored: str | None = await self.redis.execute(
            "HGET", "j:auth:" + username.lower(), "password"
        )
        return stored

    @_deferred
    async def emails(self, username: str) -> list[str]:
        """@return: a player's commit e-mails, sorted."""
        found = await self.redis.execute(
            "SMEMBERS", f"j:player:{username.lower()}:emails"
        )
        return sorted(found)

    @_deferred
    async def create_token(self, username: str) -> str:
        """
        Make a new API token for a player.  Only its SHA-256 is stored, so
        this is the one time it can be read.

        @return: the token.
        """
        token = secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode()).hexdigest()
        await self.redis.execute("SET", "j:token:" + digest, username.lower())
        await self.redis.execute("SADD", f"j:player:{username.lower()}:tokens", digest)
        return token

    @_deferred
    async def tokens(self, username: str) -> list[str]:
        """
        @return: the ids of a player's API tokens (the start of each one's
            digest; the tokens themselves are not kept), sorted.
        """
        digests = await self.redis.execute(
            "SMEMBERS", f"j:player:{username.lower()}:tokens"
        )
        return sorted(d[:16] for d in digests)

    @_deferred
    async def revoke_token(self, username: str, token_id: str) -> None:
        """
        Revoke one of a player's API tokens by its id (L{tokens}).

        @raise NotFound: when the player has no token of that id.
        """
        key = f"j:player:{username.lower()}:tokens"
        digests = await self.redis.execute("SMEMBERS", key)
        matching = [d for d in digests if token_id and d[:16] == token_id]
        if len(matching) != 1 or not await self.redis.run(
            _REVOKE_TOKEN, keys=(key,), args=(matching[0],)
        ):
            raise NotFound(f"no token {token_id!r}")

    @_deferred
    async def token_owner(self, token: str) -> str | None:
        """@return: the username an API token belongs to, or L{None}."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        owner: str | None = await self.redis.execute("GET", "j:token:" + digest)
        return owner

    # Uploaded files

    @_deferred
    async def record_uploads(
        self, username: str, files: Sequence[dict[str, Any]], quota: int
    ) -> list[dict[str, Any]]:
        """
        Record the files of one upload: each file's facts once, who sent it,
        as what and when; an avatar becomes the player's C{picture_url}, a
        screenshot is listed on its project.  Atomic: all or nothing.

        @param files: C{{sha256, size, content_type, filename, kind,
            project}} each, one kind and project for all.
        @param quota: the bytes of distinct files the player may have.
        @return: each file's C{{sha256, size, content_type, url}}.
        @raise NotFound: when the project does not exist.
        @raise PayloadTooLarge: when the files would pass the quota.
        """
        request = {
            "username": username.lower(),
            "quota": quota,
            "now": iso(self.now()),
            "url_prefix": FILES_URL,
            "files": list(files),
        }
        result = json.loads(
            await self.redis.run(_RECORD_UPLOADS, args=(json.dumps(request),))
        )
        if result["status"] == "missing":
            raise NotFound(f"no {result['what']} {result['value']!r}")
        if result["status"] == "over_quota":
            raise PayloadTooLarge(
                f"over your upload quota of {quota} bytes: {result['used']} used, "
                f"{result['needed']} more needed"
            )
        return [
            {
                "sha256": f["sha256"],
                "size": f["size"],
                "content_type": f["content_type"],
                "url": FILES_URL + f["sha256"],
            }
            for f in files
        ]

    @_deferred
    async def upload_usage(self, username: str) -> int:
        """@return: the bytes of distinct files a player has uploaded."""
        used = await self.redis.execute(
            "GET", f"j:player:{username.lower()}:upload_bytes"
        )
        return int(used or 0)

    @_deferred
    async def file_info(self, sha256: str) -> dict[str, Any]:
        """
        @return: a stored file's C{{sha256, size, content_type, url,
            created}}.
        @raise NotFound: when no upload recorded it.
        """
        fields = hash_reply(await self.redis.execute("HGETALL", "j:file:" + sha256))
        if not fields:
            raise NotFound(f"no file {sha256!r}")
        return {
            "sha256": fields["sha256"],
            "size": int(fields["size"]),
            "content_type": fields["content_type"],
            "url": FILES_URL + fields["sha256"],
            "created": fields["created"],
        }

    async def _screenshots(self, project: str) -> list[str]:
        found = await self.redis.execute(
            "ZREVRANGE", f"j:project:{project}:screenshots", 0, MAX_SCREENSHOTS - 1
        )
        return [FILES_URL + sha256 for sha256 in found]

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
        models = [MODELS[kind](row) for row in rows]
        return offset_page(models, offset, limit, total)

    @_deferred
    async def projects_by_size(
        self, size: str, game: str | None = None, offset: int = 0, limit: int = 20
    ) -> Page:
        """
        A page of the projects board of one size (L{PROJECT_SIZES}, by
        watchers), highest points first, ranked within that size.

        @raise InvalidInput: for an unknown size.
        """
        if size not in PROJECT_SIZES:
            raise InvalidInput(f"size must be one of {', '.join(PROJECT_SIZES)}")
        g = self.game(game)
        lo, hi = PROJECT_SIZES[size]
        request = {"game": g.slug, "lo": lo, "hi": hi, "offset": offset}
        request["limit"] = limit
        found = json.loads(
            await self.redis.run(_PROJECTS_BY_SIZE, args=(json.dumps(request),))
        )
        members = found["members"] if isinstance(found["members"], list) else []
        rows: list[dict[str, Any]] = []
        if members:
            _, rows = await self._read_board(g, "projects", {"members": members})
        models = [
            {**MODELS["projects"](row), "rank": offset + i + 1}
            for i, row in enumerate(rows)
        ]
        return offset_page(models, offset, limit, int(found["total"]))

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
            raise NotFound(f"no {SINGULAR[kind]} {member!r}")
        model = MODELS[kind](rows[0])
        if kind == "projects":
            model["screenshots"] = await self._screenshots(member)
        return model

    @_deferred
    async def player(self, username: str, game: str | None = None) -> dict[str, Any]:
        """@return: the player's model in a game (the current one by default)."""
        return await self.detail("people", username, game)

    async def _read_board(
        self, game: Game, kind: str, what: dict[str, Any]
    ) -> tuple[int, list[dict[str, Any]]]:
        request = {"game": game.slug, "board": kind, "prefix": _PREFIXES[kind], **what}
        return board_rows(await self.redis.run(_BOARD, args=(json.dumps(request),)))

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
        return commit_model(hash_reply(fields))

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
        top = "+inf" if cursor is None else f"({cursor_int(cursor)}"
        hashes_scores = await self.redis.execute(
            "ZREVRANGEBYSCORE", key, top, "-inf", "WITHSCORES", "LIMIT", 0, limit + 1
        )
        hashes = hashes_scores[0::2][:limit]
        scores = hashes_scores[1::2]
        found = await all_of(
            [self.redis.execute("HGETALL", "j:commit:" + h) for h in hashes]
        )
        models = [commit_model(hash_reply(f)) for f in found if f]
        more = len(hashes_scores) // 2 > limit
        return Page(models, str(int(float(scores[limit - 1]))) if more else None)

    # The live feed

    @_deferred
    async def feed_after(
        self, channels: Sequence[str], since: str, count: int = FEED_LENGTH
    ) -> list[FeedEntry]:
        """
        What the feed's channels got after an entry, oldest first, each entry
        once however many of the channels it is on.

        @param since: a feed entry's id (C{"1751974200000-0"}).
        @param count: the most entries to read from each channel.
        """
        replies = await all_of(
            [
                self.redis.execute(
                    "XRANGE", "j:feed:" + c, "(" + since, "+", "COUNT", count
                )
                for c in channels
            ]
        )
        return merge_entries(replies)

    @_deferred
    async def feed_tail(self, channels: Sequence[str], count: int) -> list[FeedEntry]:
        """
        The last C{count} entries of the feed's channels together, oldest
        first.
        """
        replies = await all_of(
            [
                self.redis.execute("XREVRANGE", "j:feed:" + c, "+", "-", "COUNT", count)
                for c in channels
            ]
        )
        return merge_entries([list(reversed(r)) for r in replies])[-count:]


__all__ = [
    "EMAIL_PATTERN",
    "FEED_LENGTH",
    "FILES_URL",
    "LIVE_PUBSUB",
    "MAX_LIMIT",
    "MAX_SCREENSHOTS",
    "NAME_PATTERN",
    "PROJECT_SIZES",
    "USERNAME_PATTERN",
    "FeedEntry",
    "IngestResult",
    "Page",
    "Store",
    "all_of",
    "cursor_int",
    "language_slug",
]
