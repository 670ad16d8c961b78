"""
Provisional points against a real Redis (L{julytwisted.store.review}): new
commits held for the review days and released after them, flagged commits
held for an admin whatever the days, players' reports (bounded, once each,
rate-limited), an admin's acceptance and rejection (a rejected commit's
points leave every board through the recount), the audit log, and the
interplay with C{--verify-commits}.  After each, the boards equal the
reference tally.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from julytwisted.config import Config
from julytwisted.errors import Conflict, InvalidInput, NotFound, RateLimited
from julytwisted.game.games import Game
from julytwisted.game.hooks import repository
from julytwisted.game.review import BURST_LIMIT
from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from julytwisted.store.review import REPORT_LIMIT
from tests.builders import IN_JULY, commit, ingest, push, sha
from tests.store.test_store_members import assert_boards_match_tally
from tests.store.test_verification import register

GAME = "julython-2026"


@pytest.fixture
def held(redis: RedisService, clock: Clock, config: Config) -> Store:
    """A store whose new points are held for three days."""
    return Store(redis.client, clock, config.games, review_days=3)


async def ada(store: Store) -> None:
    await store.create_player("ada", "Ada", ["ada@example.com"], "Austin")


@pytest_twisted.ensureDeferred
async def test_held_for_the_review_days_then_counted(held: Store, clock: Clock) -> None:
    """
    With three review days two new commits score nothing and show as
    pending; three days later the release scores them as their push would
    have (12 for ada and Austin), once however often it runs, and logs it.
    """
    await ada(held)
    result = await ingest(held, push(commit("a1"), commit("a2")))
    assert result.held == (sha("a1"), sha("a2"))
    first = await held.commit(sha("a1"))
    assert (first.review, first.games, first.review_flags) == ("held", (), ())
    assert first.review_until == "2026-07-18T12:00:00Z"
    assert (await held.board("people")).models == ()
    assert (await held.player("ada")).pending_points == 2
    await assert_boards_match_tally(held)

    clock.advance(timedelta(days=3).total_seconds() - 1)
    assert await held.review.release_due() == 0
    clock.advance(1)
    assert await held.review.release_due() == 2
    assert await held.review.release_due() == 0
    player = await held.player("ada")
    assert (player.points, player.pending_points) == (12, 0)
    assert (await held.detail("locations", "austin")).points == 12
    assert (await held.commit(sha("a1"))).review == "accepted"
    log = await held.review.log()
    assert {(e.action, e.by) for e in log} == {("release", "review-days")}
    await assert_boards_match_tally(held)


@pytest_twisted.ensureDeferred
async def test_an_admin_accepts_before_the_days(held: Store) -> None:
    """Accepted, a held commit scores at once; a second accept adds nothing."""
    await ada(held)
    await ingest(held, push(commit("a1")))
    assert await held.review.accept(sha("a1"), "root") == (GAME,)
    assert await held.review.accept(sha("a1"), "root") == ()
    assert (await held.player("ada")).points == 11
    assert await held.review.queue() == ()
    [entry] = await held.review.log(sha("a1"))
    assert (entry.action, entry.by, entry.reason) == ("accept", "root", None)
    await assert_boards_match_tally(held)


@pytest_twisted.ensureDeferred
async def test_rejecting_a_counted_commit_takes_its_points_off(store: Store) -> None:
    """
    Without review days a commit counts at once; an admin rejects it: its
    games are returned for their recount, which takes its points off the
    player's, the project's and the location's boards; its page keeps the
    reason, and it can be neither accepted nor rejected again.
    """
    await ada(store)
    await ingest(store, push(commit("a1"), commit("a2")))
    assert (await store.player("ada")).points == 12
    assert await store.review.reject(sha("a2"), "root", "generated") == (GAME,)
    assert await store.review.reject(sha("a2"), "root", "again") == ()
    await store.recount(GAME)
    assert (await store.player("ada")).points == 11
    assert (await store.detail("locations", "austin")).points == 11
    assert (await store.project("gh-ada-engine")).points == 11
    rejected = await store.commit(sha("a2"))
    assert (rejected.review, rejected.review_reason) == ("rejected", "generated")
    assert rejected.games == ()
    with pytest.raises(Conflict):
        await store.review.accept(sha("a2"), "root")
    await assert_boards_match_tally(store)
    assert (await store.recount(GAME)).repaired == ()


@pytest_twisted.ensureDeferred
async def test_a_rejected_held_commit_never_counts(held: Store, clock: Clock) -> None:
    """Rejected while held: nothing to recount, and its days change nothing."""
    await ada(held)
    await ingest(held, push(commit("a1")))
    assert await held.review.reject(sha("a1"), "root", "copied") == ()
    clock.advance(timedelta(days=4).total_seconds())
    assert await held.review.release_due() == 0
    player = await held.player("ada")
    assert (player.points, player.pending_points) == (0, 0)
    await assert_boards_match_tally(held)


@pytest_twisted.ensureDeferred
async def test_flagged_commits_wait_for_an_admin(store: Store, clock: Clock) -> None:
    """
    Without review days, a commit dated more than a week before its arrival
    is held (flag stale) and stays held however long; the ordinary commit
    of the same push counts.
    """
    await ada(store)
    stale = commit("old", when=IN_JULY - timedelta(days=8))
    fresh = commit("new")
    result = await ingest(store, push(stale, fresh))
    assert result.held == (sha("old"),)
    found = await store.commit(sha("old"))
    assert (found.review, found.review_flags, found.review_until) == (
        "held",
        ("stale",),
        None,
    )
    clock.advance(timedelta(days=100).total_seconds())
    assert await store.review.release_due() == 0
    assert [q.commit.hash for q in await store.review.queue()] == [sha("old")]
    assert (await store.player("ada")).points == 11
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_a_burst_across_pushes_is_held(store: Store) -> None:
    """
    Commits by one author dated in one minute, over two pushes: the first
    30 count, the 31st and later are held as a burst; another author's
    commit in that minute is not.
    """
    await ada(store)
    first = [commit(f"b{i}") for i in range(20)]
    second = [commit(f"b{i}") for i in range(20, BURST_LIMIT + 2)]
    assert (await ingest(store, push(*first))).held == ()
    result = await ingest(store, push(*second, commit("x", email="bob@example.com")))
    assert result.held == (sha(f"b{BURST_LIMIT}"), sha(f"b{BURST_LIMIT + 1}"))
    assert (await store.commit(sha(f"b{BURST_LIMIT}"))).review_flags == ("burst",)
    assert (await store.player("ada")).points == BURST_LIMIT + 10
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_reports(held: Store, clock: Clock) -> None:
    """
    A report needs a reason of at most 500 characters and a stored commit;
    a player reports a commit once.  A reported held commit waits for an
    admin after its days; the queue shows the reasons.
    """
    await ada(held)
    await ingest(held, push(commit("a1"), commit("a2")))
    with pytest.raises(InvalidInput):
        await held.review.report(sha("a1"), "bob", " ")
    with pytest.raises(InvalidInput):
        await held.review.report(sha("a1"), "bob", "x" * 501)
    with pytest.raises(NotFound):
        await held.review.report(sha("zz"), "bob", "copied")
    await held.review.report(sha("a1"), "bob", "copied from cy")
    with pytest.raises(Conflict):
        await held.review.report(sha("a1"), "bob", "again")
    clock.advance(timedelta(days=3).total_seconds())
    assert await held.review.release_due() == 1
    [queued] = await held.review.queue()
    assert queued.commit.hash == sha("a1")
    assert queued.commit.reports == 1
    assert [(r.by, r.reason) for r in queued.reports] == [("bob", "copied from cy")]
    assert (await held.player("ada")).points == 11
    await assert_boards_match_tally(held)


@pytest_twisted.ensureDeferred
async def test_reports_are_rate_limited(store: Store) -> None:
    """Past ten reports an hour a player is told to wait; nothing is kept."""
    await ada(store)
    seeds = [f"r{i}" for i in range(REPORT_LIMIT + 1)]
    await ingest(store, push(*(commit(s) for s in seeds)))
    for s in seeds[:REPORT_LIMIT]:
        await store.review.report(sha(s), "bob", "looks generated")
    with pytest.raises(RateLimited) as caught:
        await store.review.report(sha(seeds[-1]), "bob", "looks generated")
    assert 0 < caught.value.retry_after <= 3600
    assert (await store.commit(sha(seeds[-1]))).reports == 0
    await store.review.report(sha(seeds[-1]), "cy", "looks generated")


@pytest_twisted.ensureDeferred
async def test_an_admins_acceptance_stands_against_reports(store: Store) -> None:
    """A commit an admin accepted is not queued again by a later report."""
    await ada(store)
    await ingest(store, push(commit("a1")))
    await store.review.report(sha("a1"), "bob", "suspicious")
    assert len(await store.review.queue()) == 1
    assert await store.review.accept(sha("a1"), "root") == ()
    await store.review.report(sha("a1"), "cy", "still suspicious")
    assert await store.review.queue() == ()
    actions = [e.action for e in await store.review.log(sha("a1"))]
    assert actions == ["report", "accept", "report"]
    decided = await store.review.log(sha("a1"), decisions=True)
    assert [e.action for e in decided] == ["accept"]


@pytest_twisted.ensureDeferred
async def test_held_and_pending_verification(held: Store) -> None:
    """
    A registered repository's commit with verification and review days
    waits for both: verified, it is still held; accepted, it scores.  One
    accepted first scores when its host confirms it.
    """
    await ada(held)
    await register(held)
    delivered = push(commit("a1"), commit("a2"))
    result = await held.ingest(repository(delivered), delivered, held.now(), True)
    assert result.pending == result.held == (sha("a1"), sha("a2"))
    assert await held.verification.verify(sha("a1")) == ()
    found = await held.commit(sha("a1"))
    assert (found.pending, found.review, found.games) == (False, "held", ())
    assert (await held.player("ada")).pending_points == 2
    assert await held.review.accept(sha("a1"), "root") == (GAME,)
    assert await held.review.accept(sha("a2"), "root") == ()
    assert (await held.player("ada")).points == 11
    assert await held.verification.verify(sha("a2")) == (GAME,)
    player = await held.player("ada")
    assert (player.points, player.pending_points) == (12, 0)
    await assert_boards_match_tally(held)


@pytest_twisted.ensureDeferred
async def test_a_game_ended_before_a_held_commit_never_scores_it(
    held: Store, clock: Clock
) -> None:
    """
    A commit held in a run-time sprint, made after the time an admin then
    ends the sprint at, loses its claim on the sprint in the recount: the
    admin's later acceptance scores it in Julython only, and the sprint's
    boards stay empty (the project's had 5 points, the state machine found).
    """
    sprint = Game(
        "Sprint",
        datetime(2026, 7, 15, 12, tzinfo=UTC),
        datetime(2026, 7, 25, tzinfo=UTC),
    )
    await held.games.create(sprint, "admin")
    await held.games.refresh()
    later = datetime(2026, 7, 16, 8, tzinfo=UTC)
    result = await ingest(held, push(commit("s1", "orphan@example.com", later)))
    assert result.held == (sha("s1"),)
    clock.advance(3600)
    await held.games.end(sprint.slug, "admin")
    await held.games.refresh()
    await held.recount(sprint.slug)

    assert await held.review.accept(sha("s1"), "root") == (GAME,)
    assert (await held.board("projects", sprint.slug)).models == ()
    await assert_boards_match_tally(held, sprint.slug)
    await assert_boards_match_tally(held)
