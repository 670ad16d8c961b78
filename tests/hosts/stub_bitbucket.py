"""
A stub of Bitbucket Cloud: OAuth (the consumer's credentials as HTTP Basic,
the scopes its permissions), C{/2.0/user} and C{/2.0/user/emails}; lists
are pages naming the C{next} one.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from tests.hosts.stub import (
    Asked,
    Issued,
    Reply,
    StubHost,
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
    granted = ("account", "email", "repository", "webhook")

    def api_routes(self) -> None:
        self.route("GET", "/user", self.user)
        self.route("GET", "/user/emails", self.emails)

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


__all__ = ["BitbucketStub"]
