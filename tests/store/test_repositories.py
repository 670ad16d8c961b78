"""
The registry of added repositories against a real Redis: one owner per
repository, found by its host's id or its URL; a hand-added one unproven
until a signed push, lapsing, and giving way to an owner the host vouches
for; its project made or claimed with the host's description.
"""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
import pytest_twisted
from twisted.internet.task import Clock

from julytwisted.errors import Conflict, NotFound
from julytwisted.game.repositories import RepositoryRef
from julytwisted.models import Host
from julytwisted.store import (
    MOST_REPOSITORIES,
    PENDING_DAYS,
    Listing,
    Registration,
    Store,
    _keys,
)
from tests.builders import commit, ingest, project, push

URL = "https://github.com/ada/engine"
REF = RepositoryRef(Host.GITHUB, "583", URL)
LISTING = Listing("engine", "an engine", watchers=7, forks=2)


async def add(
    store: Store, owner: str, ref: RepositoryRef = REF, proven: bool = True
) -> Registration:
    """Add C{ref} for C{owner}, vouched for by the host unless not C{proven}."""
    return await store.repositories.add(
        owner, ref, "ada/engine", f"sealed-{owner}", LISTING if proven else None
    )


@pytest_twisted.ensureDeferred
async def test_added_repository_makes_its_project(store: Store) -> None:
    """
    Adding a repository the host vouches for makes its project from the
    host's description, registered, named by both the id and the URL.
    """
    found = await add(store, "ada")
    assert (found.owner, found.proof, found.hook, found.secret) == (
        "ada",
        "host",
        "",
        "sealed-ada",
    )
    assert found.project == "gh-ada-engine"
    redis = store.redis
    assert await redis.execute("GET", _keys.repo_project("github", "583")) == (
        "gh-ada-engine"
    )
    assert await redis.execute("GET", _keys.project_url(URL.upper())) == (
        "gh-ada-engine"
    )
    fields = await redis.execute("HGETALL", _keys.project("gh-ada-engine"))
    hashed = dict(zip(fields[::2], fields[1::2], strict=True))
    assert hashed["registered"] == "1"
    assert hashed["host_id"] == "583"
    assert (hashed["name"], hashed["description"]) == ("engine", "an engine")
    assert (hashed["watchers"], hashed["forks"]) == ("7", "2")
    assert [r.url for r in await store.repositories.of_player("ada")] == [URL]


@pytest_twisted.ensureDeferred
async def test_a_pushed_project_is_claimed(store: Store) -> None:
    """A project a push made first is the repository's, not a second one."""
    pushed = attrs.evolve(project("ada", "engine"), host_id=REF.id)
    await ingest(store, push(commit("a"), proj=pushed))
    found = await add(store, "ada")
    assert found.project == "gh-ada-engine"
    assert not await store.redis.execute("EXISTS", _keys.project("gh-ada-engine-2"))


@pytest_twisted.ensureDeferred
async def test_one_owner_per_repository(store: Store) -> None:
    """
    A player adds a repository once; another player's add is refused with
    409 whether it names the id or only the URL, and the first owner keeps
    it.
    """
    await add(store, "ada")
    with pytest.raises(Conflict, match="you added"):
        await add(store, "ada")
    with pytest.raises(Conflict, match="another player"):
        await add(store, "bob")
    with pytest.raises(Conflict, match="another player"):
        await add(store, "bob", RepositoryRef(Host.GITHUB, "", URL), proven=False)
    found = await store.repositories.lookup(REF)
    assert found is not None and found.owner == "ada"
    assert await store.repositories.of_player("bob") == []


@pytest_twisted.ensureDeferred
async def test_removed_repository_may_be_added_again(store: Store) -> None:
    """After its owner removes it, another player may add it."""
    first = await add(store, "ada")
    await store.repositories.remove(first)
    assert await store.repositories.lookup(REF) is None
    registered = await store.redis.execute(
        "HGET", _keys.project("gh-ada-engine"), "registered"
    )
    assert registered is None
    second = await add(store, "bob")
    assert second.owner == "bob" and second.project == "gh-ada-engine"


@pytest_twisted.ensureDeferred
async def test_hand_added_gives_way_to_a_vouched_owner(store: Store) -> None:
    """
    A repository added by hand holds its address unproven, with no project;
    another hand-add waits, but the owner the host vouches for takes it.
    """
    pending = await add(store, "mallory", RepositoryRef(Host.GITHUB, "", URL), False)
    assert (pending.proof, pending.project, pending.id) == ("", "", "")
    assert pending.lapses is not None
    with pytest.raises(Conflict, match="by hand"):
        await add(store, "bob", RepositoryRef(Host.GITHUB, "", URL), False)
    owner = await add(store, "ada")
    assert owner.owner == "ada"
    assert await store.repositories.of_player("mallory") == []


