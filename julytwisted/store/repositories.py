# -*- test-case-name: tests.store.test_repositories -*-
"""
The repositories players added: who added each, its own webhook secret
(sealed by the caller: only ciphertext is kept), the hook made for it at its
host, and its project.

A Bitbucket Data Center repository may also keep the HTTP access token its
owner gave to read its commits, sealed by the caller as the secret is.

A repository is found by its host's id, else by its canonical URL (a
hand-added one has no id until its first push signed with its secret names
it, and some payloads carry none).  Adding, binding and removing are one Lua
script each (C{lua/repositories.lua}), so that two players adding one
repository at once end with one owner.

A repository comes with a proof that its owner administers it: C{"host"}
when the host's API said so, C{"push"} when a push signed with its secret
arrived, none yet for one added by hand.  An unproven one lapses after
L{PENDING_DAYS} and gives way at once to an owner the host vouches for, so
that nobody can hold another's repository by typing its address.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from julytwisted.errors import Conflict, NotFound
from julytwisted.game.events import Host
from julytwisted.game.repositories import RepositoryRef
from julytwisted.redis_service import RedisClient, Script, all_of
from julytwisted.store import _keys
from julytwisted.store._scripts import script

#: The most repositories one player may add.
MOST_REPOSITORIES = 100
#: Days a repository added by hand waits for a push signed with its secret.
PENDING_DAYS = 7

_REGISTRY = script("repositories.lua")

#: KEYS: the id index (or an empty name), the URL index.  Returns the record
#: one of them names, id first, as [key, field, value, ...], or nothing.
_LOOKUP = Script(
    "local rid = KEYS[1] ~= '' and redis.call('GET', KEYS[1]) "
    "if not rid then rid = redis.call('GET', KEYS[2]) end "
    "if not rid then return {} end "
    "local found = redis.call('HGETALL', ARGV[1] .. rid) "
    "table.insert(found, 1, rid) "
    "return found",
    "repository_lookup",
)


@attrs.frozen
class Registration:
    """
    A repository a player added.

    @ivar key: its record's key.
    @ivar host: its host, C{"github"}, C{"gitlab"} or C{"bitbucket"}.
    @ivar id: the host's id of it; empty for one added by hand until a
        signed push names it.
    @ivar url: its canonical URL.
    @ivar path: its C{owner/name} at the host, for the host's API.
    @ivar owner: the player who added it.
    @ivar secret: its webhook secret, sealed.
    @ivar hook: the id of the webhook made for it at the host; empty when
        its owner pastes one by hand.
    @ivar project: its project's slug; empty until it is proven.
    @ivar created: when it was added.
    @ivar proof: C{"host"}, C{"push"}, or empty while unproven.
    @ivar lapses: when an unproven one stops holding its address.
    @ivar token: the host token its owner gave to read it, sealed; empty
        when none was given.
    """

    key: str
    host: str
    id: str
    url: str
    path: str
    owner: str
    secret: str
    hook: str
    project: str
    created: datetime
    proof: str
    lapses: datetime | None
    token: str = ""

    def lapsed(self, now: datetime) -> bool:
        """Whether it is unproven and its time to be proven is over."""
        return not self.proof and self.lapses is not None and self.lapses <= now


@attrs.frozen
class Listing:
    """
    What the host says of a repository, for its project: the texts and
    numbers a push may never set.
    """

    name: str
    description: str = ""
    watchers: int = 0
    forks: int = 0
    forked: bool = False


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _record(flat: list[Any]) -> Registration:
    f = dict(zip(flat[1::2], flat[2::2], strict=True))
    lapses = f.get("lapses") or ""
    return Registration(
        key=str(flat[0]),
        host=f["host"],
        id=f["id"],
        url=f["url"],
        path=f["path"],
        owner=f["owner"],
        secret=f["secret"],
        hook=f["hook"],
        project=f["project"],
        created=_time(f["created"]),
        proof=f["proof"],
        lapses=datetime.fromtimestamp(float(lapses), UTC) if lapses else None,
        token=f.get("token") or "",
    )


def _name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


class Repositories:
    """The registry of repositories, in Redis."""

    def __init__(self, redis: RedisClient, now: Callable[[], datetime]) -> None:
        """@param now: tells the time, aware (the store's clock)."""
        self._redis = redis
        self._now = now

    def _keys(self, host: str, host_id: str, url: str) -> dict[str, str]:
        return {
            "record_prefix": _keys.repository(""),
            "project": _keys.project(""),
            "id_key": _keys.repository_by_id(host, host_id) if host_id else "",
            "url_key": _keys.repository_by_url(url),
            "repo_project": _keys.repo_project(host, host_id) if host_id else "",
            "project_url": _keys.project_url(url),
        }

    async def _run(self, request: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        request |= {"now": now.isoformat(), "now_ts": now.timestamp()}
        answer: dict[str, Any] = json.loads(
            await self._redis.run(_REGISTRY, args=(json.dumps(request),))
        )
        return answer

    async def add(
        self,
        owner: str,
        repository: RepositoryRef,
        path: str,
        sealed: str,
        listing: Listing | None,
        token: str = "",
    ) -> Registration:
        """
        Add a repository for a player.

        @param repository: its host, the host's id (empty when added by
            hand) and its canonical URL.
        @param path: its C{owner/name} at the host.
        @param sealed: its webhook secret, sealed.
        @param listing: what the host says of it, when the host vouched that
            C{owner} administers it; L{None} for one added by hand, unproven.
        @param token: the host token its owner gave to read it, sealed;
            empty for none.
        @return: the new registration.
        @raise Conflict: when the player added it already, another player
            holds it, or the player holds L{MOST_REPOSITORIES}.
        """
        now = self._now()
        proof = "host" if listing is not None else ""
        lapses = (
            "" if listing else str((now + timedelta(days=PENDING_DAYS)).timestamp())
        )
        keys = self._keys(repository.host, repository.id, repository.url)
        keys["index"] = _keys.player_repositories(owner)
        project = None
        if listing is not None:
            project = attrs.asdict(listing) | {"forked": "1" if listing.forked else "0"}
        answer = await self._run(
            {
                "op": "add",
                "key": secrets.token_hex(8),
                "keys": keys,
                "most": MOST_REPOSITORIES,
                "slug": repository.slug,
                "project": project,
                "record": {
                    "host": repository.host,
                    "id": repository.id,
                    "url": repository.url,
                    "path": path,
                    "owner": owner,
                    "secret": sealed,
                    "token": token,
                    "created": now.isoformat(),
                    "created_ts": now.timestamp(),
                    "proof": proof,
                    "lapses": lapses,
                    "name": listing.name if listing else _name(repository.url),
                },
            }
        )
        _refused(answer, repository.url)
        found = await self.lookup(repository)
        assert found is not None
        return found

    async def lookup(self, repository: RepositoryRef) -> Registration | None:
        """
        @return: the registration of the repository a push names: by its
            id, else by its URL; L{None} when nobody added it.
        """
        keys = self._keys(repository.host, repository.id, repository.url)
        found = await self._redis.run(
            _LOOKUP,
            keys=(keys["id_key"], keys["url_key"]),
            args=(_keys.repository(""),),
        )
        return _record(found) if found else None

    async def bind(self, registration: Registration, host_id: str) -> Registration:
        """
        Mark a registration proven by a push signed with its secret, and
        give it the id that push names (when it had none), with its project.

        @raise Conflict: when another registration holds that id.
        @raise NotFound: when it was removed meanwhile.
        """
        keys = self._keys(registration.host, host_id, registration.url)
        answer = await self._run(
            {
                "op": "bind",
                "key": registration.key,
                "keys": keys,
                "id": host_id,
                "name": _name(registration.url),
                "slug": RepositoryRef(
                    Host(registration.host), host_id, registration.url
                ).slug,
            }
        )
        _refused(answer, registration.url)
        return attrs.evolve(
            registration,
            id=registration.id or host_id,
            proof=registration.proof or "push",
            project=answer["project"],
        )

    async def set_hook(self, registration: Registration, hook_id: str) -> None:
        """Keep the id of the webhook made for a registration at its host."""
        await self._run(
            {
                "op": "hook",
                "key": registration.key,
                "keys": self._keys(registration.host, "", registration.url),
                "hook": hook_id,
            }
        )

    async def set_token(self, registration: Registration, token: str) -> None:
        """
        Keep the host token a registration's owner gave in place of the one
        it kept, if any.

        @param token: the token, sealed; empty to keep none.
        @raise NotFound: when it was removed meanwhile.
        """
        answer = await self._run(
            {
                "op": "token",
                "key": registration.key,
                "keys": self._keys(registration.host, "", registration.url),
                "owner": registration.owner,
                "token": token,
            }
        )
        _refused(answer, registration.url)

    async def remove(self, registration: Registration) -> None:
        """
        Remove a registration, with the token it kept: its pushes are refused
        (or open) from now on; its project and commits stay.
        """
        await self._run(
            {
                "op": "remove",
                "key": registration.key,
                "keys": self._keys(registration.host, "", registration.url),
                "owner": registration.owner,
            }
        )

    async def of_player(self, username: str) -> list[Registration]:
        """@return: a player's registrations, oldest first."""
        index = _keys.player_repositories(username)
        keys = await self._redis.execute("ZRANGE", index, 0, -1)
        found = await all_of(
            self._redis.execute("HGETALL", _keys.repository(key)) for key in keys
        )
        return [
            _record([key, *flat]) for key, flat in zip(keys, found, strict=True) if flat
        ]

    async def of_player_by_url(self, username: str, url: str) -> Registration:
        """
        @param url: a canonical URL, in any case.
        @return: the player's registration of that repository.
        @raise NotFound: when the player added none at that address.
        """
        for registration in await self.of_player(username):
            if registration.url.lower() == url.lower():
                return registration
        raise NotFound(f"you have not added {url}")


def _refused(answer: dict[str, Any], url: str) -> None:
    status = answer["status"]
    if status == "mine":
        raise Conflict(f"you added {url} already")
    if status == "full":
        raise Conflict(f"a player may add {MOST_REPOSITORIES} repositories at most")
    if status == "gone":
        raise NotFound(f"{url} was removed")
    if status == "taken":
        if answer.get("proof") == "" and answer.get("lapses"):
            until = datetime.fromtimestamp(float(answer["lapses"]), UTC)
            raise Conflict(
                f"another player added {url} by hand and has until "
                f"{until:%Y-%m-%d %H:%M} UTC to prove it with a signed push; "
                "sign in with its host to prove it is yours now"
            )
        raise Conflict(f"another player added {url}; they may remove it")


__all__ = [
    "MOST_REPOSITORIES",
    "PENDING_DAYS",
    "Listing",
    "Registration",
    "Repositories",
]
