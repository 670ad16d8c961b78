# -*- test-case-name: tests.web.test_data_center,tests.web.test_data_center_tokens -*-
"""
Bitbucket Data Center's private repositories: its webhooks name each
branch's hashes and no commits, so the job that completes a push asks the
server's REST API, with the HTTP access token the repository's owner gave
when adding it (L{DataCenterTokens}), else anonymously, as a public
repository allows (L{DataCenterCommitReader}).

A token is checked against the server (it must read the repository) before
it is kept, and kept sealed with the host tokens' key (L{TokenBox}) in the
repository's record, which its removal drops: it is never shown, logged or
answered again.
"""

from __future__ import annotations

from julytwisted.auth.host_tokens import TokenBox
from julytwisted.errors import (
    Forbidden,
    HostError,
    HostForbidden,
    HostNotFound,
    InvalidInput,
    NotFound,
    TokenRejected,
)
from julytwisted.game import CommitEvent
from julytwisted.game.hooks import DataCenterFetch
from julytwisted.hosts import (
    MOST_COMMITS,
    ConfiguredHost,
    Http,
    Token,
    data_center_commits,
    data_center_repository,
)
from julytwisted.store import Registration, Store

#: The longest token taken: Data Center's HTTP access tokens are 44
#: characters; this leaves room for other bearer tokens, never for a page.
MOST_TOKEN_LENGTH = 512
#: Where a repository's tokens are made, for people.
TOKEN_PLACE = (
    "an HTTP access token with repository read permission (Repository "
    "settings → HTTP access tokens, or your account's)"
)


def data_center_names(url: str) -> tuple[str, str]:
    """
    @param url: a Data Center repository's canonical URL
        (C{.../projects/key/repos/slug} or C{.../users/name/repos/slug}).
    @return: its project's key as the REST API takes it (upper-case, or
        C{~name} for a personal repository) and its slug.
    """
    kind, owner, _, slug = url.split("/")[-4:]
    return (owner.upper() if kind == "projects" else f"~{owner}"), slug


def token_note(kept: bool) -> str:
    """@return: what a Data Center repository's owner is told of its token."""
    if kept:
        return "Its commits are read with the token you gave; replace it here."
    return (
        "Without a token only a public repository's commits can be read: for "
        f"a private one, give {TOKEN_PLACE}."
    )


class DataCenterTokens:
    """Checks, seals and opens the tokens kept for Data Center repositories."""

    def __init__(self, tokens: TokenBox, http: Http, host: ConfiguredHost) -> None:
        """
        @param tokens: seals and opens them, with the host tokens' key.
        @param http: the client the server is called with.
        @param host: the configured server.
        """
        self._tokens = tokens
        self._http = http
        self._host = host

    async def checked(self, url: str, given: str) -> str:
        """
        Check that a token reads a repository, and seal it.

        @param url: the repository's canonical URL.
        @param given: the token, as its owner typed it.
        @return: the token, sealed, for the repository's record.
        @raise InvalidInput: for text that is no token.
        @raise Forbidden: when the server refuses it for that repository.
        @raise NotFound: when the token's account sees no such repository.
        @raise HostError: when the server cannot be asked.
        """
        token = Token(_clean(given))
        key, slug = data_center_names(url)
        try:
            await data_center_repository(self._http, self._host, token, key, slug)
        except (TokenRejected, HostForbidden):
            raise Forbidden(
                f"Bitbucket Data Center refused the token for {url}: give "
                f"{TOKEN_PLACE}, neither expired nor revoked"
            ) from None
        except HostNotFound:
            raise NotFound(
                f"Bitbucket Data Center shows that token's account no "
                f"repository {slug} of project {key}"
            ) from None
        return self._tokens.seal(token).decode("ascii")

    def opened(self, registration: Registration) -> Token | None:
        """
        @return: the token a registration keeps; L{None} when it keeps none.
        @raise HostForbidden: when it was sealed under another session
            secret, which only its owner can mend.
        """
        if not registration.token:
            return None
        token = self._tokens.open(registration.token.encode("ascii"))
        if token is None:
            raise HostForbidden(
                f"the token kept for {registration.url} cannot be read since "
                "this site's session secret changed: its owner gives it again "
                "at /projects/add"
            )
        return token


def _clean(given: object) -> str:
    """@return: C{given}, stripped, when it may be a bearer token."""
    text = given.strip() if isinstance(given, str) else ""
    if not text or len(text) > MOST_TOKEN_LENGTH:
        raise InvalidInput(f"token must be {TOKEN_PLACE}")
    if any(c.isspace() or not c.isprintable() or not c.isascii() for c in text):
        raise InvalidInput(f"token must be {TOKEN_PLACE}, which has no spaces")
    return text


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
        @param tokens: opens the tokens the repositories keep.
        @param http: the client the server is called with.
        @param host: the configured server (C{--provider-url
            bitbucket-server=URL}); L{None} on a node without one.
        @param most: commits read per branch at most (the newest).
        """
        self._store = store
        self._http = http
        self._host = host
        self._kept = None if host is None else DataCenterTokens(tokens, http, host)
        self._most = most

    async def __call__(self, fetch: DataCenterFetch) -> tuple[CommitEvent, ...]:
        """
        @return: the commits C{fetch.after} has and C{fetch.before} lacks,
            oldest first; every ancestor of C{fetch.after} for a new branch,
            up to the newest C{most}.
        @raise HostError: when the server cannot be asked or refuses; the
            job is then tried again.
        """
        if self._host is None or self._kept is None:
            raise HostError(
                "no Bitbucket Data Center is configured on this node: start it "
                "with --provider-url bitbucket-server=URL"
            )
        found = await self._store.repositories.lookup(fetch.repository)
        token = None if found is None else self._kept.opened(found)
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
            if token is None:
                raise _without_token(e, fetch.url) from None
            if isinstance(e, HostNotFound):
                raise
            raise type(e)(
                f"{e.message}: the token kept for {fetch.url} no longer reads "
                "it (expired, revoked or its permission taken away); its owner "
                "gives a new one at /projects/add"
            ) from None


def _without_token(error: HostError, url: str) -> HostForbidden:
    """The refusal of a repository read anonymously, saying what to do."""
    return HostForbidden(
        f"{error.message}: without a token only a public repository's "
        f"commits can be read, and none is kept for {url}: its owner gives "
        f"{TOKEN_PLACE} at /projects/add"
    )


__all__ = [
    "MOST_TOKEN_LENGTH",
    "TOKEN_PLACE",
    "DataCenterCommitReader",
    "DataCenterTokens",
    "data_center_names",
    "token_note",
]
