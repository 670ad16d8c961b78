# -*- test-case-name: tests.pages.test_accounts,tests.pages.test_sessions -*-
"""
The account use cases every door shares (JSON-RPC, the web pages): making
an account, changing its password, adding a commit e-mail, moving a player
between groups.
"""

from __future__ import annotations

import math

from twisted.web.iweb import IRequest

from julytwisted.auth.hashing import PasswordHasher
from julytwisted.auth.sessions import Sessions
from julytwisted.errors import Conflict, RateLimited
from julytwisted.jobs.product import queue_adoption, queue_move
from julytwisted.jobs.queue import Queue
from julytwisted.models import Board, Player
from julytwisted.store import Store
from julytwisted.store.ratelimit import RateLimiter


class SignUps:
    """
    Making accounts, at every door that makes them: the sign-up form,
    C{julython.signup}, and (through L{admit}) a sign-in with a code host.
    They share one limit per client address (C{signup}), so that a script
    cannot make accounts by the thousand from one address, whichever door
    it uses.
    """

    def __init__(
        self, store: Store, hasher: PasswordHasher, limiter: RateLimiter
    ) -> None:
        """
        @param hasher: hashes the new password off the reactor.
        @param limiter: holds the C{signup} limit and finds client addresses.
        """
        self._store = store
        self.hasher = hasher
        self._limiter = limiter

    async def admit(self, request: IRequest) -> None:
        """
        Count an account about to be made for C{request}'s client address:
        every door that makes accounts calls this first.

        @raise RateLimited: when the address has made too many lately.
        """
        wait = await self._limiter.wait("signup", request)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            text = f"too many sign-ups from your address; retry in {seconds} s"
            raise RateLimited(wait, "signup", text)

    async def sign_up(
        self,
        request: IRequest,
        username: str,
        password: str,
        email: str,
        name: str | None = None,
    ) -> Player:
        """
        Make an account: count it against the address's limit, check the
        password, hash it in the hasher's pool, and create the player with
        one commit e-mail.

        An e-mail another player has already is not said to be taken, which
        would tell anyone which addresses are registered: the account is made
        all the same, without it.

        @return: the new player.
        @raise RateLimited: when the address has made too many accounts.
        @raise InvalidInput: for a weak password or a malformed field.
        @raise Conflict: when the username is taken.
        @raise Overloaded: when too many passwords wait to be hashed.
        """
        await self.admit(request)
        hashed = await self.hasher.hash(password, self._limiter.address(request))
        display = name or username
        try:
            return await self._store.create_player(
                username, display, [email], password_hash=hashed
            )
        except Conflict:
            # Without the e-mail, only a taken username conflicts still.
            return await self._store.create_player(
                username, display, [], password_hash=hashed
            )


async def change_password(
    store: Store,
    sessions: Sessions,
    hasher: PasswordHasher,
    username: str,
    password: str,
    keep: IRequest | None = None,
) -> int:
    """
    Give a player a new password and end their other sessions, so that
    whoever signed in with the old one is signed out.  The caller has
    checked that the player may (the current password, or a reset link).

    @param keep: the request whose session stays signed in (the one that
        changed the password), if any.
    @return: how many sessions ended.
    @raise InvalidInput: for a weak password; then nothing changes.
    """
    hashed = await hasher.hash(password, client=f"user:{username.lower()}")
    await store.set_password_hash(username, hashed)
    return await sessions.end_sessions(username, keep)


async def add_commit_email(
    store: Store, queue: Queue, username: str, email: str
) -> str:
    """
    Give a player another commit e-mail and queue the job that scores the
    commits already made with it.

    @return: the adopting job's id.
    """
    await store.add_email(username, email)
    return await queue_adoption(queue, email.strip().lower(), username)


async def move_player(
    store: Store, queue: Queue, username: str, board: Board, name: str | None
) -> str:
    """
    Move a player to another location or team (C{board}), or to none; a job
    moves their points along.

    @return: the moving job's id.
    @raise InvalidInput: for a name that cannot name a group.
    @raise NotFound: when there is no such player.
    """
    store.check_group_name(name, board)
    await store.player(username)
    return await queue_move(queue, username, board, name)


__all__ = ["SignUps", "add_commit_email", "change_password", "move_player"]
