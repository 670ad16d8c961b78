# -*- test-case-name: tests.store.test_store,tests.web.test_push_attacks -*-
"""
Stored commits read back: one by its hash, whole, and pages of all of
them, a game's, a player's or a project's, newest arrival first, each with
its summary and not its message (a message may be 64 KiB).
"""

from __future__ import annotations

from collections.abc import Iterable

from julytwisted.errors import NotFound
from julytwisted.models import Commit, Page
from julytwisted.redis_service import RedisClient, all_of
from julytwisted.store import _keys
from julytwisted.store._models import (
    LISTED_COMMIT_FIELDS,
    commit_record,
    cursor_int,
    hash_reply,
)
from julytwisted.store.games import Games


class Commits:
    """
    The commits L{julytwisted.store.ingest.Ingest} stored.
    """

    def __init__(self, redis: RedisClient, games: Games) -> None:
        self._redis = redis
        self._games = games

    async def commit(self, hash: str) -> Commit:
        """
        @return: the commit, with its whole message.
        @raise NotFound: when no such commit is stored.
        """
        fields = await self._redis.execute("HGETALL", _keys.commit(hash.lower()))
        if not fields:
            raise NotFound(f"no commit {hash!r}")
        return commit_record(hash_reply(fields), detail=True)

    async def commits(
        self,
        game: str | None = None,
        cursor: str | None = None,
        limit: int = 20,
        username: str | None = None,
        project: str | None = None,
    ) -> Page[Commit]:
        """
        Commits, newest arrival first: all of them, a game's, a player's or a
        project's.

        @param cursor: the C{next} of the previous page.
        """
        if username:
            key = _keys.player_commits(username.lower())
        elif project:
            key = _keys.project_commits(project)
        elif game:
            key = _keys.game_commits(self._games.game(game).slug)
        else:
            key = _keys.COMMITS
        top = "+inf" if cursor is None else f"({cursor_int(cursor)}"
        hashes_scores = await self._redis.execute(
            "ZREVRANGEBYSCORE", key, top, "-inf", "WITHSCORES", "LIMIT", 0, limit + 1
        )
        hashes = hashes_scores[0::2][:limit]
        scores = hashes_scores[1::2]
        found = await all_of(
            [
                self._redis.execute("HMGET", _keys.commit(h), *LISTED_COMMIT_FIELDS)
                for h in hashes
            ]
        )
        models = [
            commit_record(
                {k: v for k, v in zip(LISTED_COMMIT_FIELDS, f, strict=True) if v}
            )
            for f in found
            if f[0]
        ]
        more = len(hashes_scores) // 2 > limit
        return Page(tuple(models), str(int(float(scores[limit - 1]))) if more else None)

    async def project_names(self, slugs: Iterable[str]) -> dict[str, str]:
        """
        The names of the projects of some commits, for lists that show
        them by name.

        @return: each slug's project name, its slug when the project has
            none or is gone.
        """
        wanted = sorted(set(slugs))
        names = await all_of(
            [self._redis.execute("HGET", _keys.project(s), "name") for s in wanted]
        )
        return {s: n or s for s, n in zip(wanted, names, strict=True)}


__all__ = ["Commits"]
