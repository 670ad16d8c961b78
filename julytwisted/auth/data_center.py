# -*- test-case-name: tests.web.test_data_center -*-
"""
Reading the commits of a Bitbucket Data Center push: its webhooks name each
branch's hashes and no commits, so the job that completes the push asks the
server's REST API, with the token the repository's owner keeps here when
there is one, else anonymously (as a public repository allows).
"""

from __future__ import annotations

from twisted.logger import Logger

from julytwisted.auth.host_tokens import TokenBox
from julytwisted.errors import HostError, HostForbidden, HostNotFound, TokenRejected
from julytwisted.game import CommitEvent
from julytwisted.game.hooks import DataCenterFetch
from julytwisted.hosts import (
    BITBUCKET_SERVER,
    MOST_COMMITS,
    ConfiguredHost,
    Http,
    Token,
    data_center_commits,
)
from julytwisted.store import Store

log = Logger()


class DataCenterCommitReader:
    """
    Reads a branch's new commits from the configured Bitbucket Data Center
    (L{julytwisted.jobs.product.DataCenterCommits}).
    """

    def __init__(
        self,
        store: Store,
        tokens: TokenBox,
        http: Http,
        host: ConfiguredHost | None,
        most: int = MOST_COMMITS,
    ) -> None:
        """
        @param tokens: opens the owners' kept tokens.
        @param http: the client the server is called with.
        @param host: the configured server (C{--provider-url
            bitbucket-server=URL}); L{None} on a node without one.
        @param most: commits read per branch at most (the newest).
        """
        self._store = store
        self._tokens = tokens
        self._http = http
        self._host = host
        self._most = most

    async def __call__(self, fetch: DataCenterFetch) -> tuple[CommitEvent, ...]:
        """
        @return: the commits C{fetch.after} has and C{fetch.before} lacks,
            oldest first; every ancestor of C{fetch.after} for a new branch,
            up to the newest C{most}.
        @raise HostError: when the server cannot be asked or refuses; the
            job is then tried again.
        """
        if self._host is None:
            raise HostError(
                "no Bitbucket Data Center is configured on this node: start it "
                "with --provider-url bitbucket-server=URL"
            )
        token = await self._owner_token(fetch)
        try:
            return await data_center_commits(
                self._http,
                self._host,
                token,
                fetch.key,
                fetch.slug,
                fetch.page,
                fetch.before,
                fetch.after,
                self._most,
            )
        except (TokenRejected, HostForbidden, HostNotFound) as e:
            if token is not None:
                raise
            raise HostForbidden(
                f"{e.message}: without a token only a public repository's "
                f"commits can be read, and nobody keeps one for {fetch.url} here"
            ) from None

    async def _owner_token(self, fetch: DataCenterFetch) -> Token | None:
        """
        @return: the token its owner keeps for the server, unexpired; L{None}
            for a repository nobody added (an open event) or an owner who
            keeps none.
        """
        found = await self._store.repositories.lookup(fetch.repository)
        if found is None:
            return None
        sealed = await self._store.host_accounts.token(found.owner, BITBUCKET_SERVER)
        token = None if sealed is None else self._tokens.open(sealed)
        if token is not None and token.expires_within(self._store.now()):
            log.info("the token {owner} keeps has expired", owner=found.owner)
            return None
        return token


__all__ = ["DataCenterCommitReader"]
