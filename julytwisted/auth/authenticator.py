# -*- test-case-name: tests.auth.test_authenticator,tests.test_methods -*-
"""
Who is asking: turns the credentials of a request (the admin token, a
player's API token, a username and password) into a L{Principal}, at every
door: JSON-RPC, uploads, the sign-in form, the admin token on REST and on the
admin pages.

Every check draws on the one budget of failed credentials per client address
and per username (L{FailureBudget}), shared by every node: past it, the
attempt is refused with L{RateLimited} (429) before the credentials are even
looked at, so a guess costs no scrypt.  Passwords are checked in the
L{PasswordHasher}'s own pool, and an unknown username against its dummy
hash, so the answer takes as long whether the player exists or not.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

import attrs
from twisted.web.iweb import IRequest

from julytwisted import rpc
from julytwisted.auth.hashing import PasswordHasher
from julytwisted.errors import Forbidden
from julytwisted.store import Store
from julytwisted.store.failures import FailureBudget
from julytwisted.store.ratelimit import RateLimiter

#: Finds a request's client address (L{julytwisted.store.ratelimit.ClientAddress}).
Address = Callable[[IRequest], str]


@attrs.frozen
class Principal:
    """
    Who is calling: a player, the admin token, or both (an admin player).

    @ivar username: the player, or L{None} for the bare admin token.
    @ivar admin: whether the caller may use C{admin.} methods.
    """

    username: str | None
    admin: bool = False

    @property
    def limit_key(self) -> str:
        """
        How rate limits count this principal's requests: C{user:NAME}, or
        C{admin}; never read as a client address.
        """
        return "admin" if self.username is None else f"user:{self.username}"


class Authenticator:
    """
    Turns credentials into a L{Principal}: the admin token, a player's API
    token, or a player's username and password; each check guarded by the
    failure budget.
    """

    def __init__(
        self,
        store: Store,
        admin_token: str | None,
        hasher: PasswordHasher,
        budget: FailureBudget,
        address: Address,
    ) -> None:
        """
        @param admin_token: the admin token, or L{None} when there is none.
        @param hasher: checks passwords off the reactor.
        @param budget: the failed credentials each address and username may
            still spend.
        @param address: finds a request's client address.
        """
        self._store = store
        self._admin_token = admin_token
        self._hasher = hasher
        self._budget = budget
        self.address = address

    async def __call__(
        self, request: IRequest, credentials: rpc.Credentials
    ) -> Principal | None:
        """
        The C{authenticate} of L{rpc.JSONRPCResource}.

        @return: who the credentials name, or L{None} when they are wrong.
        @raise RateLimited: when the budget is spent, before any check, or
            by this failure.
        @raise Overloaded: when too many password checks wait already.
        """
        if credentials.scheme == "bearer":
            return await self.bearer(request, credentials.token or "")
        if credentials.username is None or credentials.password is None:
            return None
        username = credentials.username.lower()
        ok = await self.check_password(request, username, credentials.password)
        return Principal(username) if ok else None

    async def player(self, request: IRequest) -> str | None:
        """
        The player a request's C{Authorization} header names, by API token or
        username and password: for resources outside JSON-RPC, such as
        uploads.

        @return: the username, or L{None} without credentials or with wrong
            ones.
        @raise Forbidden: for the admin token, which names no player.
        @raise RateLimited: when the budget is spent.
        """
        credentials = rpc.header_credentials(request)
        if credentials is None:
            return None
        principal = await self(request, credentials)
        if principal is None:
            return None
        if principal.username is None:
            raise Forbidden("this is for players; the admin token names none")
        return principal.username

    async def check_password(
        self, request: IRequest, username: str, password: str
    ) -> bool:
        """
        @return: whether C{password} is the player's; checked off the
            reactor, as slowly for a username nobody has.
        @raise RateLimited: when the budget of the request's address or of
            C{username} is spent, before any check, or by this failure.
        @raise Overloaded: when too many password checks wait already.
        """
        address = self.address(request)
        username = username.lower()
        await self._budget.check(address, username)
        stored = await self._store.password_hash(username)
        if await self._hasher.verify(password, stored, address):
            return True
        await self._budget.spend(address, username)
        return False

    async def check_admin_token(self, request: IRequest, given: str) -> bool:
        """
        @return: whether C{given} is the admin token (never, without one).
        @raise RateLimited: when the budget of the request's address is
            spent, before any check, or by this failure.
        """
        address = self.address(request)
        await self._budget.check(address)
        if self._is_admin_token(given):
            return True
        await self._budget.spend(address)
        return False

    async def bearer(self, request: IRequest, token: str) -> Principal | None:
        """
        @return: the admin, or the player whose API token C{token} is, or
            L{None}.
        @raise RateLimited: when the budget of the request's address is
            spent, before any check, or by this failure.
        """
        address = self.address(request)
        await self._budget.check(address)
        if self._is_admin_token(token):
            return Principal(None, admin=True)
        owner = await self._store.token_owner(token) if token else None
        if owner is not None:
            return Principal(owner)
        await self._budget.spend(address)
        return None

    def _is_admin_token(self, given: str) -> bool:
        if not self._admin_token:
            return False
        return hmac.compare_digest(
            given.encode("utf-8"), self._admin_token.encode("utf-8")
        )


def limit_by_principal(
    limiter: RateLimiter, name: str
) -> Callable[[IRequest, object], Awaitable[float | None]]:
    """
    @return: the C{admit} of L{rpc.JSONRPCResource}: counts each request
        against the limit C{name} per principal when its C{Authorization}
        header proved one, else per client address, so that credentials that
        prove nothing buy no allowance of their own.
    """

    async def admit(request: IRequest, user: object) -> float | None:
        principal = user.limit_key if isinstance(user, Principal) else None
        return await limiter.wait(name, request, principal)

    return admit


__all__ = ["Address", "Authenticator", "Principal", "limit_by_principal"]
