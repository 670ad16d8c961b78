"""
A stub of GitHub (as a GitHub Enterprise server: the API under C{/api/v3}):
OAuth, C{/user}, C{/user/emails}, a repository, its hooks and comparisons,
in the shapes of GitHub's OpenAPI description (checked by
C{test_github_openapi}).
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

_REPO_URLS = (
    "archive_url:/{archive_format}{/ref}",
    "assignees_url:/assignees{/user}",
    "blobs_url:/git/blobs{/sha}",
    "branches_url:/branches{/branch}",
    "collaborators_url:/collaborators{/collaborator}",
    "comments_url:/comments{/number}",
    "commits_url:/commits{/sha}",
    "compare_url:/compare/{base}...{head}",
    "contents_url:/contents/{+path}",
    "contributors_url:/contributors",
    "deployments_url:/deployments",
    "downloads_url:/downloads",
    "events_url:/events",
    "forks_url:/forks",
    "git_commits_url:/git/commits{/sha}",
    "git_refs_url:/git/refs{/sha}",
    "git_tags_url:/git/tags{/sha}",
    "hooks_url:/hooks",
    "issue_comment_url:/issues/comments{/number}",
    "issue_events_url:/issues/events{/number}",
    "issues_url:/issues{/number}",
    "keys_url:/keys{/key_id}",
    "labels_url:/labels{/name}",
    "languages_url:/languages",
    "merges_url:/merges",
    "milestones_url:/milestones{/number}",
    "notifications_url:/notifications{?since,all,participating}",
    "pulls_url:/pulls{/number}",
    "releases_url:/releases{/id}",
    "stargazers_url:/stargazers",
    "statuses_url:/statuses/{sha}",
    "subscribers_url:/subscribers",
    "subscription_url:/subscription",
    "tags_url:/tags",
    "teams_url:/teams",
    "trees_url:/git/trees{/sha}",
)
_USER_URLS = (
    "followers_url:/followers",
    "following_url:/following{/other_user}",
    "gists_url:/gists{/gist_id}",
    "starred_url:/starred{/owner}{/repo}",
    "subscriptions_url:/subscriptions",
    "organizations_url:/orgs",
    "repos_url:/repos",
    "events_url:/events{/privacy}",
    "received_events_url:/received_events",
)
_CREATED = "2026-06-01T10:00:00Z"


def _urls(base: str, templates: tuple[str, ...]) -> dict[str, str]:
    return {
        name: base + suffix
        for name, suffix in (template.split(":", 1) for template in templates)
    }


class GitHubStub(StubHost):
    """GitHub's OAuth and REST API, as a GitHub Enterprise server serves them."""

    provider = "github"
    authorize_path = "/login/oauth/authorize"
    token_path = "/login/oauth/access_token"
    api_prefix = "/api/v3"
    code_error = "bad_verification_code"

    def api_routes(self) -> None:
        repo = "/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        self.route("GET", "/user", self.user)
        self.route("GET", "/user/emails", self.emails)
        self.route("GET", repo, self.repository)
        self.route("POST", f"{repo}/hooks", self.create_hook)
        self.route("GET", f"{repo}/hooks", self.hooks)
        self.route("POST", f"{repo}/hooks/(?P<hook>[0-9]+)/pings", self.ping)
        self.route("DELETE", f"{repo}/hooks/(?P<hook>[0-9]+)", self.delete_hook)
        self.route(
            "GET",
            f"{repo}/compare/(?P<base>[^/.]+)\\.\\.\\.(?P<head>[^/.]+)",
            self.compare,
        )
        self.route("GET", f"{repo}/commits/(?P<ref>[^/]+)", self.get_commit)

    # OAuth: GitHub answers a refused code with 200 and the error in JSON.

    def token_error(self, error: str, description: str) -> Reply:
        return Reply(
            200,
            {
                "error": error,
                "error_description": description,
                "error_uri": "/apps/troubleshooting-oauth-app-access-token",
            },
        )

    def token_answer(self, access: str) -> dict[str, Any]:
        answer = super().token_answer(access)
        answer["scope"] = ",".join(self.tokens[access].scopes)
        return answer

    # Shapes

    def api(self, path: str) -> str:
        return f"{self.url}{self.api_prefix}{path}"

    def simple_user(self, user: User) -> dict[str, Any]:
        return {
            "login": user.login,
            "id": user.id,
            "node_id": f"U_{user.id}",
            "avatar_url": f"{self.url}/avatars/{user.login}",
            "gravatar_id": "",
            "url": self.api(f"/users/{user.login}"),
            "html_url": f"{self.url}/{user.login}",
            "type": "User",
            "site_admin": False,
            **_urls(self.api(f"/users/{user.login}"), _USER_URLS),
        }

    def private_user(self, user: User) -> dict[str, Any]:
        return {
            **self.simple_user(user),
            "user_view_type": "private",
            "name": user.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "notification_email": user.primary or None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": 1,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": _CREATED,
            "updated_at": _CREATED,
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 10,
            "collaborators": 0,
            "two_factor_authentication": True,
        }

    def full_repository(self, repo: StubRepository, user: User) -> dict[str, Any]:
        base = self.api(f"/repos/{repo.path}")
        owner = self.users.get(repo.owner) or User(0, repo.owner, repo.owner)
        admin = user.login in repo.admins
        return {
            **_urls(base, _REPO_URLS),
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.path,
            "owner": self.simple_user(owner),
            "private": repo.private,
            "html_url": f"{self.url}/{repo.path}",
            "description": repo.description or None,
            "fork": False,
            "url": base,
            "clone_url": f"{self.url}/{repo.path}.git",
            "git_url": f"git://127.0.0.1/{repo.path}.git",
            "ssh_url": f"git@127.0.0.1:{repo.path}.git",
            "svn_url": f"{self.url}/{repo.path}",
            "mirror_url": None,
            "homepage": None,
            "language": "Python",
            "forks": 2,
            "forks_count": 2,
            "stargazers_count": 7,
            "watchers_count": 7,
            "watchers": 7,
            "size": 100,
            "default_branch": "main",
            "open_issues": 0,
            "open_issues_count": 0,
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "license": None,
            "pushed_at": _CREATED,
            "created_at": _CREATED,
            "updated_at": _CREATED,
            "network_count": 0,
            "subscribers_count": 1,
            "permissions": {
                "admin": admin,
                "maintain": admin,
                "push": admin,
                "triage": admin,
                "pull": True,
            },
        }

    def hook(self, repo: StubRepository, hook_id: int, url: str) -> dict[str, Any]:
        base = self.api(f"/repos/{repo.path}/hooks/{hook_id}")
        return {
            "type": "Repository",
            "id": hook_id,
            "name": "web",
            "active": True,
            "events": ["push"],
            "config": {
                "url": url,
                "content_type": "json",
                "insecure_ssl": "0",
                "secret": "********",
            },
            "updated_at": _CREATED,
            "created_at": _CREATED,
            "url": base,
            "test_url": f"{base}/test",
            "ping_url": f"{base}/pings",
            "deliveries_url": f"{base}/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        }

    def commit(self, repo: StubRepository, commit: Commit) -> dict[str, Any]:
        base = self.api(f"/repos/{repo.path}")
        person = {
            "name": commit.author_name,
            "email": commit.author_email,
            "date": commit.date,
        }
        return {
            "url": f"{base}/commits/{commit.sha}",
            "sha": commit.sha,
            "node_id": f"C_{commit.sha}",
            "html_url": f"{self.url}/{repo.path}/commit/{commit.sha}",
            "comments_url": f"{base}/commits/{commit.sha}/comments",
            "commit": {
                "url": f"{base}/git/commits/{commit.sha}",
                "author": person,
                "committer": person,
                "message": commit.message,
                "comment_count": 0,
                "tree": {"sha": "0" * 40, "url": f"{base}/git/trees/{'0' * 40}"},
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "payload": None,
                    "signature": None,
                    "verified_at": None,
                },
            },
            "author": None,
            "committer": None,
            "parents": [],
        }

    # The API

    def _token(self, asked: Asked, *scopes: str) -> Issued | Reply:
        """The request's token, or the answer refusing it."""
        issued = self.bearer(asked)
        if issued is None:
            return Reply(401, {"message": "Bad credentials", "status": "401"})
        if scopes and not set(scopes) & set(issued.scopes):
            return Reply(404, {"message": "Not Found", "status": "404"})
        return issued

    def _repo(
        self, asked: Asked, args: dict[str, str], *scopes: str
    ) -> tuple[Issued, StubRepository] | Reply:
        issued = self._token(asked, *scopes)
        if isinstance(issued, Reply):
            return issued
        repo = self.repositories.get(f"{args['owner']}/{args['repo']}")
        if repo is None or (scopes and issued.user.login not in repo.admins):
            return Reply(404, {"message": "Not Found", "status": "404"})
        return issued, repo

    def user(self, asked: Asked, _: dict[str, str]) -> Reply:
        issued = self._token(asked)
        if isinstance(issued, Reply):
            return issued
        return Reply(200, self.private_user(issued.user))

    def emails(self, asked: Asked, _: dict[str, str]) -> Reply:
        issued = self._token(asked, "user:email", "user")
        if isinstance(issued, Reply):
            return issued
        listed = [
            {
                "email": e.address,
                "primary": e.primary,
                "verified": e.verified,
                "visibility": "public" if e.primary else None,
            }
            for e in issued.user.emails
        ]
        page, following = self.paged(asked, listed, "per_page")
        return Reply(200, page, self.next_link(asked, following))

    def repository(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args)
        if isinstance(found, Reply):
            return found
        issued, repo = found
        return Reply(200, self.full_repository(repo, issued.user))

    def create_hook(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "admin:repo_hook", "repo")
        if isinstance(found, Reply):
            return found
        _, repo = found
        config = asked.json()["config"]
        hook_id = next(self.ids)
        repo.hooks[str(hook_id)] = self.hook(repo, hook_id, config["url"])
        repo.secrets[str(hook_id)] = config.get("secret", "")
        return Reply(201, repo.hooks[str(hook_id)])

    def hooks(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "admin:repo_hook", "repo")
        if isinstance(found, Reply):
            return found
        page, following = self.paged(asked, list(found[1].hooks.values()), "per_page")
        return Reply(200, page, self.next_link(asked, following))

    def ping(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "admin:repo_hook", "repo")
        if isinstance(found, Reply):
            return found
        if args["hook"] not in found[1].hooks:
            return Reply(404, {"message": "Not Found", "status": "404"})
        return Reply(204)

    def delete_hook(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args, "admin:repo_hook", "repo")
        if isinstance(found, Reply):
            return found
        if found[1].hooks.pop(args["hook"], None) is None:
            return Reply(404, {"message": "Not Found", "status": "404"})
        return Reply(204)

    def compare(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args)
        if isinstance(found, Reply):
            return found
        repo = found[1]
        commits = repo.between(args["base"], args["head"])
        if commits is None:
            return Reply(404, {"message": "Not Found", "status": "404"})
        page, following = self.paged(asked, commits, "per_page")
        html = f"{self.url}/{repo.path}/compare/{args['base']}...{args['head']}"
        base_sha = repo.resolve(args["base"])
        base = self.commit(repo, next(c for c in repo.commits if c.sha == base_sha))
        comparison = {
            "url": self.api(
                f"/repos/{repo.path}/compare/{args['base']}...{args['head']}"
            ),
            "html_url": html,
            "permalink_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": base,
            "merge_base_commit": base,
            "status": "ahead",
            "ahead_by": len(commits),
            "behind_by": 0,
            "total_commits": len(commits),
            "commits": [self.commit(repo, c) for c in page],
            "files": [],
        }
        return Reply(200, comparison, self.next_link(asked, following))

    def get_commit(self, asked: Asked, args: dict[str, str]) -> Reply:
        found = self._repo(asked, args)
        if isinstance(found, Reply):
            return found
        repo = found[1]
        commit = repo.commit(repo.resolve(args["ref"]))
        if commit is None:
            # GitHub's answer for a hash the repository does not have.
            return Reply(
                422,
                {
                    "message": f"No commit found for SHA: {args['ref']}",
                    "documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit",
                    "status": "422",
                },
            )
        shape = self.commit(repo, commit)
        shape["stats"] = {"total": 1, "additions": 1, "deletions": 0}
        shape["files"] = []
        return Reply(200, shape)


__all__ = ["GitHubStub"]
