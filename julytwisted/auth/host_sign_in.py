# -*- test-case-name: tests.auth.test_host_sign_in,tests.pages.test_oauth -*-
"""
What signing in with a code host does, once the host has said whose account
it is and which of its e-mails it has verified:

 1. the host account, already linked to a player, signs that player in;
 2. else a verified e-mail that already belongs to a player signs that
    player in and links the host account;
 3. else a new player is made, named after the host login (C{login-2},
    C{login-3}... when taken), with those e-mails.

The host's verified e-mails are the player's at once (L{grant_verified_emails},
the one place this module writes e-mails), and their orphan commits are
adopted the moment they are.  Unverified e-mails never reach here: the
host's L{Account} holds verified ones only.  A signed-in player may link
another host account: the same flow, with that player as the target.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable

import attrs

from julytwisted.auth.host_tokens import TokenBox
from julytwisted.errors import Conflict
from julytwisted.hosts import Account, Token
from julytwisted.jobs.product import queue_adoption
from julytwisted.jobs.queue import Queue
from julytwisted.store import Store

#: Room kept under the 39 characters of a username for a C{-NN} suffix.
_STEM = 35
#: Tries of C{login-N} before giving up on a name.
_SUFFIXES = 50
_NOT_NAME = re.compile(r"[^a-z0-9._-]+")


@attrs.frozen
class HostSignIn:
    """
    How a host sign-in ended.

    @ivar username: the player signed in (or linking).
    @ivar created: whether that player was made by this sign-in.
    @ivar emails: the verified e-mails granted to them by it.
    """

    username: str
    created: bool
    emails: tuple[str, ...]


async def grant_verified_emails(
    store: Store, queue: Queue, username: str, emails: Iterable[str]
) -> tuple[str, ...]:
    """
    Give a player e-mails a code host has verified, verified at once, and
    adopt each one's orphan commits now.  This is the one place host sign-in
    writes e-mails.  An address another player has is left with them.

    @return: the addresses that became (or already were) the player's.
    """
    granted = []
    for email in emails:
        try:
            await store.add_email(username, email)
        except Conflict:
            continue
        await queue_adoption(queue, email, username)
        granted.append(email)
    return tuple(granted)


def username_stem(login: str) -> str:
    """
    @return: a username made of a host login: lower-cased, other characters
        turned into C{-}, short enough for a suffix; C{"player"} if nothing
        is left.
    """
    stem = _NOT_NAME.sub("-", login.strip().lower()).strip("-._")[:_STEM]
    return stem.strip("-._") or "player"


async def _new_player(store: Store, account: Account) -> str:
    """
    Make a player named after the account's login, or the first free
    C{login-N}.

    @raise Conflict: when none of those names is free.
    """
    stem = username_stem(account.login)
    names = [stem, *(f"{stem}-{n}" for n in range(2, _SUFFIXES + 2))]
    for username in names:
        try:
            await store.create_player(username, account.name or account.login, [])
        except Conflict:
            continue
        return username
    raise Conflict(f"the names {stem}, {stem}-2... are all taken")


async def _player_for(
    store: Store, account: Account, target: str | None
) -> tuple[str | None, bool]:
    """
    @return: who the account signs in without making anyone, and whether
        it is linked to them already.
    @raise Conflict: when linking to C{target} an account another player
        has.
    """
    owner = await store.host_accounts.owner(account.provider, account.id)
    if target is not None:
        if owner is not None and owner != target:
            raise Conflict(
                "that account is linked to another player; sign in with it to use it"
            )
        return target, owner == target
    if owner is not None:
        return owner, True
    for email in account.emails:
        found = await store.email_owner(email)
        if found is not None:
            return found, False
    return None, False


async def sign_in_with_host(
    store: Store,
    queue: Queue,
    box: TokenBox,
    account: Account,
    token: Token,
    admit_new: Callable[[], Awaitable[None]],
    target: str | None = None,
) -> HostSignIn:
    """
    Sign in (or link) with a host account the host has vouched for.

    @param account: the account, with its verified e-mails only.
    @param token: its token, kept encrypted for the player's repositories.
    @param admit_new: called before a new player is made: the sign-up limit.
    @param target: the signed-in player linking this account, if any.
    @raise Conflict: when linking an account another player has.
    @raise RateLimited: when C{admit_new} refuses a new player.
    """
    username, linked = await _player_for(store, account, target)
    created = username is None
    if username is None:
        await admit_new()
        username = await _new_player(store, account)
    if not linked:
        owner = await store.host_accounts.link(
            username, account.provider, account.id, account.login
        )
        if owner != username:
            # Linked by another sign-in between our read and this write.
            username, created = owner, False
    emails = await grant_verified_emails(store, queue, username, account.emails)
    await store.host_accounts.keep_token(username, account.provider, box.seal(token))
    return HostSignIn(username, created, emails)


__all__ = [
    "HostSignIn",
    "grant_verified_emails",
    "sign_in_with_host",
    "username_stem",
]
