# -*- test-case-name: tests.store.test_store_members -*-
"""
Locations and teams as groups of players: moving a player between them with
their points, the admins' approval of teams, and who the members are.
"""

from __future__ import annotations

import json

from julytwisted.errors import InvalidInput, NotFound
from julytwisted.models import GROUPS, Board, Page, Player, WaitingTeam
from julytwisted.redis_service import RedisClient
from julytwisted.store import _keys
from julytwisted.store._models import board_rows, group_request, player_record
from julytwisted.store._scripts import POINTS, script

_BOARD = script("board.lua")
_MOVE_MEMBER = script("move_member.lua", scoring=True)
_APPROVE_TEAM = script("approve_team.lua", scoring=True)


class Groups:
    """
    Who belongs to which location and team, and which teams may score.
    """

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def move_member(
        self, username: str, board: str, name: str | None, approve: bool = False
    ) -> list[str]:
        """
        Move a player to another location or team, or to none, taking their
        points along: both groups are recounted in every game the player has
        commits in.

        @param board: L{Board.LOCATIONS} or L{Board.TEAMS}.
        @param name: the new group's name (created when new), or L{None}.
        @param approve: approve a team created by this move.
        @return: the slugs of the games recounted.
        @raise NotFound: when there is no such player.
        """
        if board not in GROUPS:
            raise InvalidInput(f"players belong to locations or teams, not {board!r}")
        what = "location" if board == Board.LOCATIONS else "team"
        request = {
            "username": username.lower(),
            "board": board,
            "group": group_request(name, what),
            "approve": approve,
            **POINTS,
        }
        result = json.loads(
            await self._redis.run(_MOVE_MEMBER, args=(json.dumps(request),))
        )
        if result["status"] == "missing":
            raise NotFound(f"no player {username!r}")
        return sorted(result["games"] or [])

    def check_group_name(self, name: str | None, board: str) -> None:
        """
        @raise InvalidInput: when C{name} cannot name a location or team.
        """
        group_request(name, "location" if board == Board.LOCATIONS else "team")

    async def approve_team(self, slug: str, approved: bool = True) -> list[str]:
        """
        Approve or unapprove a team; it scores only while approved.

        @return: the slugs of the games its board entry was recounted in.
        @raise NotFound: when there is no such team.
        """
        request = {"slug": slug.lower(), "approved": approved, **POINTS}
        result = json.loads(
            await self._redis.run(_APPROVE_TEAM, args=(json.dumps(request),))
        )
        if result["status"] == "missing":
            raise NotFound(f"no team {slug!r}")
        return sorted(result["games"] or [])

    async def teams_waiting(self, limit: int = 100) -> list[WaitingTeam]:
        """
        Teams not approved yet, from the set the scripts that make, move to
        and approve teams keep (C{j:teams:waiting}).

        @return: up to C{limit} teams, sorted by slug.
        """
        found = await self._redis.execute(
            "SORT", _keys.TEAMS_WAITING, "ALPHA", "LIMIT", 0, limit,
            "GET", "#", "GET", _keys.TEAM_NAME_PATTERN,
        )  # fmt: skip
        pairs = zip(found[::2], found[1::2], strict=True)
        return [WaitingTeam(slug, name or slug) for slug, name in pairs]

    async def members(
        self, kind: str, slug: str, game: str, limit: int
    ) -> Page[Player]:
        """
        The members of a location or a team with their points in a game,
        most points first, then by username.

        @param kind: L{Board.LOCATIONS} or L{Board.TEAMS}.
        @param game: the game's slug.
        @param limit: the most members returned.
        @return: up to C{limit} members; its C{total} counts them all.
        """
        if kind not in GROUPS:
            raise NotFound(f"no board {kind!r} of groups")
        usernames = await self._redis.execute(
            "SMEMBERS", _keys.group_members(kind, slug.lower())
        )
        if not usernames:
            return Page((), None, 0)
        request = {
            "game": game,
            "board": Board.PEOPLE,
            "prefix": _keys.BOARD_PREFIXES[Board.PEOPLE],
            "members": sorted(usernames),
        }
        _, rows = board_rows(await self._redis.run(_BOARD, args=(json.dumps(request),)))
        players = sorted(map(player_record, rows), key=lambda p: -p.points)
        return Page(tuple(players[:limit]), None, len(players))


__all__ = ["Groups"]
