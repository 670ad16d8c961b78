# -*- test-case-name: tests.pages.test_oauth -*-
"""
Signing in with a code host, over HTTP: C{GET /login/PROVIDER} sends the
browser to the host, C{GET /login/PROVIDER/callback} finishes.  Mounted by
L{julytwisted.pages.accounts.Accounts} under its C{login} segment.

The sign-in's C{state} and PKCE verifier never leave the server: Redis keeps
them for L{FLOW_SECONDS} under the SHA-256 of a random nonce, and the
browser that began holds the nonce in a short-lived cookie, so that only
that browser can finish, once.  A callback whose state does not match, one
replayed or too late, a declined consent, a code the host refuses: each
answers a page saying so with a way back, and signs nobody in.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from twisted.web.iweb import IRequest
from twisted.web.template import Tag, tags

from julytwisted.auth.host_sign_in import HostSignIn, sign_in_with_host
from julytwisted.auth.host_tokens import TokenBox
from julytwisted.auth.sessions import Sessions, Viewer
from julytwisted.errors import JulythonError, NotFound, StateMismatch
from julytwisted.hosts import (
    PROVIDERS,
    ConfiguredHost,
    Http,
    OAuthApp,
    begin,
    exchange_code,
    fetch_account,
    read_callback,
)
from julytwisted.jobs.queue import Queue
from julytwisted.pages._html import message
from julytwisted.pages._render import Renderer, error_status, redirect
from julytwisted.store import LinkedHost, Store
from julytwisted.store.ratelimit import RateLimiter

#: Seconds a sign-in may take at the host before its callback is refused.
FLOW_SECONDS = 600

#: The cookie holding the nonce of the sign-in this browser began.
FLOW_COOKIE = b"jt_oauth"


class HostSignInPages:
    """The two routes of a sign-in with each configured code host."""

    def __init__(
        self,
        store: Store,
        queue: Queue,
        sessions: Sessions,
        http: Http,
        apps: Mapping[str, OAuthApp],
        hosts: Mapping[str, ConfiguredHost],
        box: TokenBox,
        limiter: RateLimiter | None = None,
    ) -> None:
        """
        @param http: the HTTP client the hosts are called with.
        @param apps: julytwisted's app at each host players sign in with.
        @param hosts: where each host is; the public service by default.
        @param box: seals the hosts' tokens before they are kept.
        @param limiter: applies the sign-up limit to players made here.
        """
        self._store = store
        self._queue = queue
        self._sessions = sessions
        self._renderer = Renderer(sessions)
        self._http = http
        self._apps = dict(apps)
        self._hosts = dict(hosts)
        self._box = box
        self._limiter = limiter

    @property
    def providers(self) -> list[str]:
        """The providers players may sign in with, in a stable order."""
        return [name for name in PROVIDERS if name in self._apps]

    def _configured(self, provider: str) -> tuple[ConfiguredHost, OAuthApp]:
        if provider not in self._apps or provider not in self._hosts:
            raise NotFound(f"signing in with {provider!r} is not set up here")
        return self._hosts[provider], self._apps[provider]

    async def begin(self, request: IRequest, provider: str) -> bytes:
        """
        Send the browser to the host's authorize page, keeping the state and
        verifier; a signed-in player links the account to themselves.  With
        C{?repositories=1}, the scopes that manage webhooks are asked for
        too, and the browser comes back to L{the page adding
        repositories<julytwisted.pages.repositories>}.
        """
        host, app = self._configured(provider)
        viewer = await self._sessions.viewer(request)
        hooks = request.args.get(b"repositories", [b""])[-1] == b"1"
        started = begin(host, app, callback_url(request, provider), hooks)
        nonce = secrets.token_urlsafe(32)
        flow = {
            "provider": provider,
            "state": started.state,
            "verifier": started.verifier,
            "redirect_uri": started.redirect_uri,
            "target": viewer.username or "",
            "next": "/projects/add" if hooks else "",
        }
        await self._store.host_accounts.begin_flow(nonce, flow, FLOW_SECONDS)
        self._cookie(request, nonce.encode(), FLOW_SECONDS)
        return redirect(request, started.url)

    async def callback(self, request: IRequest, provider: str) -> bytes:
        """Finish a sign-in: check, trade the code, read the account, sign in."""
        host, app = self._configured(provider)
        nonce = request.getCookie(FLOW_COOKIE)
        self._cookie(request, b"", 0)
        flow = None
        if nonce and len(nonce) < 100:
            flow = await self._store.host_accounts.take_flow(nonce.decode("ascii"))
        back = "/profile" if flow and flow["target"] else "/login"
        try:
            if flow is None or flow["provider"] != provider:
                raise StateMismatch(
                    "this sign-in was not begun in this browser, was finished "
                    "already, or took too long; begin it again"
                )
            done = await self._finish(request, host, app, flow)
        except JulythonError as e:
            return await self._failed(request, e, back)
        if flow["target"]:
            return redirect(request, flow.get("next") or "/profile?saved=host")
        await self._sessions.start(request, Viewer(done.username))
        where = "/profile?saved=welcome" if done.created else "/profile"
        where = flow.get("next") or where
        return redirect(request, where)

    async def _finish(
        self,
        request: IRequest,
        host: ConfiguredHost,
        app: OAuthApp,
        flow: dict[str, str],
    ) -> HostSignIn:
        params = {
            name.decode("utf-8", "replace"): values[-1].decode("utf-8", "replace")
            for name, values in request.args.items()
        }
        code = read_callback(params, flow["state"])
        target = flow["target"] or None
        if target is not None:
            viewer = await self._sessions.viewer(request)
            if viewer.username != target:
                raise StateMismatch("you signed out while linking; sign in again")
        token = await exchange_code(
            self._http, host, app, code, flow["redirect_uri"], flow["verifier"]
        )
        account = await fetch_account(self._http, host, token)

        async def admit_new() -> None:
            # A new player counts against the "signup" limit, which every
            # way of making an account shares (none while it is not set).
            if self._limiter is not None:
                await self._limiter.admit("signup", request)

        return await sign_in_with_host(
            self._store, self._queue, self._box, account, token, admit_new, target
        )

    async def _failed(
        self, request: IRequest, error: JulythonError, back: str
    ) -> bytes:
        status = error_status(request, error)
        label = "Back to your profile" if back == "/profile" else "Sign in again"
        content = [message(error.message, error=True), tags.p(tags.a(label, href=back))]
        return await self._renderer.page(
            request, "Sign-in did not complete", content, status, cache=False
        )

    def _cookie(self, request: IRequest, value: bytes, max_age: int) -> None:
        request.addCookie(
            FLOW_COOKIE,
            value,
            path=b"/login/",
            max_age=str(max_age).encode(),
            httpOnly=True,
            secure=request.isSecure(),
            sameSite="lax",
        )  # type: ignore[call-arg]

    def buttons(self, verb: str = "Sign in") -> Tag | str:
        """A link per configured host, to sign in (or up) with it."""
        if not self._apps:
            return ""
        return tags.p(class_="hosts")(
            [
                [
                    tags.a(
                        f"{verb} with {PROVIDERS[name].title}",
                        href=f"/login/{name}",
                        class_=f"button host host-{name}",
                    ),
                    " ",
                ]
                for name in self.providers
            ]
        )

    async def section(self, username: str) -> Tag:
        """The profile's linked hosts, and a link for each other one."""
        linked = await self._store.host_accounts.linked(username)
        return hosts_section(linked, [p for p in self.providers])


