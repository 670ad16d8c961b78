# -*- test-case-name: tests.hosts.test_github,tests.hosts.test_gitlab -*-
"""
The calls julytwisted makes to a code host with a player's token, the same
for every host: each takes the HTTP client, the configured L{Host} and the
token, and sends the call to that host's own module.

Every call is bounded in time and in the size of what it reads, and fails
with a L{HostError<julytwisted.hosts.HostError>}: C{TokenRejected} (sign in
again), C{HostForbidden} (a scope or a right is missing), C{HostNotFound},
C{HostRateLimited}, C{HostUnreachable} or C{MalformedAnswer}.
"""

from __future__ import annotations

from typing import Protocol

from julytwisted.hosts import _bitbucket, _github, _gitlab
from julytwisted.hosts._http import Http
from julytwisted.hosts._providers import BITBUCKET, GITHUB, GITLAB, Host
from julytwisted.hosts._records import Account
from julytwisted.hosts.oauth import Token


class _HostAPI(Protocol):
    """What each host's module provides."""

    async def fetch_account(self, http: Http, host: Host, token: Token) -> Account:
        """See L{fetch_account}."""


_APIS: dict[str, _HostAPI] = {GITHUB: _github, GITLAB: _gitlab, BITBUCKET: _bitbucket}


async def fetch_account(http: Http, host: Host, token: Token) -> Account:
    """
    Read the account a token belongs to, with the e-mails its host has
    verified (GitHub: C{verified}, plus both noreply forms; GitLab:
    C{confirmed_at}, and the primary address of a confirmed user; Bitbucket:
    C{is_confirmed}); unverified ones are left out.

    @return: the account.
    """
    return await _APIS[host.provider].fetch_account(http, host, token)


__all__ = [
    "fetch_account",
]
