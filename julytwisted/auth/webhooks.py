# -*- test-case-name: tests.web.test_trusted_pushes -*-
"""
Who may push: each delivery is checked with the secret of the repository it
names, before its body is read as a push.

The repository is found by the host's id in the payload, else by its
canonical URL (L{julytwisted.game.repositories.repository_of}, on the
configured site of the endpoint's host only).  An added repository is
checked with its own secret, never the site's; the first push signed with
the secret of one added by hand proves it and names its id.  A repository
nobody added is refused with 403 saying where to add it, unless the event is
open (C{--open-repositories}): then the site-wide C{--webhook-secret}
applies, as it did before repositories were added, and every holder of that
secret may post anything.

Each repository's secret is kept sealed (L{SecretBox}), under a key derived
from the session secret apart from the host tokens' key.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping

import attrs
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from julytwisted.errors import BadSignature, Forbidden, InvalidPayload
from julytwisted.game import hooks
from julytwisted.game.repositories import RepositoryRef, repository_of
from julytwisted.models import Host
from julytwisted.store import Registration, Store

#: HKDF's C{info}: this key seals webhook secrets only.
_INFO = b"julytwisted webhook secrets v1"
#: Random bytes in each repository's secret.
SECRET_BYTES = 32


class SecretBox:
    """Makes, seals and opens repositories' webhook secrets."""

    def __init__(self, secret: bytes) -> None:
        """@param secret: the session secret (L{load_secret}'s)."""
        key = HKDF(hashes.SHA256(), 32, salt=None, info=_INFO).derive(secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def new(self) -> tuple[str, str]:
        """@return: a new secret (URL-safe text), and it sealed."""
        clear = secrets.token_urlsafe(SECRET_BYTES)
        return clear, self.seal(clear)

    def seal(self, clear: str) -> str:
        """@return: C{clear}, encrypted and authenticated, as text."""
        return self._fernet.encrypt(clear.encode()).decode("ascii")

    def open(self, sealed: str) -> str | None:
        """
        @return: the secret C{sealed} holds; L{None} when it was sealed
            under another session secret, or altered.
        """
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            return None


@attrs.frozen
class Delivery:
    """
    A webhook delivery, as it arrived.

    @ivar host: the host whose endpoint it came to.
    @ivar headers: its headers, by lower-case name.
    @ivar body: its body, exactly as received.
    @ivar payload: the body decoded.
    """

    host: Host
    headers: Mapping[str, str]
    body: bytes
    payload: object


class PushGate:
    """Checks every delivery with the secret it must carry."""

    def __init__(
        self,
        store: Store,
        box: SecretBox,
        sites: Mapping[Host, str],
        open_repositories: bool = False,
        site_secret: str | None = None,
    ) -> None:
        """
        @param box: opens the repositories' secrets.
        @param sites: where each host's repositories live
            (L{julytwisted.hosts.repository_sites}).
        @param open_repositories: accept repositories nobody added, checked
            with C{site_secret} (unsigned when it is L{None}).
        """
        self._store = store
        self._box = box
        self._sites = dict(sites)
        self._open = open_repositories
        self._site_secret = site_secret

    @property
    def open(self) -> bool:
        """Whether repositories nobody added are taken (an open event)."""
        return self._open

    async def check(self, delivery: Delivery, add_url: str) -> RepositoryRef | None:
        """
        Check a delivery's signature with the secret its repository must
        carry.

        @param add_url: where players add repositories, for the refusal.
        @return: the repository it names; L{None} in an open event for a
            payload that names none (such as an organisation's C{ping}).
        @raise Forbidden: for a repository nobody added (unless the event is
            open), or one whose id is not the one it was added with.
        @raise BadSignature: for a signature its secret does not make.
        @raise InvalidPayload: for a payload naming a repository that is not
            on the host's site, or (unless the event is open) naming none.
        """
        host = delivery.host
        try:
            site = self._sites.get(host)
            ref = repository_of(host, delivery.payload, [site] if site else [])
        except InvalidPayload:
            if not self._open:
                raise
            self._check_site(delivery)
            if hooks.names_repository(delivery.payload):
                # Open or not, a repository lives on its endpoint's site.
                raise
            return None
        found = await self._store.repositories.lookup(ref)
        live = found is not None and not found.lapsed(self._store.now())
        if live and found and await self._check_own(found, ref, delivery):
            return ref
        if not self._open:
            raise Forbidden(
                f"{ref.url} is not added here: its owner adds it at {add_url} "
                "and points its webhook at this address with the secret given there"
            )
        self._check_site(delivery)
        return ref

    def _check_site(self, delivery: Delivery) -> None:
        if self._site_secret:
            _verify(delivery, self._site_secret)

    async def _check_own(
        self, found: Registration, ref: RepositoryRef, delivery: Delivery
    ) -> bool:
        """
        @return: whether the registration's secret signed the delivery;
            L{False} for one still unproven in an open event, which holds
            nothing until a push proves it.
        """
        secret = self._box.open(found.secret)
        if secret is None:
            raise BadSignature(
                f"the secret of {found.url} cannot be read since this site's "
                "session secret changed: its owner removes it and adds it again"
            )
        if found.id and ref.id and found.id != ref.id:
            raise Forbidden(
                f"{ref.url} was added here as another repository of that name: "
                "its owner removes it and adds it again"
            )
        try:
            _verify(delivery, secret)
        except BadSignature:
            if not found.proof and self._open:
                return False
            raise
        if not found.proof or (ref.id and not found.id):
            await self._store.repositories.bind(found, ref.id)
        return True


def _verify(delivery: Delivery, secret: str) -> None:
    hooks.verify(delivery.host, secret, delivery.headers, delivery.body)


__all__ = ["SECRET_BYTES", "Delivery", "PushGate", "SecretBox"]
