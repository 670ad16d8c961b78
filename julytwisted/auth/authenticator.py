# -*- test-case-name: tests.test_methods -*-
"""
Who is asking: turns the credentials of a request (the admin token, a
player's API token, a username and password) into a L{Principal}.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
from twisted.web.iweb import IRequest

from julytwisted import rpc
from julytwisted.auth.passwords import verify_password
from julytwisted.errors import (
    Forbidden,
)
from julytwisted.store import Store

_T = TypeVar("_T")

#: Runs a blocking function off the reactor (password hashing).
RunInThread = Callable[[Callable[[], _T]], Awaitable[_T]]


@attrs.frozen
class Principal:
    """
    Who is calling: a player, the admin token, or both (an admin player).

    @ivar username: the player, or L{None} for the bare admin token.
    @ivar admin: whether the caller may use C{admin.} methods.
    """

    username: str | None
    admin: bool = False


class Authenticator:
    """
    Turns credentials into a L{Principal}: the admin token, a player's API
    token, or a player's username and password.
    """

    def __init__(
        self, store: Store, admin_token: str | None, run_in_thread: RunInThread[Any]
    ) -> None:
        self._store = store
        self._admin_token = admin_token
        self._run_in_thread = run_in_thread

    async def __call__(
        self, request: object, credentials: rpc.Credentials
    ) -> Principal | None:
        """@return: who the credentials name, or L{None} when they are wrong."""
        if credentials.scheme == "bearer":
            return await self._bearer(credentials.token or "")
        if credentials.username is None or credentials.password is None:
            return None
        username = credentials.username.lower()
        ok = await self.check_password(username, credentials.password)
        return Principal(username) if ok else None

    async def player(self, request: IRequest) -> str | None:
        """
        The player a request's C{Authorization} header names, by API token or
        username and password: for resources outside JSON-RPC, such as
        uploads.

        @return: the username, or L{None} without credentials or with wrong
            ones.
        @raise Forbidden: for the admin token, which names no player.
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

    async def check_password(self, username: str, password: str) -> bool:
        """@return: whether C{password} is the player's; hashed off the reactor."""
        stored = await self._store.password_hash(username.lower())
        if stored is None:
            return False
        return bool(
            await self._run_in_thread(lambda: verify_password(password, stored))
        )

    async def _bearer(self, token: str) -> Principal | None:
        if self._admin_token and hmac.compare_digest(
            token.encode(), self._admin_token.encode()
        ):
            return Principal(None, admin=True)
        owner = await self._store.token_owner(token)
        return None if owner is None else Principal(owner)


__all__ = ["Authenticator", "Principal", "RunInThread"]
