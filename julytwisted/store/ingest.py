# -*- test-case-name: tests.store.test_store,tests.store.test_ingest_rules -*-
"""
The hot path's one write: a push's new commits stored and scored by one Lua
script (C{lua/ingest.lua}), so that a redelivery or two nodes racing count a
commit once.

The project is found by its repository: the host's id of it first, its
canonical URL when the push carries no id.  Which games each commit scores
in is decided here, by the rules of L{julytwisted.game.scoring}, from its
own time and its push's arrival: the script only applies it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import attrs

from julytwisted.game import review, scoring
from julytwisted.game.events import Push
from julytwisted.game.repositories import RepositoryRef
from julytwisted.redis_service import RedisClient
from julytwisted.store import _keys
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
    @ivar created: whether the push made the project.
    @ivar pending: the new commits stored pending, waiting for their host's
        word before they score (L{Ingest.ingest}'s C{verify}).
    @ivar held: the new commits held for review (L{julytwisted.game.review}).
    """

    project: str
    new: tuple[str, ...]
    active: bool = True
    created: bool = False
    pending: tuple[str, ...] = ()
    held: tuple[str, ...] = ()


class Ingest:
    """
    Pushes into Redis.
    """

    def __init__(
        self,
        redis: RedisClient,
        games: Games,
        timeout: float,
        review_days: int = 0,
        burst_limit: int = review.BURST_LIMIT,
    ) -> None:
        """
        @param timeout: seconds a push's script may take (2048 commits).
        @param review_days: how many days a new commit's points stay
            provisional (C{--review-days}); 0: they count at once, unless
            the commit is flagged (L{review.commit_flags}).
        @param burst_limit: the commits by one author dated in one minute
            past which each is held as a burst.
        """
        self._redis = redis
        self._games = games
        self._timeout = timeout
        self._review_days = review_days
        self._burst_limit = burst_limit

    async def ingest(
        self,
        repository: RepositoryRef,
        push: Push,
        arrived: datetime,
        verify: bool = False,
        files_listed: bool = False,
    ) -> IngestResult:
        """
        Store a push's new commits and score them, atomically.

        @param repository: the repository the push names: its project is the
            one of that host's id, else the one of its canonical URL, else a
            new one.
        @param push: the parsed webhook delivery.
        @param arrived: when the push arrived, aware: a commit scores in a
            game only when the game's window holds its own time and the
            window plus the late grace holds this (L{scoring.scores_in}).
        @param verify: store the new commits of a registered repository
            pending (C{--verify-commits}): they score nothing until
            L{Verification.verify<julytwisted.store.verification.Verification.verify>}
            scores them as this push would have.  An open event's
            repository (registered by nobody) has no token to check them
            with: its commits score at once.
        @return: the project's slug and the hashes that were new.
        @raise RedisUnavailable: when Redis does not answer; then nothing
            may be assumed stored, and a redelivery is safe.
        """
        request = self._request(repository, push, arrived, files_listed)
        request["verify"] = verify
        request["review"] = self._review(arrived)
        reply = await self._redis.run(
            _INGEST, args=(json.dumps(request),), timeout=self._timeout
        )
        result = json.loads(reply)
        return IngestResult(
            result["project"],
            tuple(_hashes(result["new"])),
            result["status"] == "ok",
            bool(result.get("created")),
            tuple(_hashes(result.get("pending"))),
            tuple(_hashes(result.get("held"))),
        )

    def _review(self, arrived: datetime) -> dict[str, Any]:
        until = review.release_at(arrived, self._review_days)
        return {
            "hold_all": until is not None,
            "until": iso(until) if until else "",
            "until_ts": until.timestamp() if until else 0,
            "burst_limit": self._burst_limit,
            # A bucket outlives the grace in which its minute's commits
            # may still arrive and score.
            "burst_ttl": 3 * 86400,
        }

    def _request(
        self,
        repository: RepositoryRef,
        push: Push,
        arrived: datetime,
        files_listed: bool = False,
    ) -> dict[str, Any]:
        commits = []
        oldest = min((c.timestamp for c in push.commits), default=arrived)
        for commit in push.commits:
            held = scoring.games_scored(
                commit.timestamp,
                arrived,
                self._games.configured,
                self._games.late_grace,
            )
            future = scoring.is_future(commit.timestamp, arrived)
            request = commit_request(commit, [g.slug for g in held], future)
            request["minute"] = review.minute_of(commit.timestamp)
            request["flags"] = list(
                review.commit_flags(commit, arrived, held, oldest, files_listed)
            )
            commits.append(request)
        p = push.project
        return {
            "project": {
                "slug": repository.slug,
                "host_id": repository.id,
                "url": repository.url,
                "id_key": (
                    _keys.repo_project(repository.host, repository.id)
                    if repository.id
                    else ""
                ),
                "url_key": _keys.project_url(repository.url),
                "service": repository.host,
                "name": p.name,
                "description": p.description,
                "watchers": p.watchers,
                "forks": p.forks,
                "forked": "1" if p.forked else "0",
            },
            "commits": commits,
            "arrived": iso(arrived),
            "arrived_ts": arrived.timestamp(),
            "commit_points": scoring.COMMIT_POINTS,
            "first_bonus": scoring.FIRST_COMMIT_BONUS,
            "feed_maxlen": FEED_LENGTH,
        }


def _hashes(listed: object) -> list[str]:
    # cjson has one encoding for an empty table: an object.
    return listed if isinstance(listed, list) else []


__all__ = ["FEED_LENGTH", "Ingest", "IngestResult"]
