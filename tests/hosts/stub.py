"""
Stub code hosts for the tests: real twisted.web servers, listening on
127.0.0.1, that answer the OAuth endpoints and the REST calls julytwisted
makes, in the shapes each host documents.

One L{StubHost} per host (L{stub_github}, L{stub_gitlab}, L{stub_bitbucket}
hold their routes and shapes) keeps accounts, repositories, codes, tokens and
hooks in memory and records every request it was sent (L{StubHost.asked})
and its answer (L{StubHost.replies}), so that a test can assert what
julytwisted asked for (the PKCE challenge, the scopes, the hook's secret)
and check the answers against the host's own API description.

The authorize endpoint stands for the player's browser at the host: it
signs in whoever L{StubHost.browser} names and, as L{StubHost.consent} says,
redirects back with a code and the state, or with C{error=access_denied}.
The token endpoint refuses a code used twice, a wrong redirect URI and a
wrong PKCE verifier, as the host does.  Checking the callback's C{state} is
the client's job: the stub only carries it back.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import attrs
from twisted.internet.interfaces import IListeningPort, IReactorTCP
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from julytwisted.hosts import ConfiguredHost


@attrs.define
class Email:
    """An address of a stub account, as the host knows it."""

    address: str
    verified: bool = True
    primary: bool = False


@attrs.define
class User:
    """
    An account at a stub host.

    @ivar confirmed: whether the account (its primary address) is confirmed:
        GitLab's C{confirmed_at}.
    """

    id: int | str
    login: str
    name: str
    emails: list[Email] = attrs.field(factory=list)
    confirmed: bool = True

    @property
    def primary(self) -> str:
        return next((e.address for e in self.emails if e.primary), "")


@attrs.define
class Commit:
    """A commit of a stub repository."""

    sha: str
    message: str
    author_name: str
    author_email: str
    date: str = "2026-07-15T10:00:00Z"


@attrs.define
class StubRepository:
    """
    A repository at a stub host.

    @ivar id: the host's id.
    @ivar path: C{owner/name}.
    @ivar admins: the logins that administer it.
    @ivar commits: its history, oldest first, on one line.
    @ivar branches: where its branches point, by name: the default one
        (C{main}) at the last commit unless set.
    @ivar hooks: its webhooks by id, as the host shows them.
    """

    id: int | str
    path: str
    admins: set[str] = attrs.field(factory=set)
    readers: set[str] = attrs.field(factory=set)
    private: bool = False
    description: str = ""
    commits: list[Commit] = attrs.field(factory=list)
    branches: dict[str, str] = attrs.field(factory=dict)
    hooks: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    secrets: dict[str, str] = attrs.field(factory=dict)

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def owner(self) -> str:
        return self.path.rpartition("/")[0]

    def resolve(self, ref: str) -> str:
        """The hash a branch name or a hash names."""
        if ref in self.branches:
            return self.branches[ref]
        if ref == "main" and self.commits:
            return self.commits[-1].sha
        return ref

    def between(self, base: str, head: str) -> list[Commit] | None:
        """The commits after C{base} up to C{head}; L{None} if unknown."""
        shas = [c.sha for c in self.commits]
        base, head = self.resolve(base), self.resolve(head)
        if base not in shas or head not in shas:
            return None
        return self.commits[shas.index(base) + 1 : shas.index(head) + 1]

    def commit(self, sha: str) -> Commit | None:
        """The commit C{sha} names, if the repository has it."""
        return next((c for c in self.commits if c.sha == sha), None)


@attrs.define
class Grant:
    """What an authorization code stands for."""

    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scopes: tuple[str, ...]
    user: User
    used: bool = False


@attrs.define
class Issued:
    """An access token handed out."""

    user: User
    scopes: tuple[str, ...]
    expires: float | None
    refresh: str | None = None


@attrs.frozen
class Asked:
    """One request a stub host was sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        """The body as a form, one value per field."""
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body)

    def arg(self, name: str) -> str:
        return self.query.get(name, [""])[0]


@attrs.frozen
class Reply:
    """An answer: a status, a JSON value (or bytes) and headers."""

    status: int
    body: object = None
    headers: dict[str, str] = attrs.field(factory=dict)


Handler = Callable[[Asked, dict[str, str]], Reply]


