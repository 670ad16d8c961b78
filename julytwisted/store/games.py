# -*- test-case-name: tests.store.test_store,tests.web.test_push_attacks -*-
"""
The games: which one is current, finding one by slug, and listing them.
The other concerns of the store ask this one the time and the game.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from twisted.internet.interfaces import IReactorTime

from julytwisted.errors import NotFound
from julytwisted.game import scoring
from julytwisted.game.games import Game
from julytwisted.models import ListedGame, Page
from julytwisted.redis_service import RedisClient, Script
from julytwisted.store import _keys
from julytwisted.store._models import game_record, offset_page

#: Which of its keys exist, as their 1-based positions.
_EXISTING = Script(
    "local found = {} "
    "for i, key in ipairs(KEYS) do "
    "if redis.call('EXISTS', key) == 1 then found[#found + 1] = i end end "
    "return found",
    "existing",
)


class Games:
    """
    The configured games and the built-in ones, over a clock.

    @ivar configured: the configured games besides the built-in ones.
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
        self.configured = tuple(configured)
        self.late_grace = late_grace

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


__all__ = ["Games"]
