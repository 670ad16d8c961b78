"""
The ingest's project rules against a real redis-server: a project is its
repository (the host's id, else the canonical URL), named by the push that
made it or by its owner's registration, never renamed by a later push.
"""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest_twisted

from julytwisted.redis_service import RedisService
from julytwisted.store import Store
from tests.builders import IN_JULY, commit, ingest, project, push, sha


@pytest_twisted.ensureDeferred
async def test_new_project_records_both_keys(store: Store, redis: RedisService) -> None:
    """A new project is found by its repository's id and by its canonical URL."""
    proj = project("Ada", "Engine")
    result = await ingest(store, push(commit("a"), proj=proj))
    assert (result.project, result.created) == ("gh-ada-engine", True)
    r = redis.client
    assert await r.execute("GET", f"j:repo-project:github:{proj.host_id}") == (
        "gh-ada-engine"
    )
    assert await r.execute("GET", "j:project-url:https://github.com/ada/engine") == (
        "gh-ada-engine"
    )
    assert await r.execute("HGET", "j:project:gh-ada-engine", "host_id") == (
        proj.host_id
    )


@pytest_twisted.ensureDeferred
async def test_renamed_repository_keeps_its_project(store: Store) -> None:
    """
    A repository renamed or transferred (same id, new address) keeps its
    project and its points.
    """
    proj = project("ada", "engine")
    await ingest(store, push(commit("a"), proj=proj))
    moved = attrs.evolve(
        proj, url="https://github.com/grace/motor", slug="gh-grace-motor"
    )
    result = await ingest(store, push(commit("b"), proj=moved))
    assert (result.project, result.created) == ("gh-ada-engine", False)
    assert (await store.project("gh-ada-engine")).points == 12


@pytest_twisted.ensureDeferred
async def test_registered_project_follows_its_signed_renames(
    store: Store, redis: RedisService
) -> None:
    """
    A registered project (its owner added it; its pushes are signed with its
    own secret) takes a rename's new address, and is found by it; its name
    stays the registration's.
    """
    proj = project("ada", "engine")
    await ingest(store, push(commit("a"), proj=proj))
    await redis.client.execute(
        "HSET", "j:project:gh-ada-engine", "registered", "1", "name", "Engine!"
    )
    moved = attrs.evolve(proj, url="https://github.com/grace/motor", name="motor")
    await ingest(store, push(commit("b"), proj=moved))
    shown = await store.project("gh-ada-engine")
    assert (shown.url, shown.name) == ("https://github.com/grace/motor", "Engine!")
    no_id = attrs.evolve(moved, host_id="")
    result = await ingest(store, push(commit("c"), proj=no_id))
    assert result.project == "gh-ada-engine"


@pytest_twisted.ensureDeferred
async def test_open_project_keeps_its_first_address(store: Store) -> None:
    """An unregistered project's address is the one its first push gave."""
    proj = project("ada", "engine")
    await ingest(store, push(commit("a"), proj=proj))
    moved = attrs.evolve(proj, url="https://github.com/mallory/engine")
    await ingest(store, push(commit("b"), proj=moved))
    assert (await store.project("gh-ada-engine")).url == "https://github.com/ada/engine"


@pytest_twisted.ensureDeferred
async def test_redelivery_after_the_grace_changes_nothing(store: Store) -> None:
    """
    A commit stored in time and delivered again after the grace keeps its
    points and its arrival: a redelivery counts once, whenever it comes.
    """
    await ingest(store, push(commit("a")))
    late = IN_JULY + timedelta(days=60)
    result = await ingest(store, push(commit("a")), late)
    assert result.new == ()
    stored = await store.commit(sha("a"))
    assert (stored.games, stored.arrived) == (
        ("julython-2026",),
        "2026-07-15T12:00:00Z",
    )
