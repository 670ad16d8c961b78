# -*- test-case-name: tests.pages.test_accounts,tests.pages.test_sessions -*-
"""
The account pages: sign up, sign in, sign out and the profile.  A klein app
of its own, mounted by L{julytwisted.site.Root} at C{/signup}, C{/login},
C{/logout} and C{/profile}; the admin pages are L{julytwisted.admin}.

Sessions are kept in Redis and named by a signed cookie
(L{julytwisted.auth.sessions}); every form carries a CSRF token.  The Site
does not parse POST bodies (it would for every JSON-RPC call too), so these
routes read their own urlencoded forms (L{checked_form}).
What a form changes is done by the same functions the JSON-RPC methods use.
"""

from __future__ import annotations

import math
from typing import Any

from klein import Klein
from twisted.web.iweb import IRequest
from twisted.web.template import Tag, tags

from julytwisted.auth import accounts as use_cases
from julytwisted.auth.accounts import Mailing, SignUps
from julytwisted.auth.authenticator import Authenticator
from julytwisted.auth.sessions import Sessions, Viewer
from julytwisted.errors import (
    Forbidden,
    InvalidInput,
    JulythonError,
    NotFound,
    RateLimited,
    SignInRequired,
)
from julytwisted.jobs.queue import Queue
from julytwisted.models import Board
from julytwisted.pages._emails import SAVED, emails_section
from julytwisted.pages._html import Content, field, message, post_form
from julytwisted.pages._oauth import HostSignInPages
from julytwisted.pages._profile import (
    password_section,
    picture_section,
    sessions_section,
    time_zone_section,
    tokens_section,
)
from julytwisted.pages._render import (
    Renderer,
    checked_form,
    error_status,
    install_error_pages,
    redirect,
)
from julytwisted.store import Store
from julytwisted.store.ratelimit import RateLimiter

#: What a saved profile change says, by the C{saved} query argument.
_SAVED = {
    **SAVED,
    "name": "Your name is saved.",
    "location": "Location saved. Your points are moving with you.",
    "team": "Team saved. Your points are moving with you.",
    "time-zone": "Time zone saved: your days follow it.",
    "welcome": "Welcome! Add the webhook to your repositories (see Help).",
    "revoke-token": "Token revoked.",
    "picture": "Your picture is saved.",
    "password": "Password changed. You are signed out everywhere else.",
    "sessions": "You are signed out everywhere else.",
    "host": "Account linked. Its verified e-mails are yours.",
}


#: The largest body an account or admin form may send.
FORM_MAX_BODY = 64 * 1024


