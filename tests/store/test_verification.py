"""
Commits waiting for their host's word (C{--verify-commits}), against a real
Redis: a registered repository's new commits are stored pending and score
nothing, their points shown as pending; verified, each scores exactly as its
push would have, once however often the job runs; rejected, it keeps its
reason and neither the boards nor a recount ever score it.  An open event's
repository, registered by nobody, scores at once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest_twisted

from julytwisted.game.hooks import repository
from julytwisted.game.repositories import RepositoryRef
from julytwisted.models import Host
from julytwisted.store import Listing, PendingCommit, Store
from tests.builders import commit, project, push, sha
from tests.store.test_store_members import assert_boards_match_tally

ENGINE = project()


async def register(store: Store, owner: str = "ada") -> RepositoryRef:
    """Add ada/engine for C{owner}, proven by the host, as the service does."""
    ref = RepositoryRef(Host.GITHUB, ENGINE.host_id, ENGINE.url)
    await store.repositories.add(owner, ref, "ada/engine", "sealed", Listing("engine"))
    return ref


async def pushed(store: Store, *seeds: str, verify: bool = True) -> tuple[str, ...]:
    delivered = push(*(commit(s) for s in seeds))
    result = await store.ingest(repository(delivered), delivered, store.now(), verify)
    assert result.new == tuple(sha(s) for s in seeds)
    return result.pending


@pytest_twisted.ensureDeferred
async def test_pending_commits_score_nothing_and_show_pending(store: Store) -> None:
    """
    Two commits of a registered repository are stored pending: listed, with
    pending true, no games; the boards are empty; the player and the project
    carry their pending points.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"], "Austin")
    await register(store)
    pending = await pushed(store, "a1", "a2")
    assert pending == (sha("a1"), sha("a2"))
    first = await store.commit(sha("a1"))
    assert (first.pending, first.games, first.rejected) == (True, (), None)
    listed = await store.commits()
    assert [c.pending for c in listed.models] == [True, True]
    assert (await store.board("people")).models == ()
    assert (await store.player("ada")).pending_points == 2
    assert (await store.project("gh-ada-engine")).pending_points == 2
    assert await store.verification.pending("gh-ada-engine") == [
        PendingCommit(sha("a1"), "ada@example.com"),
        PendingCommit(sha("a2"), "ada@example.com"),
    ]
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_verified_scores_as_the_push_would_have(store: Store) -> None:
    """
    Verified, each commit scores as an unverified push scores it: 12 for
    the player, the project and the location; verifying again changes
    nothing; no pending points are left.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"], "Austin")
    await register(store)
    await pushed(store, "a1", "a2")
    for hash in (sha("a1"), sha("a2")):
        assert await store.verification.verify(hash) == ("julython-2026",)
        assert await store.verification.verify(hash) is None
    ada = await store.player("ada")
    assert (ada.points, ada.commits, ada.pending_points) == (12, 2, 0)
    assert (await store.detail("locations", "austin")).points == 12
    assert (await store.project("gh-ada-engine")).points == 12
    assert (await store.commit(sha("a1"))).games == ("julython-2026",)
    assert await store.verification.pending("gh-ada-engine") == []
    await assert_boards_match_tally(store)
    assert (await store.recount("julython-2026")).repaired == ()


@pytest_twisted.ensureDeferred
async def test_verified_late_still_scores_by_its_arrival(
    store: Store, clock: object
) -> None:
    """
    A commit verified after the game and its grace ended scores all the
    same: what counts is when its push arrived.
    """
    await register(store)
    await pushed(store, "a1")
    clock.advance(timedelta(days=60).total_seconds())  # type: ignore[attr-defined]
    assert await store.verification.verify(sha("a1")) == ("julython-2026",)
    assert (await store.project("gh-ada-engine", "julython-2026")).points == 11
    assert (await store.recount("julython-2026")).repaired == ()


@pytest_twisted.ensureDeferred
async def test_rejected_never_scores(store: Store) -> None:
    """
    A commit the host does not know keeps the reason and scores nothing,
    then or after a recount; rejecting or verifying it later changes
    nothing.
    """
    await store.create_player("ada", "Ada", ["ada@example.com"])
    await register(store)
    await pushed(store, "forged", "real")
    assert await store.verification.reject(sha("forged"), "GitHub has no such commit")
    assert await store.verification.verify(sha("forged")) is None
    assert not await store.verification.reject(sha("forged"), "again")
    await store.verification.verify(sha("real"))
    forged = await store.commit(sha("forged"))
    assert (forged.pending, forged.rejected) == (False, "GitHub has no such commit")
    assert forged.games == ()
    assert (await store.player("ada")).points == 11
    assert (await store.recount("julython-2026")).repaired == ()
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_an_adopted_orphan_scores_for_its_owner_once_verified(
    store: Store,
) -> None:
    """
    A pending orphan adopted meanwhile scores nothing at adoption, and for
    its new owner once verified.
    """
    await register(store)
    await pushed(store, "a1")
    await store.create_player("ada", "Ada", ["ada@example.com"])
    assert await store.adopt_orphans("ada@example.com") == 1
    assert (await store.player("ada")).points == 0
    assert (await store.player("ada")).pending_points == 1
    await store.verification.verify(sha("a1"))
    assert (await store.player("ada")).points == 11
    await assert_boards_match_tally(store)


@pytest_twisted.ensureDeferred
async def test_open_events_repository_scores_at_once(store: Store) -> None:
    """
    A repository nobody registered has no owner's token to check with: its
    commits score at once even with verification asked for.
    """
    assert await pushed(store, "a1") == ()
    commit_ = await store.commit(sha("a1"))
    assert (commit_.pending, commit_.games) == (False, ("julython-2026",))
    assert (await store.project("gh-ada-engine")).points == 11


@pytest_twisted.ensureDeferred
async def test_without_verification_nothing_waits(store: Store) -> None:
    """Without --verify-commits a registered repository's commits score at once."""
    await register(store)
    assert await pushed(store, "a1", verify=False) == ()
    assert (await store.project("gh-ada-engine")).points == 11
