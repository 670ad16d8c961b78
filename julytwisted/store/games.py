# -*- test-case-name: tests.store.test_store -*-
"""
The games: which one is current, finding one by slug, and listing them.
The other concerns of the store ask this one the time and the game.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from twisted.internet.interfaces import IReactorTime

from julytwisted.errors import NotFound
from julytwisted.game import scoring
from julytwisted.game.games import Game
from julytwisted.models import ListedGame, Page
from julytwisted.redis_service import RedisClient
from julytwisted.store import _keys
from julytwisted.store._models import game_record, offset_page


class Games:
    """
    The configured games and the built-in ones, over a clock.

    @ivar configured: the configured games besides the built-in ones.
    """

    def __init__(
        self, redis: RedisClient, clock: IReactorTime, configured: Sequence[Game]
    ) -> None:
        self._redis = redis
        self._clock = clock
        self.configured = tuple(configured)

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
        Every game that has commits, every configured game and the current
        one, latest start first.
        """
        slugs = await self._redis.execute("ZRANGE", _keys.GAMES, 0, -1)
        known = {g.slug: g for g in self.configured}
        current = self.game()
        known[current.slug] = current
        for slug in slugs:
            found = scoring.find_game(slug, self.configured)
            if found is not None:
                known[found.slug] = found
        ordered = sorted(known.values(), key=lambda g: g.start, reverse=True)
        models = [game_record(g, g == current) for g in ordered]
        return offset_page(models[offset : offset + limit], offset, limit, len(models))

    async def game_commits(self, game: str | None = None) -> int:
        """@return: how many commits a game (the current one by default) holds."""
        count = await self._redis.execute(
            "ZCARD", _keys.game_commits(self.game(game).slug)
        )
        return int(count)


__all__ = ["Games"]