def challenge_of(verifier: str) -> str:
    """The S256 PKCE challenge of C{verifier}, as RFC 7636 computes it."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class StubHost(Resource):
    """
    The parts every stub host shares: its state, the OAuth flow, bearer
    tokens and the request log.  Subclasses name their paths and shapes.

    @cvar provider: the host's kind.
    @cvar authorize_path: its authorize endpoint.
    @cvar token_path: its token endpoint.
    @cvar api_prefix: where its API lives on the stub server.
    @cvar code_error: the error its token endpoint gives a refused code.
    @cvar lifetime: seconds its tokens live; L{None} if forever.
    """

    isLeaf = True
    provider = ""
    authorize_path = ""
    token_path = ""
    api_prefix = ""
    code_error = "invalid_grant"
    lifetime: float | None = None

    def __init__(self, now: Callable[[], float]) -> None:
        super().__init__()
        self.now = now
        self.url = ""
        self.apps: dict[str, tuple[str, str]] = {}
        self.users: dict[str, User] = {}
        self.repositories: dict[str, StubRepository] = {}
        self.browser: User | None = None
        self.consent = True
        self.asked: list[Asked] = []
        self.replies: list[tuple[Asked, Reply]] = []
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Issued] = {}
        self.refresh_tokens: dict[str, Issued] = {}
        self.ids = itertools.count(1001)
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(re.escape(self.authorize_path)), self.authorize),
            ("POST", re.compile(re.escape(self.token_path)), self.token),
        ]
        self.api_routes()

    # Set-up, for the tests

    @property
    def host(self) -> ConfiguredHost:
        """This stub as julytwisted configures it."""
        return ConfiguredHost(self.provider, self.url, self.url + self.api_prefix)

    def register_app(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.apps[client_id] = (secret, redirect_uri)

    def add_user(self, user: User) -> User:
        self.users[user.login] = user
        return user

    def add_repository(self, repository: StubRepository) -> StubRepository:
        self.repositories[repository.path] = repository
        return repository

    def asked_for(self, method: str, path: str) -> list[Asked]:
        """The requests sent with C{method} to C{path} (API paths in full)."""
        return [a for a in self.asked if (a.method, a.path) == (method, path)]

    def expire(self, access_token: str) -> None:
        self.tokens[access_token].expires = self.now() - 1

    # Serving

    def api_routes(self) -> None:
        """Add this host's API routes with L{route}."""

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve C{handler} for C{method} on the API path C{pattern}."""
        path = re.escape(self.api_prefix) + pattern
        self.routes.append((method, re.compile(path), handler))

    def render(self, request: Request) -> bytes:
        asked = self._record(request)
        reply = self._dispatch(asked)
        self.replies.append((asked, reply))
        request.setResponseCode(reply.status)
        for name, value in reply.headers.items():
            request.setHeader(name, value)
        if isinstance(reply.body, bytes):
            return reply.body
        if reply.body is None:
            return b""
        request.setHeader("Content-Type", "application/json; charset=utf-8")
        return json.dumps(reply.body).encode()

    def _record(self, request: Request) -> Asked:
        parts = urlsplit(request.uri.decode())
        headers = {
            name.decode().lower(): values[-1].decode()
            for name, values in request.requestHeaders.getAllRawHeaders()
        }
        asked = Asked(
            request.method.decode(),
            parts.path,
            parse_qs(parts.query),
            headers,
            request.content.read(),
        )
        self.asked.append(asked)
        return asked

    def _dispatch(self, asked: Asked) -> Reply:
        for method, pattern, handler in self.routes:
            found = pattern.fullmatch(asked.path)
            if found and method == asked.method:
                args = {k: unquote(v) for k, v in found.groupdict().items()}
                return handler(asked, args)
        return Reply(404, {"message": "Not Found"})

    # OAuth

    def authorize(self, asked: Asked, _: dict[str, str]) -> Reply:
        """The player's browser at the host: sign in, consent, redirect."""
        client_id = asked.arg("client_id")
        if client_id not in self.apps or self.browser is None:
            return Reply(400, b"unknown application or nobody signed in")
        redirect_uri = asked.arg("redirect_uri") or self.apps[client_id][1]
        if not redirect_uri.startswith(self.apps[client_id][1]):
            return Reply(400, b"redirect_uri mismatch")
        back = {"state": asked.arg("state")}
        if not self.consent:
            back |= {"error": "access_denied", "error_description": "denied"}
        else:
            code = secrets.token_hex(10)
            self.codes[code] = Grant(
                client_id,
                redirect_uri,
                asked.arg("code_challenge"),
                asked.arg("code_challenge_method"),
                tuple(asked.arg("scope").split()) or self.consumer_scopes(),
                self.browser,
            )
            back["code"] = code
        return Reply(302, b"", {"Location": f"{redirect_uri}?{urlencode(back)}"})

    def consumer_scopes(self) -> tuple[str, ...]:
        """Scopes granted when the authorize URL names none."""
        return ()

    def client(self, asked: Asked) -> str | None:
        """The client id whose credentials came with a token request."""
        form = asked.form()
        client_id = form.get("client_id", "")
        if self.apps.get(client_id, ("", ""))[0] == form.get("client_secret"):
            return client_id
        return None

    def token_error(self, error: str, description: str) -> Reply:
        return Reply(400, {"error": error, "error_description": description})

    def token(self, asked: Asked, _: dict[str, str]) -> Reply:
        client_id = self.client(asked)
        if client_id is None:
            return self.token_error("invalid_client", "bad client credentials")
        form = asked.form()
        if form.get("grant_type") == "refresh_token":
            return self._refresh(form)
        grant = self.codes.get(form.get("code", ""))
        if grant is None or grant.used or grant.client_id != client_id:
            return self.token_error(self.code_error, "the code is wrong or used")
        grant.used = True
        if form.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
            return self.token_error(self.code_error, "the redirect_uri differs")
        if grant.challenge and (
            grant.method != "S256"
            or challenge_of(form.get("code_verifier", "")) != grant.challenge
        ):
            return self.token_error(self.code_error, "the code_verifier is wrong")
        return Reply(200, self.token_answer(self._issue(grant.user, grant.scopes)))

    def _issue(self, user: User, scopes: tuple[str, ...]) -> str:
        access = secrets.token_hex(12)
        expires = None if self.lifetime is None else self.now() + self.lifetime
        refresh = secrets.token_hex(12) if self.lifetime is not None else None
        issued = Issued(user, scopes, expires, refresh)
        self.tokens[access] = issued
        if refresh is not None:
            self.refresh_tokens[refresh] = issued
        return access

    def _refresh(self, form: dict[str, str]) -> Reply:
        issued = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
        if issued is None:
            return self.token_error("invalid_grant", "the refresh token is wrong")
        return Reply(200, self.token_answer(self._issue(issued.user, issued.scopes)))

    def token_answer(self, access: str) -> dict[str, Any]:
        """The token endpoint's answer for a new token."""
        issued = self.tokens[access]
        answer: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
        if issued.expires is not None:
            answer["expires_in"] = int(self.lifetime or 0)
            answer["refresh_token"] = issued.refresh
        return answer

    # The API

    def bearer(self, asked: Asked) -> Issued | None:
        """The live token a request carries, if any."""
        kind, _, value = asked.headers.get("authorization", "").partition(" ")
        issued = self.tokens.get(value) if kind.lower() in ("bearer", "token") else None
        if issued is None or (
            issued.expires is not None and issued.expires < self.now()
        ):
            return None
        return issued

    def paged(
        self, asked: Asked, items: list[Any], size_arg: str
    ) -> tuple[list[Any], int | None]:
        """The page C{asked} wants of C{items}, and the next page's number."""
        size = int(asked.arg(size_arg) or 30)
        page = int(asked.arg("page") or 1)
        chunk = items[(page - 1) * size : page * size]
        return chunk, page + 1 if page * size < len(items) else None

    def next_link(self, asked: Asked, page: int | None) -> dict[str, str]:
        """A C{Link} header naming the next page, as GitHub and GitLab send."""
        if page is None:
            return {}
        query = {k: v[0] for k, v in asked.query.items()} | {"page": str(page)}
        return {"Link": f'<{self.url}{asked.path}?{urlencode(query)}>; rel="next"'}


def listen(
    reactor: IReactorTCP, stub: StubHost, interface: str = "127.0.0.1"
) -> IListeningPort:
    """
    Serve C{stub} on a free port of C{interface} and set its URL.

    @param interface: a loopback address; stubs on different ones are on
        different sites, as the hosts are (a repository's canonical URL
        drops the port).
    """
    port = reactor.listenTCP(0, Site(stub), interface=interface)
    stub.url = f"http://{interface}:{port.getHost().port}"
    return port


def sha(text: str) -> str:
    """A commit-like hash: the SHA-1 of C{text}."""
    return hashlib.sha1(text.encode()).hexdigest()
