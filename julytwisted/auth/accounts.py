# -*- test-case-name: tests.pages.test_accounts,tests.pages.test_sessions -*-
"""
The account use cases every door shares (JSON-RPC, the web pages): making
an account, changing its password, adding a commit e-mail, moving a player
between groups.
"""

from __future__ import annotations

from typing import Any

from twisted.web.iweb import IRequest

from julytwisted.auth.authenticator import RunInThread
from julytwisted.auth.passwords import check_strength, hash_password
from julytwisted.auth.sessions import Sessions
from julytwisted.jobs.product import queue_adoption, queue_move
from julytwisted.jobs.queue import Queue
from julytwisted.models import Board, Player
from julytwisted.store import Store


async def sign_up(
    store: Store,
    run_in_thread: RunInThread[Any],
    username: str,
    password: str,
    email: str,
    name: str | None = None,
) -> Player:
    """
    Make an account: check the password, hash it off the reactor, create the
    player with one commit e-mail.

    @return: the new player.
    @raise InvalidInput: for a weak password or a malformed field.
    @raise Conflict: when the username or the e-mail is taken.
    """
    hashed = await run_in_thread(lambda: hash_password(check_strength(password)))
    return await store.create_player(
        username, name or username, [email], password_hash=hashed
    )


async def change_password(
    store: Store,
    sessions: Sessions,
    run_in_thread: RunInThread[Any],
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
    hashed = await run_in_thread(lambda: hash_password(check_strength(password)))
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


__all__ = ["add_commit_email", "change_password", "move_player", "sign_up"]
