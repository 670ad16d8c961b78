# -*- test-case-name: tests.pages.test_accounts,tests.pages.test_sessions -*-
"""
The account use cases every door shares (JSON-RPC, the web pages, the admin
API): making an account, claiming, confirming and vouching for commit
e-mails, resetting a password, moving a player between groups.

E-mails a player types are pending claims, confirmed through a mailed link
(L{Mailing}); e-mails an admin gives a player are vouched for, verified at
once.  Either way, the moment an e-mail becomes verified a job adopts the
commits already made with it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence

import attrs
from twisted.web.iweb import IRequest

from julytwisted.auth.hashing import PasswordHasher
from julytwisted.auth.links import CONFIRM_EMAIL, RESET_PASSWORD, SignedLinks
from julytwisted.auth.sessions import Sessions
from julytwisted.errors import InvalidLink, RateLimited
from julytwisted.jobs.product import (
    queue_adoption,
    queue_confirmation,
    queue_move,
    queue_password_reset,
)
from julytwisted.jobs.queue import Queue
from julytwisted.models import Board, Player
from julytwisted.store import Store
from julytwisted.store.ratelimit import RateLimiter

#: Ends every session of a player (L{Sessions.end_sessions}).
EndSessions = Callable[[str], Awaitable[object]]


@attrs.frozen
class Mailing:
    """
    Whether this site mails links (it has C{--smtp}), and the queue the mail
    jobs go to.  Without mail, typed e-mails stay pending until an admin
    vouches for them, and nobody can reset a password by mail.

    @ivar queue: where the mail jobs go.
    @ivar enabled: whether a relay sends them.
    """

    queue: Queue
    enabled: bool

    async def confirmation(self, username: str, email: str) -> str | None:
        """
        Queue the mail confirming a pending e-mail.

        @return: the job's id, or L{None} when this site mails nothing.
        """
        if not self.enabled:
            return None
        return await queue_confirmation(self.queue, username, email)

    async def password_reset(self, login: str) -> None:
        """
        Queue a reset link to the player a login names, if any.  Tells
        nothing: whether the login names a player is the job's to find out.
        """
        # No username or e-mail is longer (RFC 5321: 254 characters).
        if self.enabled and 0 < len(login.strip()) <= 254:
            await queue_password_reset(self.queue, login)


class SignUps:
    """
    Making accounts, at every door that makes them: the sign-up form,
    C{julython.signup}, and (through L{admit}) a sign-in with a code host.
    They share one limit per client address (C{signup}), so that a script
    cannot make accounts by the thousand from one address, whichever door
    it uses.
    """

    def __init__(
        self,
        store: Store,
        hasher: PasswordHasher,
        limiter: RateLimiter,
        mailing: Mailing | None = None,
    ) -> None:
        """
        @param hasher: hashes the new password off the reactor.
        @param limiter: holds the C{signup} limit and finds client addresses.
        @param mailing: mails the confirmation link of the typed e-mail.
        """
        self._store = store
        self.hasher = hasher
        self._limiter = limiter
        self._mailing = mailing

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
        one pending commit e-mail, whose confirmation link is mailed.

        A claimed e-mail is never taken (another player's claim or verified
        address does not stop this one's), so sign-up tells nobody which
        addresses are registered.

        @return: the new player.
        @raise RateLimited: when the address has made too many accounts.
        @raise InvalidInput: for a weak password or a malformed field.
        @raise Conflict: when the username is taken.
        @raise Overloaded: when too many passwords wait to be hashed.
        """
        await self.admit(request)
        hashed = await self.hasher.hash(password, self._limiter.address(request))
        player = await self._store.create_player(
            username, name or username, [], password_hash=hashed, claims=[email]
        )
        if self._mailing is not None:
            await self._mailing.confirmation(player.username, email.strip().lower())
        return player


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


async def claim_email(
    store: Store, mailing: Mailing, username: str, email: str
) -> str | None:
    """
    Claim a commit e-mail a player typed: pending, scoring nothing, until
    confirmed through the link mailed to it (again, for a pending one).

    @return: the mail job's id; L{None} when nothing is mailed (no relay,
        or the e-mail is the player's verified one already).
    """
    if not await store.claim_email(username, email):
        return None
    return await mailing.confirmation(username, email.strip().lower())


def _link(links: SignedLinks, purpose: str, token: str, names: str) -> dict[str, str]:
    """The fields of a link, which must name each of C{names}."""
    fields = links.read(purpose, token)
    if not set(names) <= fields.keys():
        raise InvalidLink()
    return fields


def read_confirmation(links: SignedLinks, token: str) -> tuple[str, str]:
    """
    @return: the username and the e-mail a confirmation link names.
    @raise InvalidLink: for a link not made here, changed, or expired.
    """
    fields = _link(links, CONFIRM_EMAIL, token, "uen")
    return fields["u"], fields["e"]


async def confirm_email(
    store: Store, queue: Queue, links: SignedLinks, token: str
) -> tuple[str, str]:
    """
    Confirm a pending e-mail through its link, once, and queue the adoption
    of the commits already made with it.

    @return: the username and the e-mail, now verified.
    @raise InvalidLink: for a link not made here, changed, expired, used,
        or not the claim's latest.
    @raise Conflict: when another player has the e-mail verified.
    """
    fields = _link(links, CONFIRM_EMAIL, token, "uen")
    username, email = fields["u"], fields["e"]
    await store.confirm_email(username, email, fields["n"])
    await queue_adoption(queue, email, username)
    return username, email


async def vouch_for_email(store: Store, queue: Queue, username: str, email: str) -> str:
    """
    Give a player a verified commit e-mail (an admin vouches for it) and
    queue the job that scores the commits already made with it.

    @return: the adopting job's id.
    @raise Conflict: when another player has it verified.
    """
    await store.add_email(username, email)
    return await queue_adoption(queue, email.strip().lower(), username.lower())


async def create_vouched_player(
    store: Store,
    queue: Queue,
    username: str,
    name: str | None,
    emails: Sequence[str],
    location: str | None = None,
    team: str | None = None,
) -> Player:
    """
    Make a player as an admin: their e-mails vouched for (adopted at once),
    a team named here approved.

    @raise Conflict: when the username or an e-mail is taken.
    """
    player = await store.create_player(
        username, name or username, emails, location, team, approve_team=True
    )
    for email in {e.strip().lower() for e in emails}:
        await queue_adoption(queue, email, player.username)
    return player


def read_reset(links: SignedLinks, token: str) -> str:
    """
    @return: the username a password reset link names.
    @raise InvalidLink: for a link not made here, changed, or expired.
    """
    return _link(links, RESET_PASSWORD, token, "un")["u"]


async def reset_password(
    store: Store,
    hasher: PasswordHasher,
    links: SignedLinks,
    token: str,
    password: str,
    end_sessions: EndSessions,
) -> str:
    """
    Set a new password through a reset link, once, and end the player's
    sessions everywhere.

    @return: the player's username.
    @raise InvalidLink: for a link not made here, changed, expired, used or
        not the player's latest.
    @raise InvalidInput: for a weak password (the link still works).
    """
    fields = _link(links, RESET_PASSWORD, token, "un")
    hashed = await hasher.hash(password, client=f"user:{fields['u']}")
    await store.reset_password(fields["u"], fields["n"], hashed)
    await end_sessions(fields["u"])
    return fields["u"]


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


__all__ = [
    "EndSessions",
    "Mailing",
    "SignUps",
    "change_password",
    "claim_email",
    "confirm_email",
    "create_vouched_player",
    "move_player",
    "read_confirmation",
    "read_reset",
    "reset_password",
    "vouch_for_email",
]
