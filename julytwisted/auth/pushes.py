# -*- test-case-name: tests.web.test_completion -*-
"""
What the jobs ask of a repository's host after a push, with its owner's
token: the commits a truncated push left out (completion), and the host's
word on each new commit before it scores (C{--verify-commits}).

Both need the repository to be added here (an open event's repository,
registered by nobody, has no token to ask with) and its owner to hold a
token of that host, refreshed when it expires.  When either is missing the
work cannot happen: the answer says why, and nothing changes.  A host that
fails or asks us to wait raises its L{HostError}, so that the queue retries
(after the wait it asked for).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from julytwisted.auth.host_tokens import HostTokens
from julytwisted.errors import (
    Forbidden,
    HostForbidden,
    HostNotFound,
    NoHostAccess,
    TokenRejected,
)
from julytwisted.game import CommitEvent, ProjectInfo, Push, RepositoryRef, bounded
from julytwisted.hosts import (
    MOST_COMMITS,
    PROVIDERS,
    ConfiguredHost,
    Http,
    Repository,
    Token,
    compare,
    fetch_commit,
    fetch_repository,
)
from julytwisted.models import Host
from julytwisted.store import Registration, Store


@attrs.frozen
class Completion:
    """
    What completing a truncated push did: the job's result.

    @ivar repository: the repository's canonical URL.
    @ivar fetched: how many commits the host's comparison gave.
    @ivar new: the hashes of those that were new, stored and scored.
    @ivar reason: why nothing was fetched, for people; L{None} when it was.
    """

    repository: str
    fetched: int
    new: tuple[str, ...]
    reason: str | None = None


@attrs.frozen
class Verdicts:
    """
    What verifying a repository's pending commits did: the job's result.

    @ivar repository: the repository's canonical URL.
    @ivar verified: the hashes the host knows, scored now.
    @ivar rejected: the hashes it refused, which never score.
    @ivar pending: the hashes still waiting (nothing could be asked).
    @ivar reason: why they still wait, for people; L{None} when none does.
    """

    repository: str
    verified: tuple[str, ...]
    rejected: tuple[str, ...]
    pending: tuple[str, ...] = ()
    reason: str | None = None


@attrs.frozen
class _Access:
    """A registered repository, its owner's token, and it as the API names it."""

    registration: Registration
    token: Token
    repository: Repository


