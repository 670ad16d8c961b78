"""
A stub of a self-managed GitLab (the API under C{/api/v4}): OAuth with
expiring tokens and refresh tokens, C{/user} and C{/user/emails} (which
leaves out the primary address, as GitLab documents).
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

_CREATED = "2026-06-01T10:00:00.000Z"


class GitLabStub(StubHost):
    """GitLab's OAuth and REST API v4."""

    provider = "gitlab"
    authorize_path = "/oauth/authorize"
    token_path = "/oauth/token"
    api_prefix = "/api/v4"
    lifetime = 7200.0

    def api_routes(self) -> None:
        self.route("GET", "/user", self.user)
        self.route("GET", "/user/emails", self.emails)

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


__all__ = ["GitLabStub"]
