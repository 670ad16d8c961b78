# -*- test-case-name: tests.pages.test_accounts -*-
"""
The account use cases every door shares (JSON-RPC, the web pages): making
an account, adding a commit e-mail, moving a player between groups.
"""

from __future__ import annotations

from typing import Any

from julytwisted.auth.authenticator import RunInThread
from julytwisted.auth.passwords import check_strength, hash_password
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


__all__ = ["add_commit_email", "move_player", "sign_up"]
