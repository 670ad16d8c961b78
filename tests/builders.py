"""
Builders of test data: pushes as the store takes them and webhook bodies as
GitHub sends them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from julytwisted.game.days import offset_minutes
from julytwisted.game.events import CommitEvent, FileChange, ProjectInfo, Push
from julytwisted.game.hooks import repository
from julytwisted.store import IngestResult, Store

#: A moment inside Julython 2026.
IN_JULY = datetime(2026, 7, 10, 9, 30, tzinfo=UTC)


def sha(seed: str) -> str:
    """@return: a 40-character commit hash made from C{seed}."""
    return hashlib.sha1(seed.encode()).hexdigest()


def commit(
    seed: str,
    email: str = "ada@example.com",
    when: datetime = IN_JULY,
    message: str | None = None,
    files: tuple[str, ...] = ("main.py",),
) -> CommitEvent:
    """
    A commit whose hash comes from C{seed}, made at C{when}: its push gives
    C{when}'s own UTC offset, as a payload written in that offset would.
    """
    return CommitEvent(
        hash=sha(seed),
        author_name="Ada",
        author_email=email,
        message=message if message is not None else f"commit {seed}",
        timestamp=when,
        url=f"https://github.com/ada/engine/commit/{sha(seed)}",
        files=tuple(
            FileChange(path, "added", "Python" if path.endswith(".py") else None)
            for path in files
        ),
        utc_offset=offset_minutes(when),
    )


def repository_id(owner: str, name: str) -> int:
    """@return: the GitHub id of the repository C{owner/name}, always the same."""
    return int(hashlib.sha1(f"{owner}/{name}".encode()).hexdigest()[:8], 16)


def project(owner: str = "ada", name: str = "engine") -> ProjectInfo:
    """A GitHub project, as a push with its repository's id names it."""
    return ProjectInfo(
        service="github",
        slug=f"gh-{owner}-{name}",
        name=name,
        url=f"https://github.com/{owner}/{name}",
        host_id=str(repository_id(owner, name)),
    )


def push(*commits: CommitEvent, proj: ProjectInfo | None = None) -> Push:
    """A push of C{commits} to C{proj} (ada/engine by default)."""
    return Push(project=proj or project(), commits=commits, ref="refs/heads/main")


def ingest(
    store: Store, pushed: Push, arrived: datetime | None = None
) -> Coroutine[Any, Any, IngestResult]:
    """
    Ingest C{pushed} into C{store} as the webhook endpoints do: its
    repository as it names it, arrived at C{arrived} (the store's now by
    default).
    """
    return store.ingest(repository(pushed), pushed, arrived or store.now())


def github_payload(
    *seeds: str,
    email: str = "ada@example.com",
    when: datetime = IN_JULY,
    owner: str = "ada",
    name: str = "engine",
    message: str | None = None,
) -> dict[str, Any]:
    """A GitHub push payload, current format, with a commit per seed."""
    commits = [
        {
            "id": sha(seed),
            "distinct": True,
            "message": message if message is not None else f"commit {seed}",
            "timestamp": (when + timedelta(seconds=i)).isoformat(),
            "url": f"https://github.com/{owner}/{name}/commit/{sha(seed)}",
            "author": {"name": "Ada", "email": email, "username": owner},
            "committer": {"name": "Ada", "email": email, "username": owner},
            "added": ["main.py"],
            "removed": [],
            "modified": ["README.md"],
        }
        for i, seed in enumerate(seeds)
    ]
    return {
        "ref": "refs/heads/main",
        "before": "0" * 39 + "1",
        "after": commits[-1]["id"] if commits else "0" * 40,
        "created": False,
        "deleted": False,
        "forced": False,
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
        "repository": {
            "id": repository_id(owner, name),
            "name": name,
            "full_name": f"{owner}/{name}",
            "html_url": f"https://github.com/{owner}/{name}",
            "url": f"https://github.com/{owner}/{name}",
            "description": "an engine",
            "fork": False,
            "watchers_count": 3,
            "stargazers_count": 3,
            "forks_count": 1,
            "owner": {"login": owner, "name": owner, "email": email},
        },
        "pusher": {"name": owner, "email": email},
    }


def body(payload: dict[str, Any]) -> bytes:
    """@return: the payload as a JSON body."""
    return json.dumps(payload).encode()


#: A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)

#: The boundary of L{multipart} bodies.
BOUNDARY = "julython-test-boundary"


def multipart(
    files: list[tuple[str, str | None, bytes]],
    fields: dict[str, str] | None = None,
    boundary: str = BOUNDARY,
) -> bytes:
    """
    A C{multipart/form-data} body: the C{fields} first, then one part named
    C{file} per C{(filename, declared content type or None, content)}.
    """
    out = []
    for name, value in (fields or {}).items():
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for filename, content_type, content in files:
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="{filename}"\r\n'
        )
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        out.append(head.encode() + b"\r\n" + content + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)
