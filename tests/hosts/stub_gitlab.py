"""
A stub of a self-managed GitLab (the API under C{/api/v4}): OAuth with
expiring tokens and refresh tokens, C{/user}, C{/user/emails} (which leaves
out the primary address, as GitLab documents), a project, its hooks and
repository comparisons and single commits.
"""

from __future__ import annotations

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

_CREATED = "2026-06-01T10:00:00.000Z"
_MAINTAINER, _DEVELOPER = 40, 30
_HOOK_FLAGS = (
    "push_events",
    "tag_push_events",
    "merge_requests_events",
    "issues_events",
    "note_events",
    "pipeline_events",
)


class GitLabStub(StubHost):
    """GitLab's OAuth and REST API v4."""

    provider = "gitlab"
    authorize_path = "/oauth/authorize"
    token_path = "/oauth/token"
    api_prefix = "/api/v4"
    lifetime = 7200.0

    def api_routes(self) -> None:
        project = "/projects/(?P<project>[^/]+)"
        self.route("GET", "/user", self.user)
        self.route("GET", "/user/emails", self.emails)
        self.route("GET", project, self.project)
        self.route("POST", f"{project}/hooks", self.create_hook)
        self.route("GET", f"{project}/hooks", self.hooks)
        self.route(
            "POST", f"{project}/hooks/(?P<hook>[0-9]+)/test/push_events", self.ping
        )
        self.route("DELETE", f"{project}/hooks/(?P<hook>[0-9]+)", self.delete_hook)
        self.route("GET", f"{project}/repository/compare", self.compare)
        self.route(
            "GET", f"{project}/repository/commits/(?P<sha>[^/]+)", self.get_commit
        )

    def token_answer(self, access: str) -> dict[str, Any]:
        answer = super().token_answer(access)
        answer["token_type"] = "Bearer"
        answer["scope"] = " ".join(self.tokens[access].scopes)
        answer["created_at"] = int(self.now())
        return answer

    # Shapes

    def user_shape(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "username": user.login,
            "name": user.name,
            "state": "active",
            "locked": False,
            "avatar_url": f"{self.url}/uploads/{user.login}.png",
            "web_url": f"{self.url}/{user.login}",
            "created_at": _CREATED,
            "bio": "",
            "location": "",
            "public_email": None,
            "email": user.primary,
            "confirmed_at": _CREATED if user.confirmed else None,
            "last_sign_in_at": _CREATED,
            "current_sign_in_at": _CREATED,
            "two_factor_enabled": False,
            "commit_email": user.primary,
            "projects_limit": 100000,
            "can_create_group": True,
            "can_create_project": True,
            "external": False,
            "private_profile": False,
            "identities": [],
        }

    def project_shape(self, repo: StubRepository, user: User) -> dict[str, Any]:
        access = None
        if user.login in repo.admins | repo.readers:
            level = _MAINTAINER if user.login in repo.admins else _DEVELOPER
            access = {"access_level": level, "notification_level": 3}
        return {
            "id": repo.id,
            "description": repo.description or None,
            "name": repo.name,
            "name_with_namespace": repo.path.replace("/", " / "),
            "path": repo.name,
            "path_with_namespace": repo.path,
            "created_at": _CREATED,
            "default_branch": "main",
            "ssh_url_to_repo": f"git@127.0.0.1:{repo.path}.git",
            "http_url_to_repo": f"{self.url}/{repo.path}.git",
            "web_url": f"{self.url}/{repo.path}",
            "visibility": "private" if repo.private else "public",
            "star_count": 3,
            "forks_count": 1,
            "last_activity_at": _CREATED,
            "permissions": {"project_access": access, "group_access": None},
        }

    def hook_shape(
        self, repo: StubRepository, hook_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": hook_id,
            "url": body["url"],
            "project_id": repo.id,
            **{
                flag: bool(body.get(flag, flag == "push_events"))
                for flag in _HOOK_FLAGS
            },
            "enable_ssl_verification": bool(body.get("enable_ssl_verification", True)),
            "alert_status": "executable",
            "disabled_until": None,
            "created_at": _CREATED,
        }

    def commit_shape(self, repo: StubRepository, commit: Commit) -> dict[str, Any]:
        return {
            "id": commit.sha,
            "short_id": commit.sha[:8],
            "created_at": commit.date,
            "parent_ids": [],
            "title": commit.message.splitlines()[0],
            "message": commit.message,
            "author_name": commit.author_name,
            "author_email": commit.author_email,
            "authored_date": commit.date,
            "committer_name": commit.author_name,
            "committer_email": commit.author_email,
            "committed_date": commit.date,
            "web_url": f"{self.url}/{repo.path}/-/commit/{commit.sha}",
        }

    # The API

    def _token(self, asked: Asked, *scopes: str) -> Issued | Reply:
        issued = self.bearer(asked)
        if issued is None:
            return Reply(401, {"message": "401 Unauthorized"})
        if not set(scopes) & set(issued.scopes):
            return Reply(
                403,
                {
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges.",
                    "scope": " ".join(scopes),
                },
            )
        return issued

    def _project(
        self, asked: Asked, args: dict[str, str], maintainer: bool
    ) -> tuple[Issued, StubRepository] | Reply:
        issued = self._token(asked, "api", "read_api")
        if isinstance(issued, Reply):
            return issued
        wanted = args["project"]
        repo = next(
            (r for r in self.repositories.values() if wanted in (str(r.id), r.path)),
            None,
        )
        allowed = repo is not None and (
            issued.user.login in repo.admins
            or (
                not maintainer
                and (not repo.private or issued.user.login in repo.readers)
            )
        )
        if repo is None or not allowed:
            return Reply(404, {"message": "404 Project Not Found"})
        if maintainer and "api" not in issued.scopes:
            return Reply(403, {"error": "insufficient_scope", "scope": "api"})
        return issued, repo

    def user(self, asked: Asked, _: dict[str, str]) -> Reply:
        issued = self._token(asked, "read_user", "api")
        if isinstance(issued, Reply):
            return issued
        return Reply(200, self.user_shape(issued.user))

    def emails(self, asked: Asked, _: dict[str, str]) -> Reply:
        issued = self._token(asked, "read_user", "api")
        if isinstance(issued, Reply):
            return issued
        listed = [
            {
                "id": n,
                "email": e.address,
                "confirmed_at": _CREATED if e.verified else None,
            }
            for n, e in enumerate(issued.user.emails, 1)
            if not e.primary
        ]
        page, following = self.paged(asked, listed, "per_page")
        return Reply(200, page, self.next_link(asked, following))

    def project(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._project(asked, args, maintainer=False)
        if isinstance(found, Reply):
            return found
        issued, repo = found
        return Reply(200, self.project_shape(repo, issued.user))

    def create_hook(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._project(asked, args, maintainer=True)
        if isinstance(found, Reply):
            return found
        repo = found[1]
        body = asked.json()
        hook_id = next(self.ids)
        repo.hooks[str(hook_id)] = self.hook_shape(repo, hook_id, body)
        repo.secrets[str(hook_id)] = body.get("token", "")
        return Reply(201, repo.hooks[str(hook_id)])

    def hooks(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._project(asked, args, maintainer=True)
        if isinstance(found, Reply):
            return found
        page, following = self.paged(asked, list(found[1].hooks.values()), "per_page")
        return Reply(200, page, self.next_link(asked, following))

    def ping(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._project(asked, args, maintainer=True)
        if isinstance(found, Reply):
            return found
        if args["hook"] not in found[1].hooks:
            return Reply(404, {"message": "404 Not found"})
        return Reply(201, {"message": "201 Created"})

    def delete_hook(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._project(asked, args, maintainer=True)
        if isinstance(found, Reply):
            return found
        if found[1].hooks.pop(args["hook"], None) is None:
            return Reply(404, {"message": "404 Not found"})
        return Reply(204)

    def compare(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._project(asked, args, maintainer=False)
        if isinstance(found, Reply):
            return found
        repo = found[1]
        commits = repo.between(asked.arg("from"), asked.arg("to"))
        if commits is None:
            return Reply(404, {"message": "404 Ref Not Found"})
        shapes = [self.commit_shape(repo, c) for c in commits]
        return Reply(
            200,
            {
                "commit": shapes[-1] if shapes else None,
                "commits": shapes,
                "diffs": [],
                "compare_timeout": False,
                "compare_same_ref": False,
                "web_url": f"{self.url}/{repo.path}/-/compare/"
                f"{asked.arg('from')}...{asked.arg('to')}",
            },
        )

    def get_commit(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._project(asked, args, maintainer=False)
        if isinstance(found, Reply):
            return found
        repo = found[1]
        commit = repo.commit(repo.resolve(args["sha"]))
        if commit is None:
            return Reply(404, {"message": "404 Commit Not Found"})
        shape = self.commit_shape(repo, commit)
        shape |= {
            "stats": {"additions": 1, "deletions": 0, "total": 1},
            "status": None,
            "last_pipeline": None,
            "project_id": repo.id,
        }
        return Reply(200, shape)


__all__ = ["GitLabStub"]
