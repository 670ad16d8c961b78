"""
A stub of GitHub (as a GitHub Enterprise server: the API under C{/api/v3}):
OAuth, C{/user} and C{/user/emails}, in the shapes of GitHub's REST API.
"""

from __future__ import annotations

from typing import Any

from tests.hosts.stub import (
    Asked,
    Issued,
    Reply,
    StubHost,
    User,
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
        self.route("GET", "/user", self.user)
        self.route("GET", "/user/emails", self.emails)

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

    def _token(self, asked: Asked, *scopes: str) -> Issued | Reply:
        """The request's token, or the answer refusing it."""
        issued = self.bearer(asked)
        if issued is None:
            return Reply(401, {"message": "Bad credentials", "status": "401"})
        if scopes and not set(scopes) & set(issued.scopes):
            return Reply(404, {"message": "Not Found", "status": "404"})
        return issued

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


__all__ = ["GitHubStub"]
