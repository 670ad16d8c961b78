# -*- test-case-name: tests.pages.test_accounts -*-
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

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs

from julytwisted.auth.authenticator import RunInThread
from julytwisted.auth.links import CONFIRM_EMAIL, RESET_PASSWORD, SignedLinks
from julytwisted.auth.passwords import check_strength, hash_password
from julytwisted.errors import InvalidLink
from julytwisted.jobs.product import (
    queue_adoption,
    queue_confirmation,
    queue_move,
    queue_password_reset,
)
from julytwisted.jobs.queue import Queue
from julytwisted.models import Board, Player
from julytwisted.store import Store

#: Ends every session of a player (the sessions in Redis).
EndSessions = Callable[[str], Awaitable[None]]


async def no_sessions_to_end(username: str) -> None:
    """
    The L{EndSessions} of signed-cookie sessions, which nothing can end:
    until sessions live in Redis (issue 15), where C{end_sessions(username)}
    takes this one's place.
    """


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


async def sign_up(
    store: Store,
    run_in_thread: RunInThread[Any],
    username: str,
    password: str,
    email: str,
    name: str | None = None,
    mailing: Mailing | None = None,
) -> Player:
    """
    Make an account: check the password, hash it off the reactor, create the
    player with one pending commit e-mail, and mail its confirmation link.

    @return: the new player.
    @raise InvalidInput: for a weak password or a malformed field.
    @raise Conflict: when the username is taken (a claimed e-mail never is).
    """
    hashed = await run_in_thread(lambda: hash_password(check_strength(password)))
    player = await store.create_player(
        username, name or username, [], password_hash=hashed, claims=[email]
    )
    if mailing is not None:
        await mailing.confirmation(player.username, email.strip().lower())
    return player


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
    run_in_thread: RunInThread[Any],
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
    hashed = await run_in_thread(lambda: hash_password(check_strength(password)))
    await store.reset_password(fields["u"], fields["n"], hashed)
    # Issue 15: a reset ends the player's other sessions (the lead wires
    # end_sessions to the Redis sessions' end_sessions(username)).
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
    "claim_email",
    "confirm_email",
    "create_vouched_player",
    "move_player",
    "no_sessions_to_end",
    "read_confirmation",
    "read_reset",
    "reset_password",
    "sign_up",
    "vouch_for_email",
]