@pytest_twisted.ensureDeferred
async def test_hand_added_lapses(store: Store, clock: Clock) -> None:
    """An unproven repository stops holding its address after its days."""
    by_hand = RepositoryRef(Host.GITHUB, "", URL)
    pending = await add(store, "mallory", by_hand, False)
    clock.advance(timedelta(days=PENDING_DAYS, seconds=1).total_seconds())
    assert pending.lapsed(store.now())
    second = await add(store, "bob", by_hand, False)
    assert second.owner == "bob"


@pytest_twisted.ensureDeferred
async def test_binding_proves_and_names_the_id(store: Store) -> None:
    """
    A signed push proves a hand-added repository: it takes the id the push
    names, and its project is made, registered; the id then finds it.
    """
    pending = await add(store, "ada", RepositoryRef(Host.GITHUB, "", URL), False)
    bound = await store.repositories.bind(pending, "583")
    assert (bound.id, bound.proof, bound.project) == ("583", "push", "gh-ada-engine")
    found = await store.repositories.lookup(REF)
    assert found is not None and found.key == pending.key and found.proof == "push"
    assert await store.redis.execute("GET", _keys.repo_project("github", "583")) == (
        "gh-ada-engine"
    )


@pytest_twisted.ensureDeferred
async def test_a_moved_address_names_the_new_repository(store: Store) -> None:
    """
    When an address now names another repository (another id), adding that
    one is no conflict: the old one keeps its id, the address moves.
    """
    await add(store, "ada")
    other = RepositoryRef(Host.GITHUB, "999", URL)
    moved = await add(store, "bob", other)
    assert moved.owner == "bob"
    old = await store.repositories.lookup(REF)
    assert old is not None and old.owner == "ada"
    by_url = await store.repositories.lookup(RepositoryRef(Host.GITHUB, "", URL))
    assert by_url is not None and by_url.owner == "bob"


@pytest_twisted.ensureDeferred
async def test_at_most_so_many_per_player(store: Store) -> None:
    """A player may hold L{MOST_REPOSITORIES}; the next is refused, nothing kept."""
    for n in range(MOST_REPOSITORIES):
        ref = RepositoryRef(Host.GITHUB, "", f"https://github.com/ada/r{n}")
        await add(store, "ada", ref, False)
    last = RepositoryRef(Host.GITHUB, "", "https://github.com/ada/last")
    with pytest.raises(Conflict, match="at most"):
        await add(store, "ada", last, False)
    assert await store.repositories.lookup(last) is None


@pytest_twisted.ensureDeferred
async def test_unknown_url_of_a_player(store: Store) -> None:
    """A player's repository by an address they did not add: 404."""
    await add(store, "ada")
    with pytest.raises(NotFound):
        await store.repositories.of_player_by_url("bob", URL)
    found = await store.repositories.of_player_by_url("ada", URL.upper())
    assert found.url == URL


@pytest_twisted.ensureDeferred
async def test_a_kept_token_is_replaced_and_removed(store: Store) -> None:
    """
    A Data Center repository keeps the sealed token its owner gave; it is
    replaced or dropped by its owner only (another player's call finds it
    gone), and goes with the repository's removal, whose record is gone.
    """
    ref = RepositoryRef(
        Host.BITBUCKET_SERVER, "", "https://git.example.com/projects/ada/repos/e"
    )
    added = await store.repositories.add(
        "ada", ref, "projects/ada/repos/e", "sealed-secret", None, "sealed-token"
    )
    assert added.token == "sealed-token"
    record = _keys.repository(added.key)
    assert await store.redis.execute("HGET", record, "token") == "sealed-token"
    await store.repositories.set_token(added, "sealed-other")
    [kept] = await store.repositories.of_player("ada")
    assert kept.token == "sealed-other"
    with pytest.raises(NotFound):
        await store.repositories.set_token(attrs.evolve(added, owner="bob"), "")
    await store.repositories.set_token(added, "")
    found = await store.repositories.lookup(ref)
    assert found is not None and found.token == ""
    await store.repositories.set_token(added, "sealed-again")
    await store.repositories.remove(added)
    assert await store.redis.execute("EXISTS", record) == 0
    with pytest.raises(NotFound):
        await store.repositories.set_token(added, "sealed-late")
    assert await store.redis.execute("EXISTS", record) == 0