def hosts_section(linked: Sequence[LinkedHost], providers: Sequence[str]) -> Tag:
    """The player's linked code host accounts, and links to link the others."""
    have = {link.host for link in linked}
    return tags.section(
        tags.h2("Code hosts"),
        tags.ul(class_="linked-hosts")(
            [
                tags.li(f"{PROVIDERS[link.host].title}: {link.login}")
                for link in linked
                if link.host in PROVIDERS
            ]
        )
        if linked
        else tags.p("No code host linked yet."),
        [
            tags.p(
                tags.a(
                    f"Link your {PROVIDERS[name].title} account",
                    href=f"/login/{name}",
                    class_=f"button host host-{name}",
                )
            )
            for name in providers
            if name not in have
        ],
    )


def callback_url(request: IRequest, provider: str) -> str:
    """
    @return: this site's callback for C{provider}, as the browser reaches
        it: the C{Host} it asked for, https when the request came over TLS or
        a proxy in front says so.  A forged header only makes the host refuse
        the sign-in, as its registered callback differs.
    """
    proto = (request.getHeader(b"x-forwarded-proto") or b"").decode("latin-1")
    secure = request.isSecure() or proto.strip().lower() == "https"
    host = (request.getHeader(b"host") or b"localhost").decode("latin-1")
    return f"{'https' if secure else 'http'}://{host}/login/{provider}/callback"


__all__ = [
    "FLOW_COOKIE",
    "FLOW_SECONDS",
    "HostSignInPages",
    "callback_url",
    "hosts_section",
]
