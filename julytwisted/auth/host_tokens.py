# -*- test-case-name: tests.auth.test_host_sign_in -*-
"""
Code host tokens kept encrypted at rest: Fernet (AES-128-CBC with
HMAC-SHA256) under a key derived from the session secret with HKDF, so that
what Redis holds (a dump, a replica) gives no access to anyone's
repositories without the secret.  Changing the session secret makes the
kept tokens unreadable: the players sign in with their host again.

L{HostTokens} hands out a player's token at a host, refreshed when it
expires: for adding repositories, completing pushes and verifying commits.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from julytwisted.errors import Forbidden, HostError, SignInFailed
from julytwisted.hosts import PROVIDERS, ConfiguredHost, Http, OAuthApp, Token, refresh
from julytwisted.store import Store

#: HKDF's C{info}: this key is for host tokens only, whatever else the
#: session secret keys.
_INFO = b"julytwisted host tokens v1"


class TokenBox:
    """Seals and opens host tokens with a key derived from one secret."""

    def __init__(self, secret: bytes) -> None:
        """@param secret: the session secret (L{load_secret}'s)."""
        key = HKDF(hashes.SHA256(), 32, salt=None, info=_INFO).derive(secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, token: Token) -> bytes:
        """@return: C{token}, its refresh token and expiry, encrypted."""
        record = {
            "access": token.access_token,
            "refresh": token.refresh_token,
            "scopes": sorted(token.scopes),
            "expires": None
            if token.expires_at is None
            else token.expires_at.timestamp(),
        }
        return self._fernet.encrypt(json.dumps(record).encode())

    def open(self, sealed: bytes) -> Token | None:
        """
        @return: the token C{sealed} holds; L{None} when it was sealed under
            another secret or altered.
        """
        try:
            record = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken:
            return None
        expires = record["expires"]
        return Token(
            record["access"],
            frozenset(record["scopes"]),
            record["refresh"],
            None if expires is None else datetime.fromtimestamp(expires, UTC),
        )


class HostTokens:
    """
    The players' tokens at the code hosts, as their sign-ins left them:
    opened, and refreshed (and kept again) when they expire.
    """

    def __init__(
        self,
        store: Store,
        box: TokenBox,
        http: Http,
        hosts: Mapping[str, ConfiguredHost],
        apps: Mapping[str, OAuthApp],
    ) -> None:
        """
        @param box: opens and seals the tokens.
        @param http: the client the hosts are called with.
        @param hosts: every host by provider.
        @param apps: julytwisted's app at each host, to refresh tokens.
        """
        self._store = store
        self._box = box
        self._http = http
        self._hosts = dict(hosts)
        self._apps = dict(apps)

    async def usable(self, username: str, host: str) -> Token | None:
        """
        @return: the player's token at C{host}, refreshed when it expires;
            L{None} when they hold none (or one sealed under an old secret).
        @raise Forbidden: when it expired and cannot be refreshed.
        """
        sealed = await self._store.host_accounts.token(username, host)
        token = None if sealed is None else self._box.open(sealed)
        if token is None or not token.expires_within(self._store.now()):
            return token
        title = PROVIDERS[host].title
        again = Forbidden(f"the {title} sign-in expired: sign in with {title} again")
        if token.refresh_token is None or host not in self._apps:
            raise again
        try:
            token = await refresh(
                self._http, self._hosts[host], self._apps[host], token
            )
        except (HostError, SignInFailed):
            raise again from None
        await self._store.host_accounts.keep_token(
            username, host, self._box.seal(token)
        )
        return token


__all__ = ["HostTokens", "TokenBox"]