class PushChecks:
    """Completes truncated pushes and verifies new commits at their host."""

    def __init__(
        self,
        store: Store,
        tokens: HostTokens,
        http: Http,
        hosts: Mapping[str, ConfiguredHost],
    ) -> None:
        """
        @param tokens: the owners' tokens at the hosts.
        @param http: the client the hosts are called with.
        @param hosts: every host by provider.
        """
        self._store = store
        self._tokens = tokens
        self._http = http
        self._hosts = dict(hosts)

    async def complete(
        self,
        repository: RepositoryRef,
        before: str,
        after: str,
        ref: str,
        arrived: datetime,
    ) -> Completion:
        """
        Fetch the commits of a push its payload left out, through the host's
        comparison of C{before} and C{after}, and ingest them as of the
        push's arrival; each is counted once, however often this runs.

        @param before: the hash the branch pointed to, or empty for a new
            branch: then its default branch is compared with C{after}.
        @param ref: the ref pushed, such as C{refs/heads/feature}.
        @param arrived: when the push arrived: the games its commits score
            in are judged by it, as the push's own were.
        """
        url = repository.url
        try:
            access = await self._access(repository)
            base = before or await self._default_branch(access, ref)
            commits = await self._compare(access, base, after)
        except NoHostAccess as why:
            return Completion(url, 0, (), str(why))
        push = Push(_project(repository), tuple(bounded(c) for c in commits), ref)
        result = await self._store.ingest(repository, push, arrived)
        if not result.active:
            return Completion(url, len(commits), (), "the project is deactivated")
        return Completion(url, len(commits), result.new)

    async def verify(self, repository: RepositoryRef) -> Verdicts:
        """
        Ask the host about each pending commit of a repository, the first to
        arrive first: one it holds (with the author's e-mail the push named)
        scores as its push would have; one it does not is rejected.
        """
        url = repository.url
        found = await self._store.repositories.lookup(repository)
        slug = found.project if found is not None else ""
        waiting = await self._store.verification.pending(slug) if slug else []
        if not waiting:
            return Verdicts(url, (), ())
        verified: list[str] = []
        rejected: list[str] = []
        try:
            access = await self._access(repository)
            for pending in waiting:
                refusal = await self._ask(access, pending.hash, pending.email)
                if refusal is None:
                    await self._store.verification.verify(pending.hash)
                    verified.append(pending.hash)
                else:
                    await self._store.verification.reject(pending.hash, refusal)
                    rejected.append(pending.hash)
        except NoHostAccess as why:
            done = {*verified, *rejected}
            left = tuple(c.hash for c in waiting if c.hash not in done)
            return Verdicts(url, tuple(verified), tuple(rejected), left, str(why))
        return Verdicts(url, tuple(verified), tuple(rejected))

    async def _ask(self, access: _Access, sha: str, email: str) -> str | None:
        """@return: why the host refuses the commit; L{None} when it holds it."""
        host = self._hosts[access.registration.host]
        title = PROVIDERS[host.provider].title
        try:
            found = await fetch_commit(
                self._http, host, access.token, access.repository, sha
            )
        except HostNotFound:
            # A repository the token no longer sees is no verdict on its
            # commits: that error goes up, and the job is retried.
            await self._fetch(access, access.registration.path)
            return f"{title} has no commit {sha} in {access.registration.url}"
        except (TokenRejected, HostForbidden) as e:
            refused = f"{title} refused the owner's token: {e.message}"
            raise NoHostAccess(refused) from None
        if email and found.author_email and found.author_email != email:
            return f"{title} names another author of {sha}"
        return None

    async def _access(self, repository: RepositoryRef) -> _Access:
        """
        @raise NoHostAccess: when the repository is not added here (or not
            proven yet), or its owner holds no usable token of its host.
        """
        found = await self._store.repositories.lookup(repository)
        if found is None or not found.proof:
            raise NoHostAccess(
                f"{repository.url} is not added here (an open event's "
                "repository): no owner's token to ask its host with"
            )
        title = PROVIDERS[found.host].title
        try:
            token = await self._tokens.usable(found.owner, found.host)
        except Forbidden as e:
            raise NoHostAccess(
                f"{found.owner}'s token cannot be used: {e.message}"
            ) from None
        if token is None:
            raise NoHostAccess(
                f"{found.owner}, who added {found.url}, has not signed in with "
                f"{title}: there is no token to ask it with"
            )
        repository_ = Repository(
            provider=found.host,
            id=found.id,
            path=found.path,
            url=found.url,
            name=found.url.rsplit("/", 1)[-1],
            description="",
            admin=True,
        )
        return _Access(found, token, repository_)

    async def _default_branch(self, access: _Access, ref: str) -> str:
        """
        @return: the branch a new branch is compared with: the repository's
            default one.
        @raise NoHostAccess: when the new branch is the default one itself (a
            repository's first push): there is nothing to compare it with.
        """
        found = await self._fetch(access, access.registration.path)
        branch = found.default_branch
        if not branch or ref == f"refs/heads/{branch}":
            raise NoHostAccess(
                "a new default branch has nothing to compare with: only the "
                "commits its push listed count"
            )
        return branch

    async def _fetch(self, access: _Access, path: str) -> Repository:
        host = self._hosts[access.registration.host]
        try:
            return await fetch_repository(self._http, host, access.token, path)
        except (TokenRejected, HostForbidden) as e:
            raise NoHostAccess(
                f"the host refused the owner's token: {e.message}"
            ) from None

    async def _compare(
        self, access: _Access, base: str, head: str
    ) -> tuple[CommitEvent, ...]:
        host = self._hosts[access.registration.host]
        title = PROVIDERS[host.provider].title
        try:
            return await compare(
                self._http, host, access.token, access.repository, base, head,
                MOST_COMMITS,
            )  # fmt: skip
        except HostNotFound as e:
            raise NoHostAccess(
                f"{title} compares no {base}...{head} (rewritten since?): {e.message}"
            ) from None
        except (TokenRejected, HostForbidden) as e:
            refused = f"{title} refused the owner's token: {e.message}"
            raise NoHostAccess(refused) from None


def _project(repository: RepositoryRef) -> ProjectInfo:
    """The project a completion's commits go to: the push made it already."""
    return ProjectInfo(
        service=Host(repository.host),
        slug=repository.slug,
        name=repository.url.rsplit("/", 1)[-1],
        url=repository.url,
        host_id=repository.id,
    )


__all__ = ["Completion", "PushChecks", "Verdicts"]
