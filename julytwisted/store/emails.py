# -*- test-case-name: tests.store.test_store_emails -*-
"""
Pending e-mail claims: a player claims an e-mail they typed, which scores
nothing and blocks nobody until it is confirmed through a mailed link
(L{julytwisted.store.players.Players.confirm_email}).  Here: claiming, the
nonce each link carries, where a player's mail may go, and the start-up
migration of the e-mails claimed before they were verified.
"""

from __future__ import annotations

import json
import secrets

from julytwisted.errors import Conflict, NotFound
from julytwisted.models import EmailMigration
from julytwisted.redis_service import RedisClient, Script
from julytwisted.store import _keys
from julytwisted.store._models import valid_email, valid_username
from julytwisted.store._scripts import script

#: The pending claims one player may hold at once: each mails a stranger.
MAX_PENDING = 5

_CLAIM_EMAIL = script("claim_email.lua", emails=True)
_MIGRATE_EMAILS = script("migrate_emails.lua", scoring=True, emails=True)

# Give a claim a new nonce, only if the claim is still there.
_NEW_NONCE = Script(
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1",
    "claim_nonce",
)


class Emails:
    """
    Players' pending claims of e-mails, and their verified e-mails as the
    places their mail goes.
    """

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def pending_emails(self, username: str) -> list[str]:
        """@return: a player's pending e-mails, sorted."""
        found = await self._redis.execute(
            "HKEYS", _keys.player_pending(username.lower())
        )
        return sorted(found)

    async def verified_emails(self, username: str) -> list[str]:
        """@return: a player's verified e-mails, sorted."""
        found = await self._redis.execute(
            "SMEMBERS", _keys.player_verified(username.lower())
        )
        return sorted(found)

    async def claim_email(self, username: str, email: str) -> bool:
        """
        Claim a commit e-mail for a player: pending until confirmed.  Whether
        another player has it, verified or claimed, is neither told nor in
        the way.

        @return: whether it waits for confirmation (a link should be mailed);
            C{False} when it is the player's verified e-mail already.
        @raise InvalidInput: for a malformed e-mail.
        @raise Conflict: when the player holds L{MAX_PENDING} claims already.
        @raise NotFound: when there is no such player.
        """
        request = {
            "username": username.lower(),
            "email": valid_email(email),
            "most": MAX_PENDING,
        }
        status = await self._redis.run(_CLAIM_EMAIL, args=(json.dumps(request),))
        if status == "missing":
            raise NotFound(f"no player {username!r}")
        if status == "full":
            raise Conflict(
                f"you have {MAX_PENDING} e-mails waiting for confirmation: "
                "confirm or remove one first"
            )
        return bool(status != "verified")

    async def claim_nonce(self, username: str, email: str) -> str | None:
        """
        A new nonce for the link confirming a pending claim; the claim's
        earlier links stop working.

        @return: the nonce, or L{None} when the claim is gone.
        """
        nonce = secrets.token_urlsafe(16)
        made = await self._redis.run(
            _NEW_NONCE,
            keys=(_keys.player_pending(username.lower()),),
            args=(email.strip().lower(), nonce),
        )
        return nonce if made else None

    async def mail_to(self, login: str) -> tuple[str, list[str]] | None:
        """
        Where a player's mail may go (a password reset): their verified
        e-mails, never a pending one, which nobody has shown to be theirs.

        @param login: a username, or an e-mail (then only that one).
        @return: the username and the addresses, or L{None} when the login
            names no player with a verified e-mail.
        """
        login = login.strip().lower()
        if "@" in login:
            owner = await self._redis.execute("GET", _keys.email(login))
            return None if owner is None else (owner, [login])
        try:
            username = valid_username(login)
        except ValueError:
            return None
        addresses = await self.verified_emails(username)
        return (username, addresses) if addresses else None

    async def migrate_emails(self, batch: int = 500) -> EmailMigration:
        """
        Turn every player's e-mails kept before e-mails were verified into
        verified ones (a player an admin made) or pending claims (a player
        who signed up: typed, never verified), taking back the commits those
        scored (see C{lua/migrate_emails.lua}).  Idempotent, player by player
        atomic, and safe on several nodes at once.  Reads the players with
        C{SCAN}, so Redis is never held for long.

        @return: what changed; recount its games to take the points back.
        """
        players = pending = commits = 0
        games: dict[str, None] = {}
        cursor = "0"
        while True:
            cursor, keys = await self._redis.execute(
                "SCAN", cursor, "MATCH", _keys.LEGACY_EMAILS_PATTERN, "COUNT", batch
            )
            for key in keys:
                username = key.split(":")[2]
                result = json.loads(
                    await self._redis.run(_MIGRATE_EMAILS, args=(username,))
                )
                if result["status"] == "ok":
                    players += 1
                    pending += int(result["pending"])
                    commits += int(result["commits"])
                    games.update(dict.fromkeys(result["games"] or ()))
            if cursor == "0":
                return EmailMigration(players, pending, commits, tuple(sorted(games)))


__all__ = ["MAX_PENDING", "Emails"]
