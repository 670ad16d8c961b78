# -*- test-case-name: tests.store.test_rekey -*-
"""
The start-up migration of what pushes stored before repositories were keyed
by their canonical URL and messages were bounded: each project's URL key
moved to its canonical URL's, and each commit given its summary with its
message cut to the limit, and flagged as from the future when it claims a
time after now (its arrival was before now); a recount then takes such a
commit out of its games.  Then, once, each game's pending set gets the
counts by player and by project kept beside it since (C{lua/board.lua}
reads those instead of the set); and each commit with a known arrival is
indexed by it (L{_keys.COMMITS_ARRIVED}), which the recount reads to take
in the commits a game's window extended to.  Idempotent and safe on several
nodes at once; read in batches, so Redis is never held for long, and each
part
skipped once done.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from julytwisted.errors import InvalidPayload
from julytwisted.game._payload import cut_message
from julytwisted.game.repositories import canonical_url
from julytwisted.game.scoring import is_future
from julytwisted.redis_service import RedisClient, Script
from julytwisted.store import _keys
from julytwisted.store._models import summary
from julytwisted.store._scripts import script
from julytwisted.store.games import Games

#: The migrations done, by name, so that a node starting later skips them.
_DONE = "j:migrations"
_NAME = "canonical-projects-bounded-commits"
_PENDING_COUNTS = "pending-counts"
_ARRIVALS = "arrival-index"
_URL_PREFIX = _keys.project_url("")
_PENDING_PREFIX, _PENDING_SUFFIX = _keys.game_pending("\0").split("\0")
_COMMIT_PREFIX = _keys.commit("")

_COUNT_PENDING = script("pending_counts.lua", scoring=True)

# Move one project's URL key (KEYS[1]) to its canonical one (KEYS[2]) unless
# that names a project already, and give the project its canonical URL.
_MOVE_URL_KEY = Script(
    "local slug = redis.call('GET', KEYS[1]) "
    "if not slug then return 0 end "
    "local moved = redis.call('SET', KEYS[2], slug, 'NX') and 1 or 0 "
    "redis.call('DEL', KEYS[1]) "
    "if moved == 1 and redis.call('HGET', 'j:project:' .. slug, 'url') == ARGV[1] "
    "then redis.call('HSET', 'j:project:' .. slug, 'url', ARGV[2]) end "
    "return moved",
    "move_project_url",
)

# Index by their arrival the commits ARGV names that are not yet: returns
# how many were.
_INDEX_ARRIVALS = Script(
    "local added = 0 "
    "for _, hash in ipairs(ARGV) do "
    "local at = redis.call('HGET', 'j:commit:' .. hash, 'arrived_ts') "
    "if at and at ~= '' then "
    "added = added + redis.call('ZADD', KEYS[1], 'NX', at, hash) end end "
    "return added",
    "index_arrivals",
)

# Which of the commits KEYS name have no summary yet.
_WITHOUT_SUMMARY = Script(
    "local found = {} "
    "for _, key in ipairs(KEYS) do "
    "if redis.call('HEXISTS', key, 'summary') == 0 "
    "and redis.call('EXISTS', key) == 1 then found[#found + 1] = key end end "
    "return found",
    "commits_without_summary",
)


@attrs.frozen
class CommitMigration:
    """
    What the migration changed.

    @ivar projects: project URL keys moved to their canonical URL's.
    @ivar merged: of those, keys whose canonical URL named another project
        already (variants of one repository): dropped, that project keeps it.
    @ivar commits: commits given a summary (their messages cut to the limit).
    @ivar future: of those, commits flagged as from the future.
    @ivar pending: games whose pending commits were counted by player and
        by project.
    @ivar arrivals: commits indexed by their arrival.
    """

    projects: int = 0
    merged: int = 0
    commits: int = 0
    future: int = 0
    pending: int = 0
    arrivals: int = 0


class Migration:
    """
    Projects and commits stored by earlier versions, brought to this one's
    keys and limits.
    """

    def __init__(self, redis: RedisClient, games: Games, batch: int = 500) -> None:
        """
        @param games: tells the time.
        """
        self._redis = redis
        self._games = games
        self._batch = batch

    async def migrate(self) -> CommitMigration:
        """
        Migrate, unless a node did already.

        @return: what changed.
        """
        found = CommitMigration()
        if not await self._redis.execute("SISMEMBER", _DONE, _NAME):
            projects, merged = await self._project_urls()
            commits, future = await self._commits()
            await self._redis.execute("SADD", _DONE, _NAME)
            found = CommitMigration(projects, merged, commits, future)
        if not await self._redis.execute("SISMEMBER", _DONE, _PENDING_COUNTS):
            pending = await self._pending_counts()
            await self._redis.execute("SADD", _DONE, _PENDING_COUNTS)
            found = attrs.evolve(found, pending=pending)
        if not await self._redis.execute("SISMEMBER", _DONE, _ARRIVALS):
            found = attrs.evolve(found, arrivals=await self._arrivals())
            await self._redis.execute("SADD", _DONE, _ARRIVALS)
        return found

    async def _scan(self, pattern: str) -> list[list[str]]:
        batches, cursor = [], "0"
        while True:
            cursor, keys = await self._redis.execute(
                "SCAN", cursor, "MATCH", pattern, "COUNT", self._batch
            )
            if keys:
                batches.append(keys)
            if cursor == "0":
                return batches

    async def _project_urls(self) -> tuple[int, int]:
        moved = merged = 0
        for keys in await self._scan(_keys.PROJECT_URLS_PATTERN):
            for key in keys:
                raw = key[len(_URL_PREFIX) :]
                try:
                    url = canonical_url(raw)
                except InvalidPayload:
                    continue
                canonical = _keys.project_url(url)
                if canonical == key:
                    continue
                done = await self._redis.run(
                    _MOVE_URL_KEY, keys=(key, canonical), args=(raw, url)
                )
                moved += 1
                merged += 1 - int(done)
        return moved, merged

    async def _commits(self) -> tuple[int, int]:
        count = future = 0
        now = self._games.now()
        for keys in await self._scan(_keys.commit("*")):
            # The pattern meets a commit's reports and review log too.
            commits = tuple(k for k in keys if ":" not in k[len(_COMMIT_PREFIX) :])
            if not commits:
                continue
            for key in await self._redis.run(_WITHOUT_SUMMARY, keys=commits):
                message, timestamp = await self._redis.execute(
                    "HMGET", key, "message", "timestamp"
                )
                flagged = _from_future(timestamp or "", now)
                await self._redis.execute(
                    "HSET",
                    key,
                    "summary",
                    summary(message or ""),
                    "message",
                    cut_message(message or ""),
                    "future",
                    "1" if flagged else "0",
                )
                count += 1
                future += flagged
        return count, future

    async def _pending_counts(self) -> int:
        games = 0
        for keys in await self._scan(_keys.game_pending("*")):
            for key in keys:
                slug = key[len(_PENDING_PREFIX) : -len(_PENDING_SUFFIX)]
                await self._redis.run(_COUNT_PENDING, args=(slug,))
                games += 1
        return games

    async def _arrivals(self) -> int:
        """Index every commit by its arrival, a batch of C{j:commits} at a time."""
        added, start = 0, 0
        while True:
            hashes = await self._redis.execute(
                "ZRANGE", _keys.COMMITS, start, start + self._batch - 1
            )
            if not hashes:
                return added
            added += int(
                await self._redis.run(
                    _INDEX_ARRIVALS, keys=(_keys.COMMITS_ARRIVED,), args=tuple(hashes)
                )
            )
            start += len(hashes)


def _from_future(timestamp: str, now: datetime) -> bool:
    """Whether a stored commit's time is after C{now} by more than the skew."""
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        return is_future(when, now)
    except ValueError:
        return False


__all__ = ["CommitMigration", "Migration"]
