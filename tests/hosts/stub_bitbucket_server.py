"""
A stub of Bitbucket Data Center's REST API 1.0: a repository, and its
commits between two revisions (C{since}, exclusive; C{until}, inclusive),
newest first, in pages of C{values} with C{isLastPage} and
C{nextPageStart}, as the server documents them.

A public repository answers anyone; a private one only the bearer token
(an HTTP access token) of an account with read permission on it, one of
its C{readers} or C{admins}.  As the server does, a request with a token it
does not know (revoked, expired, mistyped) is 401 even for a public
repository, and so is one whose account may not read it, with the server's
C{errors} list; an unknown revision is 404.
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
        self.route("GET", repo, self.repository)
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

    def _readable(self, asked: Asked, args: dict[str, str]) -> StubRepository | Reply:
        """The repository the path names, or the refusal to read it."""
        repo = self.repositories.get(f"{args['key'].upper()}/{args['slug']}")
        issued = self.bearer(asked)
        anonymous = issued is None and repo is not None and repo.private
        if anonymous or ("authorization" in asked.headers and issued is None):
            return self._error(
                401,
                "Authentication failed. Please check your credentials and try again.",
                "com.atlassian.bitbucket.AuthorisationException",
            )
        private = repo is not None and repo.private
        readers = set() if repo is None else repo.readers | repo.admins
        if private and issued is not None and issued.user.login not in readers:
            return self._error(
                401,
                "You are not permitted to access this resource",
                "com.atlassian.bitbucket.AuthorisationException",
            )
        if repo is None:
            return self._error(
                404,
                f"Repository {args['key']}/{args['slug']} does not exist.",
                "com.atlassian.bitbucket.repository.NoSuchRepositoryException",
            )
        return repo

    def repository(self, asked: Asked, args: dict[str, str]) -> Reply:
        repo = self._readable(asked, args)
        if isinstance(repo, Reply):
            return repo
        key = repo.owner.upper()
        page = f"{self.url}/projects/{key}/repos/{repo.name}/browse"
        return Reply(
            200,
            {
                "slug": repo.name,
                "id": repo.id,
                "name": repo.name,
                "description": repo.description,
                "scmId": "git",
                "state": "AVAILABLE",
                "forkable": True,
                "project": {"key": key, "id": 1, "name": key, "type": "NORMAL"},
                "public": not repo.private,
                "links": {"self": [{"href": page}]},
            },
        )

    def commits(self, asked: Asked, args: dict[str, str]) -> Reply:
        repo = self._readable(asked, args)
        if isinstance(repo, Reply):
            return repo
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
