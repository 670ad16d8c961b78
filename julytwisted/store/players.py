# -*- test-case-name: tests.store.test_store_members -*-
"""
Players and their commit e-mails: making a player, naming them, choosing
their time zone, verifying e-mails (an admin's vouching, a confirmed link)
and removing them, and adopting the orphan commits an e-mail made before a
player owned it.
Pending claims and their links are L{julytwisted.store.emails}'.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from julytwisted.errors import Conflict, InvalidLink, NotFound
from julytwisted.game.days import valid_time_zone
from julytwisted.models import Player
from julytwisted.redis_service import RedisClient, all_of
from julytwisted.store import _keys
from julytwisted.store._models import (
    group_request,
    iso,
    valid_email,
    valid_name,
    valid_username,
)
from julytwisted.store._scripts import POINTS, script
from julytwisted.store.boards import Boards, set_if_exists
from julytwisted.store.games import Games

_CREATE_PLAYER = script("create_player.lua", emails=True)
_ADD_EMAIL = script("add_email.lua", emails=True)
_REMOVE_EMAIL = script("remove_email.lua", emails=True)
_ADOPT = script("adopt.lua", scoring=True)


class Players:
    """
    Players, their names and their commit e-mails.
    """

    def __init__(self, redis: RedisClient, games: Games, boards: Boards) -> None:
        """
        @param boards: reads back a player just made.
        """
        self._redis = redis
        self._games = games
        self._boards = boards

    async def create_player(
        self,
        username: str,
        name: str,
        emails: Sequence[str],
        location: str | None = None,
        team: str | None = None,
        approve_team: bool = False,
        password_hash: str = "",
        claims: Sequence[str] = (),
    ) -> Player:
        """
        Create a player.

        @param username: 1 to 39 letters, digits, C{.}, C{_} or C{-}; stored
            lower-cased.
        @param emails: commit e-mails an admin vouches for: verified at once.
        @param claims: commit e-mails the player typed: pending until
            confirmed (L{confirm_email}), scoring nothing meanwhile.
        @param location: a location's name, created when new.
        @param team: a team's name, created when new (unapproved unless
            C{approve_team}; an existing team keeps its approval, which
            L{julytwisted.store.groups.Groups.approve_team} changes).
        @param password_hash: the player's password as
            L{julytwisted.auth.passwords} hashes it, or empty for none.
        @return: the player.
        @raise InvalidInput: for a malformed username, e-mail or name.
        @raise Conflict: when the username, or a verified e-mail, is taken
            (a claim never is).
        """
        username = valid_username(username)
        request = {
            "username": username,
            "name": valid_name(name or username, "name"),
            "emails": sorted({valid_email(e) for e in emails}),
            "claims": sorted({valid_email(e) for e in claims}),
            "location": group_request(location, "location"),
            "team": group_request(team, "team"),
            "approve_team": approve_team,
            "now": iso(self._games.now()),
            "password": password_hash,
        }
        result = json.loads(
            await self._redis.run(_CREATE_PLAYER, args=(json.dumps(request),))
        )
        if result["status"] == "conflict":
            raise Conflict(f"{result['field']} {result['value']!r} is taken")
        return await self._boards.player(username)

    async def set_player_name(self, username: str, name: str) -> None:
        """
        Change a player's display name.

        @raise InvalidInput: for an empty or overlong name.
        @raise NotFound: when there is no such player.
        """
        found = await set_if_exists(
            self._redis,
            _keys.player(username.lower()),
            "name",
            valid_name(name, "name"),
        )
        if not found:
            raise NotFound(f"no player {username!r}")

    async def set_time_zone(self, username: str, zone: str | None) -> None:
        """
        Choose the time zone a player's days follow: their streaks, their
        calendar and their daily badges, which are computed on read from
        their commits, so every day is re-bucketed at once.

        @param zone: an IANA name, any case (stored as the database spells
            it); L{None} or empty: each commit's own UTC offset again.
        @raise InvalidInput: for a name that is no time zone; the zone the
            player had stays.
        @raise NotFound: when there is no such player.
        """
        chosen = valid_time_zone(zone) if zone else ""
        found = await set_if_exists(
            self._redis, _keys.player(username.lower()), "time_zone", chosen
        )
        if not found:
            raise NotFound(f"no player {username!r}")

    async def emails(self, username: str) -> list[str]:
        """
        @return: a player's commit e-mails, verified and pending, sorted
            (L{julytwisted.store.emails.Emails.pending_emails} tells which
            are pending).
        """
        username = username.lower()
        verified, pending = await all_of(
            [
                self._redis.execute("SMEMBERS", _keys.player_verified(username)),
                self._redis.execute("HKEYS", _keys.player_pending(username)),
            ]
        )
        return sorted({*verified, *pending})

    async def add_email(self, username: str, email: str) -> int:
        """
        Give a player another verified commit e-mail: an admin vouches for
        it.  Every pending claim of it ends, the player's own too.

        @return: how many orphan commits wait for that e-mail (see
            L{adopt_orphans}).
        @raise Conflict: when another player has it verified.
        @raise NotFound: when there is no such player.
        """
        return await self._verify(username, email, "")

    async def confirm_email(self, username: str, email: str, nonce: str) -> int:
        """
        Verify a player's pending claim of an e-mail through the link mailed
        for it: the link names the claim's latest C{nonce}, and works once.
        Every other claim of the e-mail ends.

        @return: how many orphan commits wait for that e-mail.
        @raise InvalidLink: when the claim is gone (withdrawn, confirmed
            already, ended by another's verifying) or a later link was made.
        @raise Conflict: when another player has it verified.
        @raise NotFound: when there is no such player.
        """
        if not nonce:
            raise InvalidLink()
        return await self._verify(username, email, nonce)

    async def _verify(self, username: str, email: str, nonce: str) -> int:
        request = {
            "username": username.lower(),
            "email": valid_email(email),
            "nonce": nonce,
        }
        result = json.loads(
            await self._redis.run(_ADD_EMAIL, args=(json.dumps(request),))
        )
        status = result["status"]
        if status == "missing":
            raise NotFound(f"no player {username!r}")
        if status == "stale":
            raise InvalidLink()
        if status == "taken":
            raise Conflict(f"email {request['email']!r} is taken")
        return int(result["orphans"])

    async def email_owner(self, email: str) -> str | None:
        """@return: the player who has a commit e-mail, if anyone."""
        found = await self._redis.execute("GET", _keys.email(email.strip().lower()))
        return found or None

    async def remove_email(self, username: str, email: str) -> None:
        """
        Take a commit e-mail off a player, verified or pending.  What a
        verified one scored stays scored; its later commits are orphans until
        someone verifies it.  A pending one's link stops working.

        @raise NotFound: when the player does not have that e-mail.
        @raise Conflict: when it is their last one.
        """
        request = {"username": username.lower(), "email": valid_email(email)}
        status = await self._redis.run(_REMOVE_EMAIL, args=(json.dumps(request),))
        if status == "missing":
            raise NotFound(f"{request['email']!r} is not one of your e-mails")
        if status == "last":
            raise Conflict("that is your only e-mail: add another first")

    async def adopt_orphans(self, email: str) -> int:
        """
        Score the orphan commits of an e-mail for the player who has it
        verified now (a pending claim adopts nothing).  Idempotent: a commit
        is adopted once however often this runs.

        @return: how many commits were adopted.
        """
        request = {"email": valid_email(email), **POINTS}
        result = json.loads(await self._redis.run(_ADOPT, args=(json.dumps(request),)))
        return int(result["adopted"])

    async def adopt_all_orphans(self, batch: int = 500) -> dict[str, int]:
        """
        The sweep behind L{adopt_orphans}: adopt the orphans of every e-mail
        a player has verified now, in case the job queued when it was added never
        ran.  Reads the orphan sets with C{SCAN}, so Redis is never held
        for long.

        @return: C{{"emails": owned e-mails seen, "adopted": commits}}.
        """
        emails = adopted = 0
        cursor = "0"
        prefix = _keys.orphans("")
        while True:
            cursor, keys = await self._redis.execute(
                "SCAN", cursor, "MATCH", _keys.ORPHANS_PATTERN, "COUNT", batch
            )
            for key in keys:
                email = key.removeprefix(prefix)
                if await self._redis.execute("EXISTS", _keys.email(email)):
                    emails += 1
                    adopted += await self.adopt_orphans(email)
            if cursor == "0":
                return {"emails": emails, "adopted": adopted}


__all__ = ["Players"]
