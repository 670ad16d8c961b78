# -*- test-case-name: tests.store.test_review,tests.web.test_review -*-
"""
Provisional points (L{julytwisted.game.review}): the commits held for
review or reported by players, the admins' verdicts on them, and the audit
log of who decided what and when.

The ingest holds a commit (C{review} C{"held"}, its games kept aside in
C{held_games}); C{lua/review.lua} scores it once accepted, by an admin or
by the review days running out (L{Review.release_due}), or rejects it with
a reason.  A commit that counted already and is rejected leaves the boards
through the recount of its games, which the caller queues.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from julytwisted.errors import Conflict, InvalidInput, NotFound, RateLimited
from julytwisted.game import review as rules
from julytwisted.models import Commit
from julytwisted.redis_service import RedisClient, all_of
from julytwisted.store import _keys
from julytwisted.store._models import LISTED_COMMIT_FIELDS, commit_record, iso
from julytwisted.store._scripts import POINTS, script

_REVIEW = script("review.lua", scoring=True)

#: The entries the audit log keeps, site-wide and per commit.
LOG_LENGTH = 1000

#: How many commits one player may report in L{REPORT_WINDOW} seconds.
REPORT_LIMIT = 10
REPORT_WINDOW = 3600

#: The most commits one release or one queue listing takes.
MOST_AT_ONCE = 500

#: The actions a player's eyes may see in a commit's log: decisions, not
#: who reported it.
DECISIONS = frozenset({"accept", "release", "reject"})


@attrs.frozen
class ReviewEntry:
    """
    One line of the audit log.

    @ivar hash: the commit.
    @ivar action: C{"report"}, C{"accept"}, C{"release"} (its review days
        ran out) or C{"reject"}.
    @ivar by: the player who reported or the admin who decided;
        C{"review-days"} for a release.
    @ivar at: when, ISO 8601.
    @ivar reason: a report's or a rejection's reason.
    """

    hash: str
    action: str
    by: str
    at: str
    reason: str | None = None


@attrs.frozen
class QueuedCommit:
    """
    A commit waiting for an admin's verdict.

    @ivar commit: the commit, its review state and flags.
    @ivar reports: why players reported it, by player.
    """

    commit: Commit
    reports: tuple[ReviewEntry, ...] = ()


class Review:
    """The review queue, its verdicts and its log, over one Redis client."""

    def __init__(self, redis: RedisClient, now: Callable[[], datetime]) -> None:
        self._redis = redis
        self._now = now

    async def _run(self, action: str, hash: str, by: str, reason: str = "") -> Any:
        at = self._now()
        request = {
            "action": action,
            "hash": hash,
            "by": by,
            "reason": reason,
            "at": iso(at),
            "at_ts": at.timestamp(),
            "log_length": LOG_LENGTH,
            "report_limit": REPORT_LIMIT,
            "report_window": REPORT_WINDOW,
            **POINTS,
        }
        answer = json.loads(await self._redis.run(_REVIEW, args=(json.dumps(request),)))
        if answer["status"] == "missing":
            raise NotFound(f"no commit {hash!r}")
        return answer

    async def accept(self, hash: str, by: str) -> tuple[str, ...]:
        """
        Let a commit count: a held one scores now (or once its host
        confirms it), a reported one leaves the queue.

        @param by: the admin deciding, for the log.
        @return: the games it scored in now.
        @raise NotFound: when no such commit is stored.
        @raise Conflict: when it was rejected.
        """
        answer = await self._run("accept", _hash(hash), by)
        if answer["status"] == "rejected":
            raise Conflict(f"commit {hash} was rejected")
        return _games(answer)

    async def reject(self, hash: str, by: str, reason: str) -> tuple[str, ...]:
        """
        Refuse a commit for good, with a reason shown on its page.

        @return: the games it had scored in, whose boards the recount must
            rebuild without it; empty when it had scored nowhere.
        @raise NotFound: when no such commit is stored.
        @raise InvalidInput: for a reason empty or too long.
        """
        return _games(await self._run("reject", _hash(hash), by, _reason(reason)))

    async def report(self, hash: str, username: str, reason: str) -> None:
        """
        A player asks the admins to look at a commit.

        @raise NotFound: when no such commit is stored.
        @raise InvalidInput: for a reason empty or too long.
        @raise Conflict: when the player reported it already, or it is
            rejected already.
        @raise RateLimited: past L{REPORT_LIMIT} reports in an hour.
        """
        answer = await self._run("report", _hash(hash), username, _reason(reason))
        status = answer["status"]
        if status == "limited":
            raise RateLimited(float(answer["retry_after"]), "reports")
        if status == "again":
            raise Conflict("you reported this commit already")
        if status == "rejected":
            raise Conflict("this commit is rejected already")

    async def release_due(self) -> int:
        """
        Let the held commits whose review days ran out count.

        @return: how many were released.
        """
        due = await self._redis.execute(
            "ZRANGEBYSCORE",
            _keys.REVIEW_HELD,
            "-inf",
            repr(self._now().timestamp()),
            "LIMIT",
            0,
            MOST_AT_ONCE,
        )
        released = 0
        for hash in due:
            answer = await self._run("release", hash, "review-days")
            released += answer["status"] == "ok"
        return released

    async def queue(self, limit: int = 100) -> tuple[QueuedCommit, ...]:
        """
        The commits waiting for an admin: reported ones first (the first
        reported first), then the held ones, the first to be due first (the
        flagged ones, due never, last).
        """
        reported = await self._redis.execute(
            "ZRANGE", _keys.REVIEW_REPORTED, 0, limit - 1
        )
        held = await self._redis.execute("ZRANGE", _keys.REVIEW_HELD, 0, limit - 1)
        hashes = list(dict.fromkeys([*reported, *held]))[:limit]
        found = await all_of([self._queued(h) for h in hashes])
        return tuple(q for q in found if q is not None)

    async def _queued(self, hash: str) -> QueuedCommit | None:
        fields = LISTED_COMMIT_FIELDS
        values = await self._redis.execute("HMGET", _keys.commit(hash), *fields)
        if not values[0]:
            return None
        record = {k: v for k, v in zip(fields, values, strict=True) if v}
        reports = await self._redis.execute("HGETALL", _keys.commit_reports(hash))
        pairs = zip(reports[0::2], reports[1::2], strict=True)
        return QueuedCommit(
            commit_record(record),
            tuple(ReviewEntry(hash, "report", who, "", why) for who, why in pairs),
        )

    async def log(
        self, hash: str | None = None, limit: int = 50, decisions: bool = False
    ) -> tuple[ReviewEntry, ...]:
        """
        The audit log, newest first: the site's, or one commit's.

        @param decisions: only the admins' verdicts and releases, as
            players see them (not who reported what).
        """
        key = _keys.REVIEW_LOG if hash is None else _keys.commit_review_log(hash)
        raw = await self._redis.execute("LRANGE", key, 0, LOG_LENGTH - 1)
        entries = [_entry(json.loads(r)) for r in raw]
        if decisions:
            entries = [e for e in entries if e.action in DECISIONS]
        return tuple(entries[:limit])


def _entry(raw: dict[str, Any]) -> ReviewEntry:
    reason = raw.get("reason")
    return ReviewEntry(
        str(raw["hash"]),
        str(raw["action"]),
        str(raw["by"]),
        str(raw["at"]),
        reason if isinstance(reason, str) else None,
    )


def _hash(hash: object) -> str:
    if not isinstance(hash, str) or not 40 <= len(hash) <= 64:
        raise InvalidInput("a commit is named by its full hash")
    return hash.lower()


def _reason(reason: object) -> str:
    try:
        return rules.reason_text(reason)
    except ValueError as e:
        raise InvalidInput(str(e)) from None


def _games(answer: dict[str, Any]) -> tuple[str, ...]:
    games = answer.get("games")
    return tuple(games) if isinstance(games, list) else ()


__all__ = [
    "DECISIONS",
    "LOG_LENGTH",
    "MOST_AT_ONCE",
    "REPORT_LIMIT",
    "REPORT_WINDOW",
    "QueuedCommit",
    "Review",
    "ReviewEntry",
]
