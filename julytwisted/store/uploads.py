# -*- test-case-name: tests.upload.test_upload -*-
"""
What the store knows of uploaded files: each file's facts once, who sent it,
a player's quota and a project's screenshots.  The bytes themselves are
L{julytwisted.upload}'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from julytwisted.errors import NotFound, PayloadTooLarge
from julytwisted.models import FileInfo, NewFile, UploadedFile, to_json
from julytwisted.redis_service import RedisClient
from julytwisted.store import _keys
from julytwisted.store._models import hash_reply, iso
from julytwisted.store._scripts import script
from julytwisted.store.games import Games

#: Where stored files are served; a file's URL is this and its SHA-256.
FILES_URL = "/files/"

#: The most screenshots a project's detail lists, latest first.
MAX_SCREENSHOTS = 20

_RECORD_UPLOADS = script("record_uploads.lua")


class Uploads:
    """
    The records of uploaded files.
    """

    def __init__(self, redis: RedisClient, games: Games) -> None:
        self._redis = redis
        self._games = games

    async def record_uploads(
        self, username: str, files: Sequence[NewFile], quota: int
    ) -> list[UploadedFile]:
        """
        Record the files of one upload: each file's facts once, who sent it,
        as what and when; an avatar becomes the player's C{picture_url}, a
        screenshot is listed on its project.  Atomic: all or nothing.

        @param files: the upload's files, one kind and project for all.
        @param quota: the bytes of distinct files the player may have.
        @return: each file, as the upload's answer lists it.
        @raise NotFound: when the project does not exist.
        @raise PayloadTooLarge: when the files would pass the quota.
        """
        request = {
            "username": username.lower(),
            "quota": quota,
            "now": iso(self._games.now()),
            "url_prefix": FILES_URL,
            "files": to_json(files),
        }
        result = json.loads(
            await self._redis.run(_RECORD_UPLOADS, args=(json.dumps(request),))
        )
        if result["status"] == "missing":
            raise NotFound(f"no {result['what']} {result['value']!r}")
        if result["status"] == "over_quota":
            raise PayloadTooLarge(
                f"over your upload quota of {quota} bytes: {result['used']} used, "
                f"{result['needed']} more needed"
            )
        return [
            UploadedFile(f.sha256, f.size, f.content_type, FILES_URL + f.sha256)
            for f in files
        ]

    async def upload_usage(self, username: str) -> int:
        """@return: the bytes of distinct files a player has uploaded."""
        used = await self._redis.execute(
            "GET", _keys.player_upload_bytes(username.lower())
        )
        return int(used or 0)

    async def file_info(self, sha256: str) -> FileInfo:
        """
        @return: a stored file's facts.
        @raise NotFound: when no upload recorded it.
        """
        fields = hash_reply(await self._redis.execute("HGETALL", _keys.file(sha256)))
        if not fields:
            raise NotFound(f"no file {sha256!r}")
        return FileInfo(
            sha256=fields["sha256"],
            size=int(fields["size"]),
            content_type=fields["content_type"],
            url=FILES_URL + fields["sha256"],
            created=fields["created"],
        )

    async def screenshots(self, project: str) -> list[str]:
        """@return: the URLs of a project's latest screenshots, latest first."""
        found = await self._redis.execute(
            "ZREVRANGE", _keys.project_screenshots(project), 0, MAX_SCREENSHOTS - 1
        )
        return [FILES_URL + sha256 for sha256 in found]


__all__ = ["FILES_URL", "MAX_SCREENSHOTS", "Uploads"]
