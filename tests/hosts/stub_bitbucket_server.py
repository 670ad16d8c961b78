"""
A stub of Bitbucket Data Center's REST API 1.0: a repository's commits
between two revisions (C{since}, exclusive; C{until}, inclusive), newest
first, in pages of C{values} with C{isLastPage} and C{nextPageStart}, as
the server documents them.  A public repository answers anyone; a private
one only a bearer token, else 401 with the server's C{errors} list; an
unknown revision is 404.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from tests.hosts.stub import (
    Asked,
    Commit,
    Issued,
    Reply,
    StubHost,
    StubRepository,
    User,
)

_USERS = {"ada@example.com": ("ada", "Ada Lovelace")}


class BitbucketServerStub(StubHost):
    """Bitbucket Data Center's commits, under C{/rest/api/1.0}."""

    provider = "bitbucket-server"
    authorize_path = "/rest/oauth2/latest/authorize"
    token_path = "/rest/oauth2/latest/token"
    api_prefix = "/rest/api/1.0"

    def api_routes(self) -> None:
        repo = "/projects/(?P<key>[^/]+)/repos/(?P<slug>[^/]+)"
        self.route("GET", f"{repo}/commits", self.commits)

    def add_token(self, access: str, login: str) -> None:
        """Hand out an HTTP access token of C{login}, as its owner makes one."""
        self.tokens[access] = Issued(User(login, login, login), (), None)

    # Shapes

    def person(self, commit: Commit) -> dict[str, Any]:
        """A commit's author: a linked user's account, else the name given."""
        linked = _USERS.get(commit.author_email)
        if linked is None:
            return {"name": commit.author_name, "emailAddress": commit.author_email}
        slug, name = linked
        return {
            "name": slug,
            "emailAddress": commit.author_email,
            "id": 3,
            "displayName": name,
            "active": True,
            "slug": slug,
            "type": "NORMAL",
        }

    def commit_shape(self, commit: Commit, parent: Commit | None) -> dict[str, Any]:
        millis = int(datetime.fromisoformat(commit.date).timestamp() * 1000)
        parents = [] if parent is None else [parent]
        return {
            "id": commit.sha,
            "displayId": commit.sha[:11],
            "author": self.person(commit),
            "authorTimestamp": millis,
            "committer": self.person(commit),
            "committerTimestamp": millis,
            "message": commit.message,
            "parents": [{"id": p.sha, "displayId": p.sha[:11]} for p in parents],
        }

    # The API

    def _error(self, status: int, message: str, exception: str) -> Reply:
        return Reply(
            status,
            {
                "errors": [
                    {"context": None, "message": message, "exceptionName": exception}
                ]
            },
        )

    def commits(self, asked: Asked, args: dict[str, str]) -> Reply:
        repo = self.repositories.get(f"{args['key'].upper()}/{args['slug']}")
        if repo is not None and repo.private and self.bearer(asked) is None:
            return self._error(
                401,
                "Authentication failed. Please check your credentials and try again.",
                "com.atlassian.bitbucket.AuthorisationException",
            )
        if repo is None:
            return self._error(
                404,
                f"Repository {args['key']}/{args['slug']} does not exist.",
                "com.atlassian.bitbucket.repository.NoSuchRepositoryException",
            )
        found = self._between(repo, asked.arg("since"), asked.arg("until"))
        if found is None:
            return self._error(
                404,
                "A commit asked for does not exist in this repository.",
                "com.atlassian.bitbucket.commit.NoSuchCommitException",
            )
        history = repo.commits
        parents = {c.sha: p for p, c in itertools.pairwise(history)}
        newest_first = [
            self.commit_shape(c, parents.get(c.sha)) for c in reversed(found)
        ]
        return Reply(200, self.page(asked, newest_first))

    def _between(
        self, repo: StubRepository, since: str, until: str
    ) -> list[Commit] | None:
        shas = [c.sha for c in repo.commits]
        if until not in shas or (since and since not in shas):
            return None
        first = shas.index(since) + 1 if since else 0
        return repo.commits[first : shas.index(until) + 1]

    def page(self, asked: Asked, items: list[Any]) -> dict[str, Any]:
        start = int(asked.arg("start") or 0)
        limit = int(asked.arg("limit") or 25)
        values = items[start : start + limit]
        last = start + limit >= len(items)
        page: dict[str, Any] = {
            "size": len(values),
            "limit": limit,
            "isLastPage": last,
            "values": values,
            "start": start,
        }
        if not last:
            page["nextPageStart"] = start + limit
        return page


__all__ = ["BitbucketServerStub"]
