# -*- test-case-name: tests.pages.test_mail_links -*-
"""
The pages the mailed links open, and the form that asks for a reset link.
A klein app of its own, mounted by L{julytwisted.site.Root} at
C{/confirm-email} and C{/password-reset}.

Opening a link (GET) changes nothing: it shows a page whose button (a POST,
with the page's CSRF token) does the work, so that mail scanners following
links confirm nothing and use up no link.  The links themselves are
L{julytwisted.auth.mailing}'s.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from klein import Klein
from twisted.web.iweb import IRequest
from twisted.web.template import Tag, tags

from julytwisted.auth import accounts as use_cases
from julytwisted.auth.accounts import EndSessions, Mailing
from julytwisted.auth.hashing import PasswordHasher
from julytwisted.auth.links import SignedLinks
from julytwisted.auth.sessions import Sessions
from julytwisted.errors import Conflict, InvalidInput, InvalidLink, RateLimited
from julytwisted.jobs.queue import Queue
from julytwisted.pages._html import Content, field, message, post_form
from julytwisted.pages._render import (
    Renderer,
    checked_form,
    error_status,
    install_error_pages,
)
from julytwisted.store import Store
from julytwisted.store.ratelimit import RateLimiter

#: Where to get another link, when one does not work.
_RESEND = tags.a("send it again from your profile", href="/profile")
_ASK_AGAIN = tags.a("ask for a new one", href="/password-reset")

#: The answer to every reset request, whether or not it names a player.
RESET_ASKED = (
    "If that names a player with a verified e-mail, we have mailed them a "
    "link to choose a new password. It works once, for an hour."
)


class MailLinks:
    """
    The e-mail confirmation and password reset pages.

    @cvar segments: the first path segments these pages answer under.
    """

    app = Klein()
    segments = (b"confirm-email", b"password-reset")

    def __init__(
        self,
        store: Store,
        queue: Queue,
        sessions: Sessions,
        links: SignedLinks,
        mailing: Mailing,
        hasher: PasswordHasher,
        limiter: RateLimiter | None,
        end_sessions: EndSessions,
    ) -> None:
        """
        @param links: reads the links' tokens.
        @param mailing: whether this site mails links, and where the mail
            jobs go.
        @param hasher: hashes a new password in its pool.
        @param limiter: limits reset requests per client address (with
            sign-ups and sign-ins: the C{login} limit).
        @param end_sessions: ends every session of a player, after a reset
            of their password.
        """
        self.store = store
        self.queue = queue
        self.sessions = sessions
        self.renderer = Renderer(sessions)
        self._links = links
        self._mailing = mailing
        self._hasher = hasher
        self._limiter = limiter
        self._end_sessions = end_sessions

    install_error_pages(app)

    async def _show(
        self, request: IRequest, title: str, content: Content, status: int = 200
    ) -> bytes:
        return await self.renderer.page(request, title, content, status, cache=False)

    async def _refused(
        self, request: IRequest, title: str, error: InvalidLink, again: Tag
    ) -> bytes:
        """The page of a link that does not work, saying where to get another."""
        content = [message(error.message, error=True), tags.p("You can ", again, ".")]
        return await self._show(request, title, content, error_status(request, error))

    # Confirming an e-mail

    @app.route("/confirm-email/<token>", methods=["GET"])
    async def confirm_page(self, request: IRequest, token: str) -> bytes:
        try:
            username, email = use_cases.read_confirmation(self._links, token)
        except InvalidLink as e:
            return await self._refused(request, "Confirm an e-mail", e, _RESEND)
        content = [
            tags.p(
                "Confirm that ",
                tags.strong(email),
                " is a commit e-mail of the player ",
                tags.strong(username),
                ": its commits will score for them.",
            ),
            post_form(
                self._here(token, "confirm-email"), self._csrf(request), [], "Confirm"
            ),
            tags.p("If this is not you, close this page: nothing changes."),
        ]
        return await self._show(request, "Confirm an e-mail", content)

    @app.route("/confirm-email/<token>", methods=["POST"])
    async def confirm(self, request: IRequest, token: str) -> bytes:
        checked_form(self.sessions, request)
        title = "Confirm an e-mail"
        try:
            username, email = await use_cases.confirm_email(
                self.store, self.queue, self._links, token
            )
        except InvalidLink as e:
            return await self._refused(request, title, e, _RESEND)
        except Conflict:
            text = "Another player has this e-mail verified: they must remove it first."
            return await self._show(request, title, message(text, error=True), 409)
        content = [
            message(f"{email} is a verified e-mail of {username} now."),
            tags.p(
                "Its commits already made are being counted. ",
                tags.a("See the board", href=f"/people/{quote(username)}"),
                ".",
            ),
        ]
        return await self._show(request, "E-mail confirmed", content)

    # Resetting a password

    @app.route("/password-reset", methods=["GET"])
    async def reset_request_page(self, request: IRequest) -> bytes:
        return await self._show(request, "Reset your password", self._ask(request))

    def _ask(self, request: IRequest) -> Content:
        if not self._mailing.enabled:
            return message(
                "This site sends no mail: ask an organiser to set a new password."
            )
        return post_form(
            "/password-reset",
            self._csrf(request),
            [
                field(
                    "Username or e-mail",
                    "login",
                    autocomplete="username",
                    required=True,
                    hint="We mail the link to the player's verified e-mails.",
                )
            ],
            "Mail me a link",
        )

    @app.route("/password-reset", methods=["POST"])
    async def reset_request(self, request: IRequest) -> bytes:
        form = checked_form(self.sessions, request)
        title = "Reset your password"
        if self._limiter is not None:
            wait = await self._limiter.wait("login", request)
            if wait is not None:
                status = error_status(request, RateLimited(wait, "login"))
                seconds = math.ceil(wait)
                text = f"Too many requests from your address: try again in {seconds} s."
                return await self._show(
                    request, title, message(text, error=True), status
                )
        await self._mailing.password_reset(form.get("login", ""))
        return await self._show(
            request, title, [message(RESET_ASKED), self._ask(request)]
        )

    @app.route("/password-reset/<token>", methods=["GET"])
    async def reset_page(self, request: IRequest, token: str) -> bytes:
        title = "Choose a new password"
        try:
            username = use_cases.read_reset(self._links, token)
        except InvalidLink as e:
            return await self._refused(request, "Reset your password", e, _ASK_AGAIN)
        return await self._show(
            request, title, self._new_password(request, token, username)
        )

    def _new_password(self, request: IRequest, token: str, username: str) -> Tag:
        return post_form(
            self._here(token, "password-reset"),
            self._csrf(request),
            [
                tags.p("The player: ", tags.strong(username)),
                field(
                    "New password",
                    "password",
                    type="password",
                    autocomplete="new-password",
                    required=True,
                    hint="8 characters or more.",
                ),
            ],
            "Set the password",
        )

    @app.route("/password-reset/<token>", methods=["POST"])
    async def reset(self, request: IRequest, token: str) -> bytes:
        form = checked_form(self.sessions, request)
        title = "Choose a new password"
        try:
            username = await use_cases.reset_password(
                self.store,
                self._hasher,
                self._links,
                token,
                form.get("password", ""),
                self._end_sessions,
            )
        except InvalidLink as e:
            return await self._refused(request, "Reset your password", e, _ASK_AGAIN)
        except InvalidInput as e:
            name = use_cases.read_reset(self._links, token)
            content = [
                message(e.message, error=True),
                self._new_password(request, token, name),
            ]
            return await self._show(request, title, content, error_status(request, e))
        content = [
            message(f"The password of {username} is changed."),
            tags.p(tags.a("Sign in with it", href="/login"), "."),
        ]
        return await self._show(request, "Password changed", content)

    def _csrf(self, request: IRequest) -> str:
        return self.sessions.csrf_token(request)

    @staticmethod
    def _here(token: str, segment: str) -> str:
        return f"/{segment}/{quote(token, safe='')}"


__all__ = ["RESET_ASKED", "MailLinks"]
