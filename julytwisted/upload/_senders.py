# -*- test-case-name: tests.upload.test_upload -*-
"""
Who sends an upload: the player its credentials name (an API token, or a
username and password, checked as at every door: within the budget of
failed credentials, past which the upload is refused 429 before they are
looked at), else the signed-in player of its session cookie,
whose form must carry the session's CSRF token in the address (C{?csrf=}),
since the body is judged only as it streams in, before any form field could
be read.
"""

from __future__ import annotations

from typing import cast
from urllib.parse import parse_qs

from twisted.web.http import Request
from twisted.web.iweb import IRequest

from julytwisted._compat import pending_path
from julytwisted.auth.authenticator import Authenticator
from julytwisted.auth.sessions import Sessions
from julytwisted.upload._resource import Identify


def credentials_or_session(
    authenticator: Authenticator, sessions: Sessions
) -> Identify:
    """
    @param authenticator: checks an C{Authorization} header, as JSON-RPC does.
    @param sessions: reads the session cookie and checks the CSRF token.
    @return: the sender of a request, by its credentials when it carries
        some, else by its session.
    """

    async def identify(request: IRequest) -> str | None:
        if request.getHeader(b"authorization") is not None:
            return await authenticator.player(request)
        # The headers are in, the request line not yet handed over: read
        # the cookies and the query from what the channel has parsed, before
        # the session's read lets the channel move on.
        http_request = cast(Request, request)
        http_request.parseCookies()
        query = pending_path(http_request.channel).partition(b"?")[2]
        token = parse_qs(query.decode("latin-1")).get("csrf", [""])[-1]
        viewer = await sessions.viewer(request)
        if viewer.username is None:
            return None
        sessions.check_csrf(request, token)
        return viewer.username

    return identify


__all__ = ["credentials_or_session"]
