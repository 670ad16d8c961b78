# -*- test-case-name: tests.pages.test_repositories,tests.test_methods -*-
"""
A player adds the repositories they administer, lists, pings and removes
them: the use cases the C{/projects/add} page and the JSON-RPC methods share.

Adding asks the host, with the token the player's sign-in with it left, that
the player administers the repository; the host's description of it (name,
description, stars, forks) becomes its project's.  Each repository gets a
secret of its own.  When the token may manage webhooks, the hook is made at
the host with that secret, and deleted when the repository is removed;
otherwise the player is shown the payload URL and the secret to paste.

A player not signed in with the host cannot prove anything: the repository
is added by hand, unproven, and holds its address for
L{PENDING_DAYS<julytwisted.store.PENDING_DAYS>} days, until a push signed
with its secret (which only the player was shown) proves it.  An owner the
host vouches for takes it over before that.

A Bitbucket Data Center repository is always added by hand (no sign-in
with a Data Center here); its owner may give an HTTP access token that
reads it, checked against the server and kept sealed
(L{DataCenterTokens}), so that a private repository's commits can be read.
Adding it again with a token, or L{Registrar.replace_token}, replaces it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TypeVar

import attrs
from twisted.logger import Logger
from twisted.web.iweb import IRequest

from julytwisted.auth.data_center import DataCenterTokens, token_note
from julytwisted.auth.host_tokens import HostTokens, TokenBox
from julytwisted.auth.webhooks import SecretBox
from julytwisted.errors import (
    Forbidden,
    HostError,
    HostForbidden,
    HostNotFound,
    InvalidInput,
    NotFound,
    TokenRejected,
)
from julytwisted.game.repositories import RepositoryRef, canonical_url
from julytwisted.hosts import (
    PROVIDERS,
    ConfiguredHost,
    Http,
    OAuthApp,
    Repository,
    Token,
    create_hook,
    default_host,
    delete_hook,
    fetch_repository,
    ping_hook,
    repository_sites,
)
from julytwisted.models import Host
from julytwisted.store import Listing, Registration, Store

log = Logger()
_T = TypeVar("_T")

#: Where each host's webhook settings are, for a hook pasted by hand.
SETTINGS_PLACE = {
    "github": "Settings → Webhooks → Add webhook; content type application/json; "
    "the push event; the secret as Secret",
    "gitlab": "Settings → Webhooks → Add new webhook; push events; the secret as "
    "Secret token",
    "bitbucket": "Repository settings → Webhooks → Add webhook; repository push; "
    "the secret as Secret",
    "bitbucket-server": "Repository settings → Webhooks → Create webhook; the "
    "Repository Push event; the secret as Secret",
}


@attrs.frozen
class PlayerRepository:
    """
    A repository as the player who added it sees it.

    @ivar url: its canonical URL.
    @ivar host: its host.
    @ivar project: its project's slug; null until a signed push proves one
        added by hand.
    @ivar status: C{"hooked"} (the webhook was made at the host),
        C{"manual"} (its owner pastes the webhook) or C{"pending"} (added by
        hand: waiting for a push signed with its secret).
    @ivar payload_url: where its webhook delivers.
    @ivar secret: its webhook secret, given only while its owner must paste
        the webhook by hand; null once the service made it.
    @ivar added: when it was added, ISO 8601.
    @ivar lapses: when a repository added by hand stops holding its address
        unless a signed push came; null for a proven one.
    @ivar token_kept: whether a token its owner gave is kept to read its
        commits (Bitbucket Data Center); the token itself is never shown.
    @ivar note: what to do next, for people.
    """

    url: str
    host: str
    project: str | None
    status: str
    payload_url: str
    secret: str | None
    added: str
    lapses: str | None
    token_kept: bool
    note: str


class Registrar:
    """Adds, lists, pings and removes players' repositories."""

    def __init__(
        self,
        store: Store,
        box: SecretBox,
        tokens: TokenBox,
        http: Http,
        hosts: Mapping[str, ConfiguredHost],
        apps: Mapping[str, OAuthApp],
        public_url: str | None = None,
    ) -> None:
        """
        @param box: makes and opens the repositories' secrets.
        @param tokens: opens (and seals again, refreshed) the players'
            host tokens.
        @param http: the client the hosts are called with.
        @param hosts: the configured hosts; the public service of the rest.
        @param apps: julytwisted's app at each host, to refresh tokens.
        @param public_url: the site's address as players and hosts reach
            it, which payload URLs start with; L{None} for the address each
            request was sent to.
        """
        self._store = store
        self._box = box
        self._tokens = tokens
        self._http = http
        self._hosts = {
            name: hosts.get(name) or default_host(name) for name in PROVIDERS
        }
        self._host_tokens = HostTokens(store, tokens, http, self._hosts, apps)
        self._data_center = DataCenterTokens(
            tokens, http, self._hosts[Host.BITBUCKET_SERVER]
        )
        self._sites = repository_sites(hosts)
        self._public_url = public_url

    @property
    def takes_tokens(self) -> bool:
        """Whether a Bitbucket Data Center is configured, whose tokens it keeps."""
        return Host.BITBUCKET_SERVER in self._sites

    def site_url(self, request: IRequest) -> str:
        """
        @return: the site's address: C{--public-url}, else the one the
            request was sent to (https when it came over TLS or a proxy in
            front says so).
        """
        if self._public_url:
            return self._public_url
        proto = (request.getHeader(b"x-forwarded-proto") or b"").decode("latin-1")
        secure = request.isSecure() or proto.strip().lower() == "https"
        host = (request.getHeader(b"host") or b"localhost").decode("latin-1")
        return f"{'https' if secure else 'http'}://{host}"

    def _parse(self, url: str) -> tuple[str, str, str]:
        """@return: the host, the canonical URL and the path of C{url}."""
        if not isinstance(url, str) or not url.strip():
            raise InvalidInput("url must be a repository's address")
        canonical = canonical_url(url.strip())
        site = canonical.split("/")[2]
        host = next((h for h, s in self._sites.items() if s == site), None)
        if host is None:
            known = ", ".join(sorted(self._sites.values()))
            raise InvalidInput(f"{site} is not a code host here; add one on {known}")
        if host == Host.BITBUCKET_SERVER:
            # Any page of the repository (.../browse) names it.
            canonical = canonical_url(url.strip(), host)
        return host, canonical, canonical.split("/", 3)[3]

    async def add(
        self, username: str, url: str, base: str, token: str | None = None
    ) -> PlayerRepository:
        """
        Add a repository for a player; with a token from their sign-in with
        its host, only one they administer, and its webhook is made when the
        token may.

        @param base: this site's address, which the payload URL starts with.
        @param token: for a Bitbucket Data Center repository, a token that
            reads it, to read a private one's commits; it replaces the one
            kept when the player added the repository already.  Empty or
            L{None} for none.
        @raise InvalidInput: for an address not on a configured host, or a
            token given for another host.
        @raise Forbidden: when the host says the player does not administer
            it, or no longer accepts their token; when a Data Center refuses
            the token given.
        @raise NotFound: when the host shows the player no such repository.
        @raise Conflict: when it is added already (see
            L{Repositories.add<julytwisted.store.Repositories.add>}).
        """
        host, canonical, path = self._parse(url)
        if host == Host.BITBUCKET_SERVER:
            return await self._add_data_center(username, canonical, path, base, token)
        if token:
            raise InvalidInput(
                "a token is taken for Bitbucket Data Center repositories only: "
                f"for {PROVIDERS[host].title}, sign in with it instead"
            )
        signed_in = await self._token(username, host)
        if signed_in is None:
            return await self._add_by_hand(username, host, canonical, path, base)
        return await self._add_vouched(
            username, (host, canonical, path), signed_in, base
        )

    async def _add_by_hand(
        self,
        username: str,
        host: str,
        canonical: str,
        path: str,
        base: str,
        token: str = "",
    ) -> PlayerRepository:
        """
        Add a repository unproven, with a secret to paste.

        @param token: the host token it keeps, sealed; empty for none.
        """
        _, sealed = self._box.new()
        ref = RepositoryRef(Host(host), "", canonical)
        found = await self._store.repositories.add(
            username, ref, path, sealed, None, token
        )
        return self._present(found, base)

    async def _add_data_center(
        self, username: str, canonical: str, path: str, base: str, token: str | None
    ) -> PlayerRepository:
        """
        Add a Data Center repository by hand (no hooks API is called for
        one: its hook is pasted), keeping the token given once the server
        says it reads it; adding it again with a token replaces the kept one.
        """
        host = Host.BITBUCKET_SERVER
        if not token:
            return await self._add_by_hand(username, host, canonical, path, base)
        sealed = await self._data_center.checked(canonical, token)
        mine = await self._store.repositories.of_player(username)
        again = next((r for r in mine if r.url.lower() == canonical.lower()), None)
        if again is None:
            return await self._add_by_hand(
                username, host, canonical, path, base, sealed
            )
        await self._store.repositories.set_token(again, sealed)
        note = f"Replaced the token kept for {again.url}."
        return self._present(attrs.evolve(again, token=sealed), base, note)

    async def replace_token(self, username: str, url: str, token: str) -> str:
        """
        Keep a new token for a Data Center repository the player added, once
        the server says it reads it.

        @return: what happened, for people.
        @raise InvalidInput: for a repository of another host, or no token.
        @raise NotFound: when the player has no such repository.
        @raise Forbidden: when the server refuses the token.
        """
        host, canonical, _ = self._parse(url)
        if host != Host.BITBUCKET_SERVER:
            raise InvalidInput("only a Bitbucket Data Center repository keeps a token")
        registration = await self._store.repositories.of_player_by_url(
            username, canonical
        )
        sealed = await self._data_center.checked(canonical, token)
        await self._store.repositories.set_token(registration, sealed)
        return (
            f"Replaced the token kept for {registration.url}: its commits "
            "are read with it from now on."
        )

    async def _add_vouched(
        self, username: str, where: tuple[str, str, str], token: Token, base: str
    ) -> PlayerRepository:
        """
        Add a repository the host says the player administers.

        @param where: its host, canonical URL and path.
        """
        host, canonical, path = where
        clear, sealed = self._box.new()
        repo = await self._fetch(host, token, path)
        title = PROVIDERS[host].title
        if not repo.admin:
            raise Forbidden(
                f"your {title} account does not administer {canonical}: "
                "one of its admins adds it"
            )
        ref = RepositoryRef(
            Host(host), repo.id.strip().lower(), canonical_url(repo.url)
        )
        listing = Listing(
            repo.name, repo.description, repo.watchers, repo.forks, repo.forked
        )
        found = await self._store.repositories.add(
            username, ref, repo.path, sealed, listing
        )
        if not token.grants(PROVIDERS[host].repository_scopes):
            note = f"Sign in with {title} granting webhook access to have it made."
            return self._present(found, base, note)
        try:
            hook = await create_hook(
                self._http,
                self._hosts[host],
                token,
                repo,
                payload_url(base, host),
                clear,
            )
        except HostError as e:
            log.warn("could not make the webhook of {url}: {e}", url=canonical, e=e)
            note = f"{title} did not make the webhook ({e.message}): paste it."
            return self._present(found, base, note)
        await self._store.repositories.set_hook(found, hook.id)
        return self._present(attrs.evolve(found, hook=hook.id), base)

    async def listed(self, username: str, base: str) -> list[PlayerRepository]:
        """@return: the player's repositories, oldest first."""
        found = await self._store.repositories.of_player(username)
        return [self._present(registration, base) for registration in found]

    async def ping(self, username: str, url: str) -> str:
        """
        Have the host send the repository's webhook a test delivery.

        @return: what happened, for people.
        @raise Forbidden: when the webhook was pasted by hand (no ping
            through the host then) or the token no longer works.
        @raise NotFound: when the player has no such repository.
        """
        registration, token = await self._own(username, url)
        title = PROVIDERS[registration.host].title
        if not registration.hook or token is None:
            raise Forbidden(
                f"the webhook of {registration.url} was pasted by hand: "
                f"send a test delivery from its settings at {title}"
            )
        host = self._hosts[registration.host]
        sent = await self._host_call(
            ping_hook(
                self._http, host, token, _repository(registration), registration.hook
            ),
            registration.host,
        )
        if not sent:
            return f"{title} has no ping for webhooks: push a commit to test it."
        return f"{title} is sending the webhook a test delivery."

    async def remove(self, username: str, url: str) -> str:
        """
        Remove a repository, and the webhook the service made for it.

        @return: what happened, for people.
        @raise NotFound: when the player has no such repository.
        """
        registration, token = await self._own(username, url)
        await self._store.repositories.remove(registration)
        title = PROVIDERS[registration.host].title
        if not registration.hook:
            return f"Removed {registration.url}: delete its webhook at {title}."
        if token is None:
            return f"Removed {registration.url}: delete its webhook at {title}."
        host = self._hosts[registration.host]
        try:
            await delete_hook(
                self._http, host, token, _repository(registration), registration.hook
            )
        except HostError as e:
            log.warn("could not delete the webhook of {url}: {e}", url=url, e=e)
            return f"Removed {registration.url}; {title} kept its webhook: delete it."
        return f"Removed {registration.url} and its webhook."

    async def _own(self, username: str, url: str) -> tuple[Registration, Token | None]:
        _, canonical, _ = self._parse(url)
        registration = await self._store.repositories.of_player_by_url(
            username, canonical
        )
        token = None
        if registration.hook:
            token = await self._token(username, registration.host)
        return registration, token

    async def _token(self, username: str, host: str) -> Token | None:
        """
        @return: the player's token at C{host}, refreshed when it expires;
            L{None} when they hold none (or one sealed under an old secret).
        @raise Forbidden: when it expired and cannot be refreshed.
        """
        return await self._host_tokens.usable(username, host)

    async def _fetch(self, host: str, token: Token, path: str) -> Repository:
        return await self._host_call(
            fetch_repository(self._http, self._hosts[host], token, path), host, path
        )

    async def _host_call(self, call: Awaitable[_T], host: str, path: str = "") -> _T:
        title = PROVIDERS[host].title
        try:
            return await call
        except HostNotFound:
            raise NotFound(f"{title} shows your account no repository {path}") from None
        except TokenRejected:
            raise Forbidden(
                f"{title} no longer accepts your sign-in: sign in with {title} again"
            ) from None
        except HostForbidden as e:
            raise Forbidden(f"{title} refused: {e.message}") from None

    def _present(
        self, registration: Registration, base: str, note: str = ""
    ) -> PlayerRepository:
        host = registration.host
        manual = not registration.hook
        if not registration.proof:
            status = "pending"
            note = note or (
                "Paste the webhook at the host with this secret: the first push "
                "signed with it proves the repository is yours."
            )
        else:
            status = "manual" if manual else "hooked"
        if manual and not note:
            note = f"Paste the webhook: {SETTINGS_PLACE[host]}."
        if host == Host.BITBUCKET_SERVER:
            note = f"{note} {token_note(bool(registration.token))}"
        return PlayerRepository(
            url=registration.url,
            host=host,
            project=registration.project or None,
            status=status,
            payload_url=payload_url(base, host),
            secret=self._box.open(registration.secret) if manual else None,
            added=registration.created.isoformat(),
            lapses=None
            if registration.lapses is None
            else registration.lapses.isoformat(),
            token_kept=bool(registration.token),
            note=note or "The webhook is made: pushes score from now on.",
        )


def payload_url(base: str, host: str) -> str:
    """@return: the webhook endpoint of C{host} on the site at C{base}."""
    return f"{base.rstrip('/')}/api/v1/{host}"


def _repository(registration: Registration) -> Repository:
    """The registration as the hosts' hook calls name a repository."""
    return Repository(
        provider=registration.host,
        id=registration.id,
        path=registration.path,
        url=registration.url,
        name=registration.url.rsplit("/", 1)[-1],
        description="",
        admin=True,
    )


__all__ = ["SETTINGS_PLACE", "PlayerRepository", "Registrar", "payload_url"]
