# -*- test-case-name: tests.hosts.test_github,tests.hosts.test_gitlab -*-
"""
The calls julytwisted makes to a code host with a player's token, the same
for every host: each takes the HTTP client, the configured L{ConfiguredHost} and the
token, and sends the call to that host's own module.

Every call is bounded in time and in the size of what it reads, and fails
with a L{HostError<julytwisted.hosts.HostError>}: C{TokenRejected} (sign in
again), C{HostForbidden} (a scope or a right is missing), C{HostNotFound},
C{HostRateLimited}, C{HostUnreachable} or C{MalformedAnswer}.
"""

from __future__ import annotations

from typing import Protocol

from julytwisted.game import CommitEvent
from julytwisted.hosts import _bitbucket, _github, _gitlab
from julytwisted.hosts._http import Http
from julytwisted.hosts._providers import BITBUCKET, GITHUB, GITLAB, ConfiguredHost
from julytwisted.hosts._records import Account, Hook, Repository
from julytwisted.hosts.oauth import Token

#: Commits one comparison returns at most: GitHub's own limit per push.
MOST_COMMITS = 2048


class _HostAPI(Protocol):
    """What each host's module provides."""

    async def fetch_account(
        self, http: Http, host: ConfiguredHost, token: Token
    ) -> Account:
        """See L{fetch_account}."""

    async def fetch_repository(
        self, http: Http, host: ConfiguredHost, token: Token, path: str
    ) -> Repository:
        """See L{fetch_repository}."""

    async def create_hook(
        self,
        http: Http,
        host: ConfiguredHost,
        token: Token,
        repository: Repository,
        url: str,
        secret: str,
    ) -> Hook:
        """See L{create_hook}."""

    async def list_hooks(
        self, http: Http, host: ConfiguredHost, token: Token, repository: Repository
    ) -> tuple[Hook, ...]:
        """See L{list_hooks}."""

    async def ping_hook(
        self,
        http: Http,
        host: ConfiguredHost,
        token: Token,
        repository: Repository,
        hook_id: str,
    ) -> bool:
        """See L{ping_hook}."""

    async def delete_hook(
        self,
        http: Http,
        host: ConfiguredHost,
        token: Token,
        repository: Repository,
        hook_id: str,
    ) -> bool:
        """See L{delete_hook}."""

    async def compare(
        self,
        http: Http,
        host: ConfiguredHost,
        token: Token,
        repository: Repository,
        base: str,
        head: str,
        most: int,
    ) -> tuple[CommitEvent, ...]:
        """See L{compare}."""

    async def fetch_commit(
        self,
        http: Http,
        host: ConfiguredHost,
        token: Token,
        repository: Repository,
        sha: str,
    ) -> CommitEvent:
        """See L{fetch_commit}."""


_APIS: dict[str, _HostAPI] = {GITHUB: _github, GITLAB: _gitlab, BITBUCKET: _bitbucket}


async def fetch_account(http: Http, host: ConfiguredHost, token: Token) -> Account:
    """
    Read the account a token belongs to, with the e-mails its host has
    verified (GitHub: C{verified}, plus both noreply forms; GitLab:
    C{confirmed_at}, and the primary address of a confirmed user; Bitbucket:
    C{is_confirmed}); unverified ones are left out.

    @return: the account.
    """
    return await _APIS[host.provider].fetch_account(http, host, token)


async def fetch_repository(
    http: Http, host: ConfiguredHost, token: Token, path: str
) -> Repository:
    """
    Read a repository: its id, its web page and whether the token's account
    administers it.

    @param path: its C{owner/name} (GitLab: its whole namespace path;
        Bitbucket: C{workspace/repo_slug}).
    @return: the repository.
    """
    return await _APIS[host.provider].fetch_repository(http, host, token, path)


async def create_hook(
    http: Http,
    host: ConfiguredHost,
    token: Token,
    repository: Repository,
    url: str,
    secret: str,
) -> Hook:
    """
    Add a webhook that delivers C{repository}'s pushes to C{url}, signed
    with (GitLab: carrying) C{secret}.

    @return: the hook the host made.
    """
    api = _APIS[host.provider]
    return await api.create_hook(http, host, token, repository, url, secret)


async def list_hooks(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository
) -> tuple[Hook, ...]:
    """@return: every webhook of C{repository}."""
    return await _APIS[host.provider].list_hooks(http, host, token, repository)


async def ping_hook(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, hook_id: str
) -> bool:
    """
    Have the host deliver a test event to a webhook: GitHub's C{ping},
    GitLab's test push.

    @return: whether one was sent: L{False} where the host has no such call
        (Bitbucket Cloud).
    """
    api = _APIS[host.provider]
    return await api.ping_hook(http, host, token, repository, hook_id)


async def delete_hook(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, hook_id: str
) -> bool:
    """
    Delete a webhook.

    @return: whether it was there to delete: deleting one twice is no error.
    """
    api = _APIS[host.provider]
    return await api.delete_hook(http, host, token, repository, hook_id)


async def compare(
    http: Http,
    host: ConfiguredHost,
    token: Token,
    repository: Repository,
    base: str,
    head: str,
    most: int = MOST_COMMITS,
) -> tuple[CommitEvent, ...]:
    """
    The commits C{head} has and C{base} lacks, as the host's comparison
    gives them (GitHub's compare, GitLab's repository compare, Bitbucket's
    commits with C{include} and C{exclude}), oldest first.

    Each carries its full hash, its author's name and e-mail, its whole
    message, its author time and its page; none carries its files (the
    hosts list files per comparison, not per commit).

    @param base: the revision already known, such as a push's C{before}.
    @param head: the revision pushed, such as its C{after}.
    @param most: commits returned at most.
    @return: the commits.
    """
    api = _APIS[host.provider]
    return await api.compare(http, host, token, repository, base, head, most)


async def fetch_commit(
    http: Http, host: ConfiguredHost, token: Token, repository: Repository, sha: str
) -> CommitEvent:
    """
    Read one commit of a repository, as the host keeps it: GitHub
    C{GET /repos/{owner}/{repo}/commits/{ref}}, GitLab
    C{GET /projects/:id/repository/commits/:sha}, Bitbucket
    C{GET /2.0/repositories/{workspace}/{repo_slug}/commit/{commit}}.

    @param sha: the commit's full hash.
    @return: the commit, as L{compare} gives commits (no files).
    @raise HostNotFound: when the host knows no such commit in that
        repository (or does not show the repository to the token).
    """
    api = _APIS[host.provider]
    return await api.fetch_commit(http, host, token, repository, sha)


__all__ = [
    "MOST_COMMITS",
    "compare",
    "create_hook",
    "delete_hook",
    "fetch_account",
    "fetch_commit",
    "fetch_repository",
    "list_hooks",
    "ping_hook",
]
