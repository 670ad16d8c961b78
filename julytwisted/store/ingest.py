# -*- test-case-name: tests.store.test_store -*-
"""
The hot path's one write: a push's new commits stored and scored by one Lua
script (C{lua/ingest.lua}), so that a redelivery or two nodes racing count a
commit once.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from julytwisted.game import scoring
from julytwisted.game.events import Push
from julytwisted.redis_service import RedisClient
from julytwisted.store._models import commit_request, iso
from julytwisted.store._scripts import script
from julytwisted.store.games import Games

#: How many entries each feed stream keeps for replay.
FEED_LENGTH = 1000

_INGEST = script("ingest.lua", scoring=True)


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


class Ingest:
    """
    Pushes into Redis.
    """

    def __init__(self, redis: RedisClient, games: Games, timeout: float) -> None:
        """
        @param timeout: seconds a push's script may take (2048 commits).
        """
        self._redis = redis
        self._games = games
        self._timeout = timeout

    async def ingest(self, push: Push) -> IngestResult:
        """
        Store a push's new commits and score them, atomically.

        @param push: the parsed webhook delivery.
        @return: the project's slug and the hashes that were new.
        @raise RedisUnavailable: when Redis does not answer; then nothing
            may be assumed stored, and a redelivery is safe.
        """
        request = self._request(push)
        reply = await self._redis.run(
            _INGEST, args=(json.dumps(request),), timeout=self._timeout
        )
        result = json.loads(reply)
        new = result["new"] if isinstance(result["new"], list) else []
        return IngestResult(result["project"], tuple(new), result["status"] == "ok")

    def _request(self, push: Push) -> dict[str, Any]:
        games: dict[str, dict[str, Any]] = {}
        commits = []
        for commit in push.commits:
            held = scoring.games_at(commit.timestamp, self._games.configured)
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
            "now": iso(self._games.now()),
            "commit_points": scoring.COMMIT_POINTS,
            "first_bonus": scoring.FIRST_COMMIT_BONUS,
            "feed_maxlen": FEED_LENGTH,
        }


__all__ = ["FEED_LENGTH", "Ingest", "IngestResult"]
