# -*- test-case-name: tests.store.test_store,tests.store.test_games_runtime -*-
"""
The games: which one is current, finding one by slug, and listing them;
and the games admins make and change at run time.
The other concerns of the store ask this one the time and the game.

The games made at run time live in Redis (L{_keys.GAMES}, each change
logged and the version L{_keys.GAMES_VERSION} set anew, in one script); each
node holds a copy, reloaded whenever that version differs (L{Games.refresh},
run at least once a second by L{Games.watch}).  The C{--game} flags are
seeded there at start, once: an edit made at run time outlives the flag.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import attrs
from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from julytwisted.errors import Conflict, InvalidInput, NotFound
from julytwisted.game import scoring
from julytwisted.game.games import EDITABLE, Change, Game, check_edit, end_now
from julytwisted.models import (
    GameChange,
    GameDetail,
    GameLogEntry,
    ListedGame,
    Page,
)
from julytwisted.redis_service import RedisClient, Script
from julytwisted.store import _keys
from julytwisted.store._models import game_record, hash_reply, iso, offset_page
from julytwisted.store._scripts import script

_SAVE = script("save_game.lua")

log = Logger()

#: Who a game seeded from the command line was made by, as its log says.
FLAG = "--game"

#: Which of its keys exist, as their 1-based positions.
_EXISTING = Script(
    "local found = {} "
    "for i, key in ipairs(KEYS) do "
    "if redis.call('EXISTS', key) == 1 then found[#found + 1] = i end end "
    "return found",
    "existing",
)


class _Watch(Service):
    """Seeds the flags' games, then keeps a node's copy of the games fresh."""

    def __init__(self, games: Games, interval: float) -> None:
        self._games = games
        self._seeded = False
        self._loop = LoopingCall(self._tick)
        self._loop.clock = games._clock
        self._interval = interval
        self._stopped: Deferred[LoopingCall] | None = None

    def startService(self) -> None:
        Service.startService(self)
        self._stopped = self._loop.start(self._interval)

    def stopService(self) -> Deferred[None] | None:
        """@return: fires once a reload under way is done."""
        Service.stopService(self)
        stopped, self._stopped = self._stopped, None
        if stopped is None:
            return None
        self._loop.stop()
        return stopped.addCallback(lambda _: None)

    def _tick(self) -> Deferred[None]:
        return Deferred.fromCoroutine(self._refresh())

    async def _refresh(self) -> None:
        try:
            if not self._seeded:
                await self._games.seed()
                self._seeded = True
            await self._games.refresh()
        except Exception:
            # Redis away: the next tick tries again, the copy serves meanwhile.
            log.failure("reloading the games")


class Games:
    """
    The configured games and the built-in ones, over a clock.

    @ivar flags: the games of the C{--game} flags, as given.
    @ivar late_grace: how long after a game's window its commits may still
        arrive and score (L{scoring.scores_in}).
    """

    def __init__(
        self,
        redis: RedisClient,
        clock: IReactorTime,
        configured: Sequence[Game],
        late_grace: timedelta = scoring.LATE_GRACE,
    ) -> None:
        self._redis = redis
        self._clock = clock
        self.flags = tuple(configured)
        self.late_grace = late_grace
        self._stored: dict[str, Game] = {}
        self._version: str | None = None
        self._loaded = False

    @property
    def configured(self) -> tuple[Game, ...]:
        """
        The games besides the built-in ones: those kept in Redis, as last
        loaded, and the flags' games not (yet) seeded there.
        """
        known = {game.slug: game for game in self.flags}
        known.update(self._stored)
        return tuple(known.values())

    async def refresh(self) -> None:
        """
        Load the games kept in Redis, then again only when their version
        has moved (none kept yet, as in an event run on its built-in games,
        is a version too).
        """
        version = await self._redis.execute("GET", _keys.GAMES_VERSION)
        if self._loaded and version == self._version:
            return
        pairs = hash_reply(await self._redis.execute("HGETALL", _keys.GAMES))
        self._stored = {slug: _game(text) for slug, text in pairs.items()}
        self._version = version
        self._loaded = True

    def watch(self, interval: float = 0.5) -> Service:
        """
        @return: a service that, once started, seeds the flags' games
            (L{seed}, until Redis answers) and then reloads the games every
            C{interval} seconds when they changed (L{refresh}).
        """
        return _Watch(self, interval)

    async def seed(self) -> list[str]:
        """
        Keep each flag's game in Redis unless one of its slug is there: a
        game edited at run time keeps the edit across restarts.

        @return: the slugs seeded now.
        """
        seeded = []
        for game in self.flags:
            if await self._save(game, None, FLAG, "created", _created(game)):
                seeded.append(game.slug)
        await self.refresh()
        return seeded

    async def create(self, game: Game, by: str) -> Game:
        """
        Make a game at run time.

        @param by: who makes it, as its log will say.
        @raise InvalidInput: when its slug is empty or a built-in game's, or
            it starts before now.
        @raise Conflict: when a game of that slug exists.
        """
        await self.refresh()
        if not game.slug or scoring.is_builtin_slug(game.slug):
            raise InvalidInput(f"a game's name must make a new slug: {game.name!r}")
        if game.start < self.now():
            raise InvalidInput("a new game starts now or later")
        taken = {g.slug for g in self.configured}
        if game.slug in taken or not await self._save(
            game, None, by, "created", _created(game)
        ):
            raise Conflict(f"a game {game.slug!r} exists")
        await self.refresh()
        return game

    async def update(
        self, slug: str, by: str, **fields: Any
    ) -> tuple[Game, Game, tuple[Change, ...]]:
        """
        Change a game's window or points (L{check_edit} says which may).

        @param by: who changes it, as its log will say.
        @param fields: the new values of some of L{EDITABLE}.
        @return: the game before, after, and what changed.
        @raise NotFound: when no game has that slug.
        @raise InvalidInput: for a built-in game or a change not allowed.
        @raise Conflict: when the game changed meanwhile.
        """
        old = await self._editable(slug)
        try:
            new = attrs.evolve(old, **fields)
        except (TypeError, ValueError) as e:
            raise InvalidInput(str(e)) from None
        return await self._change(old, new, by, "updated")

    async def end(self, slug: str, by: str) -> tuple[Game, Game, tuple[Change, ...]]:
        """
        End a running game now (see L{update}).
        """
        old = await self._editable(slug)
        return await self._change(old, end_now(old, self.now()), by, "ended")

    async def _editable(self, slug: str) -> Game:
        await self.refresh()
        game = self.game(slug)
        if game.slug not in {g.slug for g in self.configured}:
            raise InvalidInput(f"game {slug!r} is built in: it cannot change")
        return game

    async def _change(
        self, old: Game, new: Game, by: str, action: str
    ) -> tuple[Game, Game, tuple[Change, ...]]:
        found = check_edit(old, new, self.now())
        if found:
            stored = old if old.slug in self._stored else None
            if not await self._save(new, stored, by, action, found):
                raise Conflict(f"game {old.slug!r} changed meanwhile: try again")
            await self.refresh()
        return old, new, found

    async def _save(
        self,
        game: Game,
        stored: Game | None,
        by: str,
        action: str,
        found: Sequence[Change],
    ) -> bool:
        entry = {
            "at": iso(self.now()),
            "by": by,
            "action": action,
            "changes": [attrs.asdict(c) for c in found],
        }
        saved = await self._redis.run(
            _SAVE,
            keys=(_keys.GAMES, _keys.GAMES_VERSION, _keys.game_log(game.slug)),
            args=(
                game.slug,
                "" if stored is None else _definition(stored),
                _definition(game),
                json.dumps(entry),
                uuid.uuid4().hex,
            ),
        )
        return bool(saved)

    async def changeable(self) -> list[GameDetail]:
        """@return: the games kept in Redis or named by flags, latest start first."""
        await self.refresh()
        ordered = sorted(self.configured, key=lambda g: g.start, reverse=True)
        return [await self.detail(g.slug) for g in ordered]

    async def detail(self, slug: str) -> GameDetail:
        """
        @return: a game with its points and the log of its changes.
        @raise NotFound: when no game has that slug.
        """
        game = self.game(slug)
        entries = await self._redis.execute("LRANGE", _keys.game_log(game.slug), 0, -1)
        now = self.now()
        state: Literal["upcoming", "running", "ended"] = "running"
        if now < game.start:
            state = "upcoming"
        elif game.end <= now:
            state = "ended"
        return GameDetail(
            slug=game.slug,
            name=game.name,
            start=iso(game.start),
            end=iso(game.end),
            current=game == self.game(),
            state=state,
            editable=game.slug in {g.slug for g in self.configured},
            commit_points=game.commit_points,
            first_bonus=game.first_bonus,
            log=tuple(_entry(json.loads(text)) for text in entries),
        )

    def now(self) -> datetime:
        """@return: the clock's time, aware, in UTC."""
        return datetime.fromtimestamp(self._clock.seconds(), UTC)

    def game(self, slug: str | None = None) -> Game:
        """
        @param slug: a game's slug, or L{None} for the current game.
        @return: the game.
        @raise NotFound: when no game has that slug.
        """
        if not slug:
            return scoring.current_game(self.now(), self.configured)
        found = scoring.find_game(slug, self.configured)
        if found is None:
            raise NotFound(f"no game {slug!r}")
        return found

    async def list_games(self, offset: int = 0, limit: int = 20) -> Page[ListedGame]:
        """
        Every configured game, every built-in game that has scored commits,
        and the current one, latest start first.  Games come from
        configuration and the calendar alone: a commit only scores in one
        that has begun, so no later built-in game is looked for.
        """
        known = {g.slug: g for g in self.configured}
        current = self.game()
        known[current.slug] = current
        for game in await self._builtin_with_commits():
            known.setdefault(game.slug, game)
        ordered = sorted(known.values(), key=lambda g: g.start, reverse=True)
        models = [game_record(g, g == current) for g in ordered]
        return offset_page(models[offset : offset + limit], offset, limit, len(models))

    async def _builtin_with_commits(self) -> list[Game]:
        """The built-in games up to this year's that hold commits."""
        candidates = [
            game
            for year in range(scoring.FIRST_BUILTIN_YEAR, self.now().year + 1)
            for game in scoring.builtin_games(year)
        ]
        found = await self._redis.run(
            _EXISTING, keys=tuple(_keys.game_commits(g.slug) for g in candidates)
        )
        return [candidates[int(i) - 1] for i in found]

    async def game_commits(self, game: str | None = None) -> int:
        """@return: how many commits a game (the current one by default) holds."""
        count = await self._redis.execute(
            "ZCARD", _keys.game_commits(self.game(game).slug)
        )
        return int(count)


def _definition(game: Game) -> str:
    """A game as L{_keys.GAMES} keeps it (and the Lua scripts read it)."""
    return json.dumps(
        {
            "name": game.name,
            "start": game.start.isoformat(),
            "end": game.end.isoformat(),
            "commit_points": game.commit_points,
            "first_bonus": game.first_bonus,
        },
        sort_keys=True,
    )


def _game(text: str) -> Game:
    d = json.loads(text)
    return Game(
        d["name"],
        datetime.fromisoformat(d["start"]),
        datetime.fromisoformat(d["end"]),
        commit_points=d["commit_points"],
        first_bonus=d["first_bonus"],
    )


def _created(game: Game) -> tuple[Change, ...]:
    """A new game's fields, as the first entry of its log lists them."""
    return tuple(Change(f, "", _text(getattr(game, f))) for f in EDITABLE)


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _entry(d: dict[str, Any]) -> GameLogEntry:
    return GameLogEntry(
        at=d["at"],
        by=d["by"],
        action=d["action"],
        changes=tuple(
            GameChange(c["field"], c["old"] or None, c["new"]) for c in d["changes"]
        ),
    )


__all__ = ["FLAG", "Games"]
