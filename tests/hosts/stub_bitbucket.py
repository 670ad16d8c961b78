"""
A stub of Bitbucket Cloud: OAuth (the consumer's credentials as HTTP Basic,
the scopes its permissions), C{/2.0/user}, C{/2.0/user/emails}, a
repository and the account's permission on it, its webhooks, and commits
with C{include} and C{exclude}; lists are pages naming the C{next} one.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from tests.hosts.stub import (
    Asked,
    Commit,
    Issued,
    Reply,
    StubHost,
    StubRepository,
    User,
)

_CREATED = "2026-06-01T10:00:00.000000+00:00"


class BitbucketStub(StubHost):
    """Bitbucket Cloud's OAuth and REST API 2.0."""

    provider = "bitbucket"
    authorize_path = "/site/oauth2/authorize"
    token_path = "/site/oauth2/access_token"
    api_prefix = "/2.0"
    lifetime = 7200.0

    #: The permissions of the OAuth consumer: what every token is granted.
    granted = ("account", "email", "repository", "repository:admin", "webhook")

    def api_routes(self) -> None:
        repo = "/repositories/(?P<workspace>[^/]+)/(?P<slug>[^/]+)"
        self.route("GET", "/user", self.user)
        self.route("GET", "/user/emails", self.emails)
        self.route("GET", "/user/permissions/repositories", self.permissions)
        self.route("GET", repo, self.repository)
        self.route("POST", f"{repo}/hooks", self.create_hook)
        self.route("GET", f"{repo}/hooks", self.hooks)
        self.route("DELETE", f"{repo}/hooks/(?P<hook>[^/]+)", self.delete_hook)
        self.route("GET", f"{repo}/commits", self.commits)
        self.route("GET", f"{repo}/commit/(?P<commit>[^/]+)", self.get_commit)

    # OAuth: the consumer's credentials come as HTTP Basic.

    def consumer_scopes(self) -> tuple[str, ...]:
        return self.granted

    def client(self, asked: Asked) -> str | None:
        kind, _, value = asked.headers.get("authorization", "").partition(" ")
        if kind.lower() != "basic":
            return None
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
        return client_id if self.apps.get(client_id, ("", ""))[0] == secret else None

    def token_answer(self, access: str) -> dict[str, Any]:
        answer = super().token_answer(access)
        answer["scopes"] = " ".join(self.tokens[access].scopes)
        answer["state"] = "authorization_code"
        return answer

    # Shapes

    def api(self, path: str) -> str:
        return f"{self.url}{self.api_prefix}{path}"

    def page(self, asked: Asked, items: list[Any]) -> dict[str, Any]:
        values, following = self.paged(asked, items, "pagelen")
        page: dict[str, Any] = {
            "pagelen": int(asked.arg("pagelen") or 30),
            "size": len(items),
            "page": int(asked.arg("page") or 1),
            "values": values,
        }
        if following is not None:
            query = {k: v[0] for k, v in asked.query.items()} | {"page": following}
            page["next"] = f"{self.url}{asked.path}?{urlencode(query)}"
        return page

    def account(self, user: User) -> dict[str, Any]:
        return {
            "type": "user",
            "uuid": user.id,
            "account_id": f"5f{user.login}",
            "nickname": user.login,
            "username": user.login,
            "display_name": user.name,
            "links": {"html": {"href": f"{self.url}/{user.login}/"}},
            "created_on": _CREATED,
            "account_status": "active",
            "is_staff": False,
        }

    def repository_shape(self, repo: StubRepository) -> dict[str, Any]:
        return {
            "type": "repository",
            "uuid": repo.id,
            "full_name": repo.path,
            "name": repo.name,
            "slug": repo.name,
            "description": repo.description,
            "is_private": repo.private,
            "scm": "git",
            "fork_policy": "allow_forks",
            "created_on": _CREATED,
            "updated_on": _CREATED,
            "size": 1024,
            "language": "python",
            "has_issues": False,
            "has_wiki": False,
            "mainbranch": {"type": "branch", "name": "main"},
            "links": {
                "self": {"href": self.api(f"/repositories/{repo.path}")},
                "html": {"href": f"{self.url}/{repo.path}"},
            },
        }

    def commit_shape(self, repo: StubRepository, commit: Commit) -> dict[str, Any]:
        return {
            "type": "commit",
            "hash": commit.sha,
            "date": commit.date.replace("Z", "+00:00"),
            "author": {
                "type": "author",
                "raw": f"{commit.author_name} <{commit.author_email}>",
            },
            "message": commit.message,
            "summary": {"raw": commit.message, "markup": "markdown", "html": ""},
            "links": {
                "self": {
                    "href": self.api(f"/repositories/{repo.path}/commit/{commit.sha}")
                },
                "html": {"href": f"{self.url}/{repo.path}/commits/{commit.sha}"},
            },
            "parents": [],
        }

    # The API

    def _error(self, status: int, message: str) -> Reply:
        return Reply(status, {"type": "error", "error": {"message": message}})

    def _token(self, asked: Asked, scope: str) -> Issued | Reply:
        issued = self.bearer(asked)
        if issued is None:
            return self._error(401, "Access token expired or invalid.")
        if scope not in issued.scopes:
            return self._error(
                403, "Your credentials lack one or more required privilege scopes."
            )
        return issued

    def _repo(
        self, asked: Asked, args: dict[str, str], scope: str, admin: bool
    ) -> tuple[Issued, StubRepository] | Reply:
        issued = self._token(asked, scope)
        if isinstance(issued, Reply):
            return issued
        repo = self.repositories.get(f"{args['workspace']}/{args['slug']}")
        if repo is None or (admin and issued.user.login not in repo.admins):
            return self._error(404, "Repository not found")
        return issued, repo

    def user(self, asked: Asked, _: dict[str, str]) -> Reply:
        issued = self._token(asked, "account")
        if isinstance(issued, Reply):
            return issued
        return Reply(200, self.account(issued.user))

    def emails(self, asked: Asked, _: dict[str, str]) -> Reply:
        issued = self._token(asked, "account")
        if isinstance(issued, Reply):
            return issued
        listed = [
            {
                "type": "email",
                "email": e.address,
                "is_primary": e.primary,
                "is_confirmed": e.verified,
                "links": {"self": {"href": self.api(f"/user/emails/{e.address}")}},
            }
            for e in issued.user.emails
        ]
        return Reply(200, self.page(asked, listed))

    def permissions(self, asked: Asked, _: dict[str, str]) -> Reply:
        issued = self._token(asked, "account")
        if isinstance(issued, Reply):
            return issued
        login = issued.user.login
        listed = [
            {
                "type": "repository_permission",
                "user": self.account(issued.user),
                "repository": {
                    "type": "repository",
                    "full_name": repo.path,
                    "name": repo.name,
                    "uuid": repo.id,
                },
                "permission": "admin" if login in repo.admins else "read",
            }
            for repo in self.repositories.values()
            if login in repo.admins | repo.readers
            and asked.arg("q") in ("", f'repository.uuid="{repo.id}"')
        ]
        return Reply(200, self.page(asked, listed))

    def repository(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "repository", admin=False)
        if isinstance(found, Reply):
            return found
        return Reply(200, self.repository_shape(found[1]))

    def create_hook(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "webhook", admin=True)
        if isinstance(found, Reply):
            return found
        repo, body = found[1], asked.json()
        uid = f"{{{next(self.ids):08d}-0000-4000-8000-000000000000}}"
        repo.hooks[uid] = {
            "type": "webhook_subscription",
            "uuid": uid,
            "url": body["url"],
            "description": body.get("description", ""),
            "subject_type": "repository",
            "subject": {"type": "repository", "full_name": repo.path},
            "active": body.get("active", True),
            "created_at": _CREATED,
            "events": body["events"],
            "secret_set": bool(body.get("secret")),
            "skip_cert_verification": False,
        }
        repo.secrets[uid] = body.get("secret", "")
        return Reply(201, repo.hooks[uid])

    def hooks(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "webhook", admin=True)
        if isinstance(found, Reply):
            return found
        return Reply(200, self.page(asked, list(found[1].hooks.values())))

    def delete_hook(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "webhook", admin=True)
        if isinstance(found, Reply):
            return found
        if found[1].hooks.pop(args["hook"], None) is None:
            return self._error(404, "Webhook not found")
        return Reply(204)

    def commits(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "repository", admin=False)
        if isinstance(found, Reply):
            return found
        repo = found[1]
        commits = repo.between(asked.arg("exclude"), asked.arg("include"))
        if commits is None:
            return self._error(404, "Commit not found")
        newest_first = [self.commit_shape(repo, c) for c in reversed(commits)]
        return Reply(200, self.page(asked, newest_first))

    def get_commit(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "repository", admin=False)
        if isinstance(found, Reply):
            return found
        repo = found[1]
        commit = repo.commit(repo.resolve(args["commit"]))
        if commit is None:
            return self._error(404, f"Commit not found: {args['commit']}")
        shape = self.commit_shape(repo, commit)
        shape["repository"] = {"type": "repository", "full_name": repo.path}
        return Reply(200, shape)


__all__ = ["BitbucketStub"]
