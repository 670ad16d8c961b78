"""
The start-up migration of projects and commits stored by earlier versions
(L{julytwisted.store.rekey}), against a real redis-server: URL keys moved to
canonical URLs, summaries given, messages cut, commits from the future
flagged and, by a recount, taken out of their games.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest_twisted
from twisted.internet import reactor

from julytwisted.jobs.queue import Queue
from julytwisted.jobs.schedule import StartupMigration
from julytwisted.redis_service import RedisClient, RedisService
from julytwisted.store import CommitMigration, Store
from tests.builders import commit, ingest, project, push, repository_id, sha

RAW = "https://github.com/Ada/engine.git"


async def legacy_project(r: RedisClient) -> None:
    """A project an earlier version keyed by the raw URL of a push."""
    await r.execute("SET", f"j:project-url:{RAW}", "gh-ada-engine")
    await r.execute(
        "HSET", "j:project:gh-ada-engine", "slug", "gh-ada-engine", "url", RAW,
        "service", "github", "active", "1", "name", "engine",
    )  # fmt: skip


async def legacy_commit(r: RedisClient, message: str = "Fix it") -> None:
    """A commit dated 2099 an earlier version scored in julython-2099."""
    await r.execute(
        "HSET", f"j:commit:{sha('x')}", "hash", sha("x"), "project",
        "gh-ada-engine", "message", message, "timestamp",
        "2099-07-10T00:00:00Z", "games", '["julython-2099"]', "seq", "1",
        "username", "", "languages", "[]", "files", "[]",
    )  # fmt: skip
    await r.execute("ZADD", "j:commits", 1, sha("x"))
    await r.execute("ZADD", "j:game:julython-2099:commits", 1, sha("x"))
    await r.execute(
        "ZADD", "j:game:julython-2099:board:projects", 11.5, "gh-ada-engine"
    )


async def legacy(redis: RedisService) -> None:
    """The project, two variants of its URL keyed apart, and a long commit."""
    r = redis.client
    await legacy_project(r)
    await r.execute("SET", "j:project-url:https://github.com/ada/Engine", "other")
    await r.execute("SET", "j:project-url:https://github.com/Ada/Engine/", "third")
    await legacy_commit(r, "Fix it\n\n" + "\u00e9" * 50000)


@pytest_twisted.ensureDeferred
async def test_migration(store: Store, redis: RedisService) -> None:
    """
    Old URL keys move to their canonical URL's (the first one there keeps
    it), an old commit gets its summary and its message's first 64 KiB and
    is flagged from the future; a second run does nothing.
    """
    await legacy(redis)
    r = redis.client
    result = await store.migrate_commits()
    assert result == CommitMigration(projects=3, merged=2, commits=1, future=1)
    canonical = await r.execute("GET", "j:project-url:https://github.com/ada/engine")
    # SCAN meets the three variants in the hash table's order, which a
    # server's random seed changes: whichever comes first keeps the name.
    assert canonical in ("gh-ada-engine", "other", "third")
    assert await r.execute("GET", f"j:project-url:{RAW}") is None
    assert (
        await r.execute("GET", "j:project-url:https://github.com/Ada/Engine/") is None
    )
    stored = await store.commit(sha("x"))
    assert (stored.summary, stored.future) == ("Fix it", True)
    assert isinstance(stored.message, str)
    assert len(stored.message.encode()) == 64 * 1024
    assert await store.migrate_commits() == CommitMigration()


@pytest_twisted.ensureDeferred
async def test_legacy_project_found_and_future_commit_recounted_away(
    store: Store, redis: RedisService
) -> None:
    """
    After the migration a push of the repository (with its id) lands on the
    old project, which learns the id; a recount of julython-2099 takes the
    flagged commit out of it and empties its boards.
    """
    r = redis.client
    await legacy_project(r)
    await legacy_commit(r)
    await store.migrate_commits()
    result = await ingest(store, push(commit("a")))
    assert (result.project, result.created) == ("gh-ada-engine", False)
    ident = repository_id("ada", "engine")
    assert await r.execute("GET", f"j:repo-project:github:{ident}") == "gh-ada-engine"
    recount = await store.recount("julython-2099")
    assert recount.commits == 0
    assert (await store.board("projects", "julython-2099")).models == ()
    assert (await store.commit(sha("x"))).games == ()
    assert await store.game_commits("julython-2099") == 0


@pytest_twisted.ensureDeferred
async def test_startup_migration_runs_it(
    store: Store, redis: RedisService, queue: Queue
) -> None:
    """A node starting migrates projects and commits once."""
    await legacy(redis)
    migrated = StartupMigration(store, queue, reactor)
    await migrated.migrate()
    assert await redis.client.execute("GET", f"j:project-url:{RAW}") is None
    fields = await redis.client.execute("HGET", f"j:commit:{sha('x')}", "summary")
    assert fields == "Fix it"


@pytest_twisted.ensureDeferred
async def test_a_new_push_is_not_migrated(store: Store, redis: RedisService) -> None:
    """What this version stores is already canonical and summarised."""
    await ingest(store, push(commit("a"), proj=project("Ada", "Engine")))
    assert await store.migrate_commits() == CommitMigration()
    keys = await redis.client.execute("KEYS", "j:project-url:*")
    assert keys == ["j:project-url:https://github.com/ada/engine"]
    row = await redis.client.execute("HGET", f"j:commit:{sha('a')}", "games")
    assert json.loads(row) == ["julython-2026"]
    assert (await store.commit(sha("a"))).arrived == "2026-07-15T12:00:00Z"
    assert datetime(2026, 7, 15, 12, tzinfo=UTC) == store.now()


@pytest_twisted.ensureDeferred
async def test_a_reviewed_commit_is_left_alone(
    store: Store, redis: RedisService
) -> None:
    """
    A commit's reports (a hash) and its review log (a list) share its key's
    prefix: the migration neither writes a summary into the reports nor
    stops at the log, which would fail every start of every node after the
    first report. Nothing of either is lost.
    """
    await ingest(store, push(commit("a")))
    await store.review.report(sha("a"), "bob", "copied from elsewhere")
    await store.review.reject(sha("a"), "admin", "copied")
    r = redis.client
    reports = await r.execute("HGETALL", f"j:commit:{sha('a')}:reports")
    log = await r.execute("LRANGE", f"j:commit:{sha('a')}:review-log", 0, -1)
    await legacy_commit(r)
    assert await store.migrate_commits() == CommitMigration(commits=1, future=1)
    assert await r.execute("HGETALL", f"j:commit:{sha('a')}:reports") == reports
    assert await r.execute("LRANGE", f"j:commit:{sha('a')}:review-log", 0, -1) == log
    assert reports == ["bob", "copied from elsewhere"]
    assert [json.loads(e)["action"] for e in log] == ["reject", "report"]
