# -*- test-case-name: tests.pages.test_repositories -*-
"""
C{/projects/add}: a signed-in player adds a repository they administer, and
sees, pings and removes the ones they added; where a Bitbucket Data Center
is configured, gives (and replaces) the token that reads a private one's
commits, which is never shown again.  What the forms do is done by
the use cases the JSON-RPC methods share (L{Registrar}).

The public C{/projects/...} pages belong to the boards' app; L{ProjectsDoor}
sends C{/projects/add} and below here and the rest there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from klein import Klein
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.template import Tag, tags

from julytwisted.auth.repositories import PlayerRepository, Registrar
from julytwisted.auth.sessions import Sessions
from julytwisted.errors import JulythonError, SignInRequired
from julytwisted.hosts import PROVIDERS
from julytwisted.models import Host
from julytwisted.pages._html import Content, field, message, post_form
from julytwisted.pages._render import (
    Renderer,
    checked_form,
    error_status,
    install_error_pages,
    redirect,
)

#: The path of the page, and the first of its forms' actions.
ADD_PATH = "/projects/add"
_TITLE = "Add a repository"
_STATUS = {
    "hooked": "webhook made",
    "manual": "paste the webhook",
    "pending": "waiting for a signed push",
}


class RepositoryPages:
    """The page where players add, ping and remove their repositories."""

    app = Klein()

    def __init__(
        self, registrar: Registrar, sessions: Sessions, providers: Sequence[str] = ()
    ) -> None:
        """
        @param providers: the hosts players may sign in with, whose sign-in
            may grant webhook access.
        """
        self._registrar = registrar
        self.sessions = sessions
        self.renderer = Renderer(sessions)
        self._providers = list(providers)

    @app.handle_errors(SignInRequired)
    def sign_in_first(self, request: IRequest, failure: Any) -> bytes:
        return redirect(request, "/login")

    install_error_pages(app)

    @app.route(ADD_PATH, methods=["GET"])
    async def page(self, request: IRequest) -> bytes:
        username = await self.sessions.player(request)
        return await self._show(request, username, "")

    @app.route(ADD_PATH, methods=["POST"])
    async def add(self, request: IRequest) -> bytes:
        form = checked_form(self.sessions, request)
        username = await self.sessions.player(request)
        url = form.get("url", "")
        base = self._registrar.site_url(request)
        try:
            added = await self._registrar.add(
                username, url, base, form.get("token") or None
            )
        except JulythonError as e:
            return await self._refused(request, username, e, url)
        return await self._show(request, username, f"Added {added.url}. {added.note}")

    @app.route(ADD_PATH + "/<any(ping,remove):what>", methods=["POST"])
    async def act(self, request: IRequest, what: str) -> bytes:
        form = checked_form(self.sessions, request)
        username = await self.sessions.player(request)
        url = form.get("url", "")
        try:
            if what == "ping":
                said = await self._registrar.ping(username, url)
            else:
                said = await self._registrar.remove(username, url)
        except JulythonError as e:
            return await self._refused(request, username, e)
        return await self._show(request, username, said)

    @app.route(ADD_PATH + "/token", methods=["POST"])
    async def replace_token(self, request: IRequest) -> bytes:
        form = checked_form(self.sessions, request)
        username = await self.sessions.player(request)
        try:
            said = await self._registrar.replace_token(
                username, form.get("url", ""), form.get("token", "")
            )
        except JulythonError as e:
            return await self._refused(request, username, e)
        return await self._show(request, username, said)

    async def _refused(
        self, request: IRequest, username: str, error: JulythonError, url: str = ""
    ) -> bytes:
        status = error_status(request, error)
        return await self._show(request, username, error.message, status, url)

    async def _show(
        self,
        request: IRequest,
        username: str,
        said: str,
        status: int = 200,
        typed: str = "",
    ) -> bytes:
        base = self._registrar.site_url(request)
        listed = await self._registrar.listed(username, base)
        csrf = self.sessions.csrf_token(request)
        fields = [
            field(
                "Repository",
                "url",
                typed,
                type="url",
                required=True,
                hint="Its address, such as https://github.com/you/project.",
            )
        ]
        if self._registrar.takes_tokens:
            fields.append(_token_field("token", "f-token"))
        content: list[Content] = [
            message(said, error=status >= 400) if said else "",
            _explain(self._providers),
            post_form(ADD_PATH, csrf, fields, "Add"),
            _listing(listed, csrf),
        ]
        return await self.renderer.page(request, _TITLE, content, status, cache=False)


def _explain(providers: Sequence[str]) -> Tag:
    grants = [
        tags.a(
            f"Sign in with {PROVIDERS[name].title} granting webhook access",
            href=f"/login/{name}?repositories=1",
            class_=f"button host host-{name}",
        )
        for name in providers
        if name in PROVIDERS
    ]
    return tags.section(
        tags.p(
            "Add a repository you administer. Signed in with its host, this "
            "site checks that it is yours and, given webhook access, makes "
            "its webhook with a secret of its own. Otherwise you paste the "
            "webhook yourself with the payload URL and secret shown below; "
            "the first push signed with that secret proves the repository "
            "is yours."
        ),
        tags.p(class_="hosts")([[grant, " "] for grant in grants]) if grants else "",
    )


def _token_field(name: str, ident: str, label: str = "Data Center token") -> Tag:
    """
    Where a Bitbucket Data Center token is typed: a password box, so that
    it is neither shown nor kept by the browser, and never filled in again.
    """
    return field(
        label,
        name,
        type="password",
        autocomplete="off",
        ident=ident,
        hint=(
            "Bitbucket Data Center only: an HTTP access token with repository "
            "read permission, to read a private repository's commits. It is "
            "checked with the server, kept encrypted and never shown again."
        ),
    )


def _listing(listed: Sequence[PlayerRepository], csrf: str) -> Tag:
    if not listed:
        return tags.section(tags.h2("Your repositories"), tags.p("None yet."))
    return tags.section(
        tags.h2("Your repositories"),
        tags.ul(class_="repositories")(
            [_item(one, csrf, n) for n, one in enumerate(listed)]
        ),
    )


def _button(action: str, url: str, csrf: str, label: str) -> Tag:
    hidden = tags.input(type="hidden", name="url", value=url)
    return post_form(f"{ADD_PATH}/{action}", csrf, [hidden], label, class_="inline")


def _replace_token(one: PlayerRepository, csrf: str, n: int) -> Tag:
    """The form that gives a Data Center repository a new token."""
    hidden = tags.input(type="hidden", name="url", value=one.url)
    label = "New token" if one.token_kept else "Token"
    box = _token_field("token", f"token-{n}", label)
    submit = "Replace the token" if one.token_kept else "Keep this token"
    return post_form(f"{ADD_PATH}/token", csrf, [hidden, box], submit)


def _item(one: PlayerRepository, csrf: str, n: int) -> Tag:
    parts: list[Content] = [
        tags.a(one.url, href=one.url),
        " ",
        tags.strong(_STATUS.get(one.status, one.status), class_=one.status),
    ]
    if one.project:
        parts += [" · ", tags.a("its project", href=f"/projects/{one.project}")]
    parts.append(tags.p(one.note))
    if one.secret is not None:
        parts.append(
            tags.dl(class_="webhook")(
                tags.dt("Payload URL"),
                tags.dd(tags.code(one.payload_url)),
                tags.dt("Secret"),
                tags.dd(tags.code(one.secret, class_="secret")),
            )
        )
    if one.status == "hooked":
        parts.append(_button("ping", one.url, csrf, "Ping"))
    if one.host == Host.BITBUCKET_SERVER:
        parts.append(_replace_token(one, csrf, n))
    parts.append(_button("remove", one.url, csrf, "Remove"))
    return tags.li(parts)


class ProjectsDoor(Resource):
    """
    The C{/projects} segment: C{/projects/add} and below to the repository
    pages, every other path to the public pages.  Both are whole-path klein
    resources.
    """

    isLeaf = True

    def __init__(self, add: IResource, public: IResource) -> None:
        Resource.__init__(self)
        self._add = add
        self._public = public

    def render(self, request: IRequest) -> bytes | int:
        ours = request.postpath[:2] == [b"projects", b"add"]
        result: bytes | int = (self._add if ours else self._public).render(request)
        return result


__all__ = ["ADD_PATH", "ProjectsDoor", "RepositoryPages"]
