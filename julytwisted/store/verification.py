# -*- test-case-name: tests.store.test_verification -*-
"""
Commits waiting for their host's word (C{--verify-commits}): a registered
repository's new commits are stored pending by the ingest, listed here for
the job that asks the host, and each verified (scored as its push would
have scored it, by C{lua/verify.lua}, once however often the job runs) or
rejected with a reason (never scored, by the recount either).
"""

from __future__ import annotations

import json

import attrs

from julytwisted.redis_service import RedisClient, all_of
from julytwisted.store import _keys
from julytwisted.store._scripts import POINTS, script

_VERIFY = script("verify.lua", scoring=True)

#: The most pending commits one listing gives: a push holds 2048 at most.
MOST_PENDING = 4096


@attrs.frozen
class PendingCommit:
    """
    A commit waiting for its host's word.

    @ivar hash: its full hash.
    @ivar email: the author's e-mail the push named, lower-cased; may be
        empty.
    """

    hash: str
    email: str


class Verification:
    """The pending commits of projects, and the host's verdict on each."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def pending(
        self, project: str, limit: int = MOST_PENDING
    ) -> list[PendingCommit]:
        """
        @param project: the project's slug.
        @return: its pending commits, the first to arrive first.
        """
        hashes = await self._redis.execute(
            "ZRANGE", _keys.project_pending(project), 0, limit - 1
        )
        emails = await all_of(
            [self._redis.execute("HGET", _keys.commit(h), "email") for h in hashes]
        )
        return [PendingCommit(h, e or "") for h, e in zip(hashes, emails, strict=True)]

    async def verify(self, hash: str) -> tuple[str, ...] | None:
        """
        Score a pending commit its host knows: in the games its push's
        arrival earned it, for its player now.

        @return: the games it scored in; L{None} when it was not pending
            (verified or rejected before: nothing changed).
        """
        return await self._verdict(hash, "verify", "")

    async def reject(self, hash: str, reason: str) -> bool:
        """
        Refuse a pending commit its host does not know: it keeps C{reason}
        and never scores.

        @return: whether it was pending.
        """
        return await self._verdict(hash, "reject", reason) is not None

    async def _verdict(
        self, hash: str, verdict: str, reason: str
    ) -> tuple[str, ...] | None:
        request = {"hash": hash, "verdict": verdict, "reason": reason, **POINTS}
        answer = json.loads(await self._redis.run(_VERIFY, args=(json.dumps(request),)))
        if not answer["changed"]:
            return None
        games = answer["games"]
        return tuple(games) if isinstance(games, list) else ()


__all__ = ["MOST_PENDING", "PendingCommit", "Verification"]