class Accounts:
    """
    The account and admin pages, bound to a store, a job queue and the
    password checker the JSON-RPC methods use too.

    @cvar segments: the first path segments these pages answer under.
    """

    app = Klein()
    segments = (b"signup", b"login", b"logout", b"profile")

    def __init__(
        self,
        store: Store,
        queue: Queue,
        sessions: Sessions,
        authenticator: Authenticator,
        sign_ups: SignUps,
        limiter: RateLimiter | None = None,
        mailing: Mailing | None = None,
        hosts: HostSignInPages | None = None,
    ) -> None:
        """
        @param authenticator: checks passwords, within the budget of failed
            credentials every door shares.
        @param sign_ups: makes accounts, within the sign-up limit every door
            shares.
        @param limiter: limits the sign-up and sign-in forms per client
            address, on every node (the C{login} limit).
        @param mailing: how typed e-mails are confirmed; by default by no
            mail (they stay pending until an admin vouches for them).
        @param hosts: signing in with code hosts, under C{/login/PROVIDER};
            none when L{None}.
        """
        self.store = store
        self.queue = queue
        self.sessions = sessions
        self.renderer = Renderer(sessions)
        self._authenticator = authenticator
        self._sign_ups = sign_ups
        self._limiter = limiter
        self.mailing = mailing or Mailing(queue, enabled=False)
        self._hosts = hosts

    @app.handle_errors(SignInRequired)
    def sign_in_first(self, request: IRequest, failure: Any) -> bytes:
        return redirect(request, "/login")

    install_error_pages(app)

    def _form(self, request: IRequest) -> dict[str, str]:
        return checked_form(self.sessions, request)

    async def _show(
        self, request: IRequest, title: str, content: Content, status: int = 200
    ) -> bytes:
        return await self.renderer.page(request, title, content, status, cache=False)

    # Sign up, in and out

    def _buttons(self, verb: str) -> Content:
        return "" if self._hosts is None else self._hosts.buttons(verb)

    @app.route("/signup", methods=["GET"])
    async def signup_page(self, request: IRequest) -> bytes:
        content = [self._buttons("Sign up"), self._signup_form(request, {})]
        return await self._show(request, "Sign up", content)

    def _signup_form(self, request: IRequest, values: dict[str, str]) -> Tag:
        csrf = self.sessions.csrf_token(request)
        return post_form(
            "/signup",
            csrf,
            [
                field(
                    "Username",
                    "username",
                    values.get("username", ""),
                    autocomplete="username",
                    required=True,
                    hint="Letters, digits, '.', '_' or '-'; up to 39.",
                ),
                field(
                    "Password",
                    "password",
                    type="password",
                    autocomplete="new-password",
                    required=True,
                    hint="8 characters or more.",
                ),
                field(
                    "Commit e-mail",
                    "email",
                    values.get("email", ""),
                    type="email",
                    autocomplete="email",
                    required=True,
                    hint="The author e-mail of your commits.",
                ),
                field(
                    "Display name",
                    "name",
                    values.get("name", ""),
                    autocomplete="name",
                    hint="Optional.",
                ),
            ],
            "Sign up",
        )

    async def _too_many(self, request: IRequest, title: str, form: Tag) -> bytes | None:
        """The 429 page when this address signs up or in too often, else None."""
        if self._limiter is None:
            return None
        wait = await self._limiter.wait("login", request)
        if wait is None:
            return None
        error = RateLimited(wait, "login")
        status = error_status(request, error)
        seconds = max(1, math.ceil(wait))
        text = f"Too many attempts from your address: try again in {seconds} s."
        content = [message(text, error=True), form]
        return await self._show(request, title, content, status)

    @app.route("/signup", methods=["POST"])
    async def signup(self, request: IRequest) -> bytes:
        form = self._form(request)
        refused = await self._too_many(
            request, "Sign up", self._signup_form(request, form)
        )
        if refused is not None:
            return refused
        try:
            player = await self._sign_ups.sign_up(
                request,
                form.get("username", ""),
                form.get("password", ""),
                form.get("email", ""),
                form.get("name") or None,
            )
        except JulythonError as e:
            if isinstance(e, Forbidden):
                raise
            # Everything typed but the password comes back for another try.
            content = [message(e.message, error=True), self._signup_form(request, form)]
            status = error_status(request, e)
            return await self._show(request, "Sign up", content, status)
        await self.sessions.start(request, Viewer(player.username))
        return redirect(request, "/profile?saved=welcome")

    @app.route("/login", methods=["GET"])
    async def login_page(self, request: IRequest) -> bytes:
        content = [self._buttons("Sign in"), self._login_form(request, "")]
        return await self._show(request, "Sign in", content)

    @app.route("/login/<provider>", methods=["GET"])
    async def host_begin(self, request: IRequest, provider: str) -> bytes:
        """Sign in (or link) with a code host: L{HostSignInPages.begin}."""
        if self._hosts is None:
            raise NotFound("signing in with a code host is not set up here")
        return await self._hosts.begin(request, provider)

    @app.route("/login/<provider>/callback", methods=["GET"])
    async def host_callback(self, request: IRequest, provider: str) -> bytes:
        """The code host's answer: L{HostSignInPages.callback}."""
        if self._hosts is None:
            raise NotFound("signing in with a code host is not set up here")
        return await self._hosts.callback(request, provider)

    def _login_form(self, request: IRequest, username: str) -> Tag:
        return post_form(
            "/login",
            self.sessions.csrf_token(request),
            [
                field(
                    "Username",
                    "username",
                    username,
                    autocomplete="username",
                    required=True,
                ),
                field(
                    "Password",
                    "password",
                    type="password",
                    autocomplete="current-password",
                    required=True,
                ),
                tags.p(tags.a("Forgot your password?", href="/password-reset")),
            ],
            "Sign in",
        )

    @app.route("/login", methods=["POST"])
    async def login(self, request: IRequest) -> bytes:
        form = self._form(request)
        username = form.get("username", "").strip().lower()
        password = form.get("password", "")
        refused = await self._too_many(
            request, "Sign in", self._login_form(request, username)
        )
        if refused is not None:
            return refused
        try:
            ok = bool(username and password) and (
                await self._authenticator.check_password(request, username, password)
            )
        except RateLimited as e:
            minutes = max(1, math.ceil(e.retry_after / 60))
            text = (
                "Too many failed sign-ins from your address or for this "
                f"username: try again in {minutes} minute{'s' * (minutes != 1)}."
            )
            return await self._refused(request, username, e, text)
        except JulythonError as e:
            return await self._refused(request, username, e, e.message)
        if ok:
            await self.sessions.start(request, Viewer(username))
            return redirect(request, "/profile")
        content = [
            message("That username and password do not match.", error=True),
            self._login_form(request, form.get("username", "")),
        ]
        return await self._show(request, "Sign in", content, 401)

    async def _refused(
        self, request: IRequest, username: str, error: JulythonError, text: str
    ) -> bytes:
        """The sign-in form again, saying why the attempt was not checked."""
        status = error_status(request, error)
        content = [message(text, error=True), self._login_form(request, username)]
        return await self._show(request, "Sign in", content, status)

    @app.route("/logout", methods=["POST"])
    async def logout(self, request: IRequest) -> bytes:
        self._form(request)
        await self.sessions.end(request)
        return redirect(request, "/")

    # The profile

    @app.route("/profile", methods=["GET"])
    async def profile(self, request: IRequest) -> bytes:
        username = await self.sessions.player(request)
        saved = request.args.get(b"saved", [b""])[-1].decode("latin-1")
        notice = message(_SAVED[saved]) if saved in _SAVED else ""
        content = await self._profile(request, username)
        return await self._show(request, "Your profile", [notice, content])

    async def _profile(
        self, request: IRequest, username: str, values: dict[str, str] | None = None
    ) -> Content:
        values = values or {}
        player = await self.store.player(username)
        emails = await self.store.emails(username)
        pending = await self.store.pending_emails(username)
        csrf = self.sessions.csrf_token(request)

        def one(action: str, label: str, name: str, value: str, hint: str) -> Tag:
            return tags.section(
                tags.h2(label),
                post_form(
                    f"/profile/{action}",
                    csrf,
                    [field(label, name, values.get(name, value), hint=hint)],
                    "Save",
                ),
            )

        return [
            tags.p(tags.a("Your public page", href=f"/people/{username}")),
            one("name", "Display name", "name", player.name, ""),
            emails_section(
                emails, pending, csrf, values.get("email", ""), self.mailing.enabled
            ),
            "" if self._hosts is None else await self._hosts.section(username),
            one(
                "location",
                "Location",
                "location",
                player.location or "",
                "A city or region; empty for none.",
            ),
            one(
                "team",
                "Team",
                "team",
                player.team or "",
                "A new team scores once an organiser approves it.",
            ),
            time_zone_section(player.time_zone, values.get("time_zone"), csrf),
            tokens_section(await self.store.tokens(username), csrf),
            picture_section(player.picture_url, csrf),
            password_section(csrf),
            sessions_section(
                await self.sessions.other_sessions(request, username), csrf
            ),
        ]

    @app.route("/profile/<any(name,email,location,team,'time-zone','remove-email',"
               "'resend-email','revoke-token'):what>", methods=["POST"])  # fmt: skip
    async def save(self, request: IRequest, what: str) -> bytes:
        form = self._form(request)
        username = await self.sessions.player(request)
        field_name = {"revoke-token": "token", "time-zone": "time_zone"}.get(what, what)
        field_name = "email" if what.endswith("-email") else field_name
        value = form.get(field_name, "").strip()
        try:
            if what in ("email", "resend-email"):
                await use_cases.claim_email(self.store, self.mailing, username, value)
                if what == "email" and not self.mailing.enabled:
                    what = "email-unmailed"
            elif what == "name":
                await self.store.set_player_name(username, value)
            elif what == "time-zone":
                await self.store.set_player_time_zone(username, value or None)
            elif what == "remove-email":
                await self.store.remove_email(username, value)
            elif what == "revoke-token":
                await self.store.revoke_token(username, value)
            else:
                board = Board.LOCATIONS if what == "location" else Board.TEAMS
                await use_cases.move_player(
                    self.store, self.queue, username, board, value or None
                )
        except JulythonError as e:
            if isinstance(e, Forbidden):
                raise
            kept = (
                form
                if what in ("name", "email", "location", "team", "time-zone")
                else {}
            )
            content = await self._profile(request, username, kept)
            page = [message(e.message, error=True), content]
            status = error_status(request, e)
            return await self._show(request, "Your profile", page, status)
        return redirect(request, f"/profile?saved={what}")

    @app.route("/profile/password", methods=["POST"])
    async def password(self, request: IRequest) -> bytes:
        """
        Change the password, given the current one (whose wrong guesses
        count as failed sign-ins), and end the player's other sessions.
        """
        form = self._form(request)
        username = await self.sessions.player(request)
        current = form.get("current_password", "")
        try:
            ok = bool(current) and await self._authenticator.check_password(
                request, username, current
            )
        except RateLimited as e:
            minutes = max(1, math.ceil(e.retry_after / 60))
            text = f"Too many wrong passwords: try again in {minutes} min."
            return await self._profile_refused(request, username, text, e)
        if not ok:
            text = "That is not your current password."
            return await self._profile_refused(request, username, text, Forbidden())
        try:
            await use_cases.change_password(
                self.store,
                self.sessions,
                self._sign_ups.hasher,
                username,
                form.get("new_password", ""),
                keep=request,
            )
        except InvalidInput as error:
            return await self._profile_refused(request, username, error.message, error)
        return redirect(request, "/profile?saved=password")

    @app.route("/profile/end-sessions", methods=["POST"])
    async def end_sessions(self, request: IRequest) -> bytes:
        """Sign the player out of every browser but this one."""
        self._form(request)
        username = await self.sessions.player(request)
        await self.sessions.end_sessions(username, keep=request)
        return redirect(request, "/profile?saved=sessions")

    async def _profile_refused(
        self, request: IRequest, username: str, text: str, error: JulythonError
    ) -> bytes:
        """The profile again, saying why a change was refused."""
        status = error_status(request, error)
        content = [message(text, error=True), await self._profile(request, username)]
        return await self._show(request, "Your profile", content, status)

    @app.route("/profile/token", methods=["POST"])
    async def token(self, request: IRequest) -> bytes:
        self._form(request)
        username = await self.sessions.player(request)
        token = await self.store.create_token(username)
        content = [
            message("Your new API token. Copy it now: it is not shown again."),
            tags.p(tags.code(token, class_="token")),
            tags.p(tags.a("Back to your profile", href="/profile")),
        ]
        return await self._show(request, "New API token", content)


__all__ = ["FORM_MAX_BODY", "Accounts"]
