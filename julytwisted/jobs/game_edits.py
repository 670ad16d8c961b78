# -*- test-case-name: tests.store.test_games_runtime,tests.web.test_games_runtime -*-
"""
The game edits every door shares (JSON-RPC, the admin pages): make a game,
change one, end one early.  A running game whose window or points changed
has its boards recounted by a job, so that every board scores as it now
says; a game that has not started holds no points, and needs none.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from julytwisted.errors import InvalidInput
from julytwisted.game.games import Game
from julytwisted.jobs.product import queue_recount
from julytwisted.jobs.queue import Queue
from julytwisted.models import GameDetail
from julytwisted.store import Store


@attrs.frozen
class GameSaved:
    """
    A game as a change left it.

    @ivar game: the game, with its log.
    @ivar recount: the id of the recount job queued, or L{None} for none.
    """

    game: GameDetail
    recount: str | None = None


async def create_game(
    store: Store,
    by: str,
    name: str,
    start: datetime,
    end: datetime,
    commit_points: int | None = None,
    first_bonus: int | None = None,
) -> GameSaved:
    """
    Make a game (L{julytwisted.store.games.Games.create}); the points left
    out are the built-in games'.
    """
    points = {
        k: v
        for k, v in (("commit_points", commit_points), ("first_bonus", first_bonus))
        if v is not None
    }
    try:
        game = Game(name, start, end, **points)
    except (TypeError, ValueError) as e:
        raise InvalidInput(str(e)) from None
    await store.games.create(game, by)
    return GameSaved(await store.games.detail(game.slug))


async def update_game(
    store: Store, queue: Queue, by: str, slug: str, **fields: object
) -> GameSaved:
    """
    Change a game's window or points (L{julytwisted.store.games.Games.update})
    and recount it when it was running.
    """
    old, _, changes = await store.games.update(slug, by, **fields)
    return await _saved(store, queue, old, bool(changes))


async def end_game(store: Store, queue: Queue, by: str, slug: str) -> GameSaved:
    """End a running game now, and recount it."""
    old, _, changes = await store.games.end(slug, by)
    return await _saved(store, queue, old, bool(changes))


async def _saved(store: Store, queue: Queue, old: Game, changed: bool) -> GameSaved:
    job = None
    if changed and old.start <= store.now():
        job = await queue_recount(queue, old.slug)
    return GameSaved(await store.games.detail(old.slug), job)


__all__ = ["GameSaved", "create_game", "end_game", "update_game"]
