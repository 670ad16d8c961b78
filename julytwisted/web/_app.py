# -*- test-case-name: tests.web.test_web -*-
"""
The klein app of the machines: the REST API under C{/api/v1/}, the webhook
endpoints and the health check.  The HTML pages are apps of their own
(L{julytwisted.pages}, L{julytwisted.accounts}).

Every API answer is JSON with CORS headers; every error is C{{"error": ...}}
with the status and headers of its L{JulythonError}, answered as every door
answers it (L{julytwisted.web._errors}).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs
from klein import Klein
from klein.interfaces import IKleinRequest
from twisted.logger import Logger
from twisted.web.iweb import IRequest
from werkzeug.routing import PathConverter

from julytwisted.auth.accounts import create_vouched_player
from julytwisted.auth.authenticator import Authenticator
from julytwisted.auth.webhooks import Delivery, PushGate
from julytwisted.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    RedisUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from julytwisted.game import hooks
from julytwisted.game.events import Push
from julytwisted.game.review import FILE_LISTING_HOSTS
from julytwisted.http_errors import JSON_HEADERS, json_bytes
from julytwisted.jobs.product import (
    queue_completion,
    queue_data_center_commits,
    queue_notification,
    queue_verification,
)
from julytwisted.jobs.queue import Queue
from julytwisted.models import BOARDS, Host, to_json
from julytwisted.representation import conditional, entity_tag
from julytwisted.store import MAX_LIMIT, IngestResult, Store, all_of, cursor_int
from julytwisted.store.private_boards import STANDINGS_SECONDS
from julytwisted.store.ratelimit import RateLimiter
from julytwisted.web._errors import install_json_errors
from julytwisted.web.openapi import openapi_document

log = Logger()

_HOOK_HEADERS = (
    "Authorization, Content-Type, X-GitHub-Event, X-GitHub-Delivery, "
    "X-Hub-Signature, X-Hub-Signature-256, X-Gitlab-Token, X-Gitlab-Event, X-Event-Key"
)


@attrs.frozen
class WebSettings:
    """
    What the web app needs from the configuration.

    @ivar admin_token: the bearer token of the admin API, if any.
    @ivar notify: outgoing webhooks to tell of pushes with new commits.
    @ivar public_url: the site's address as players reach it, which the
        refusal of a repository nobody added names; L{None} for the address
        each request was sent to.
    @ivar verify_commits: store an added repository's new commits pending
        until a job has its host's word on them (C{--verify-commits}).
    """

    admin_token: str | None = None
    notify: tuple[str, ...] = ()
    public_url: str | None = None
    verify_commits: bool = False


def _header(request: IRequest, name: bytes) -> str | None:
    value = request.getHeader(name)
    return None if value is None else value.decode("latin-1")


def _arg(request: IRequest, name: str) -> str | None:
    values = request.args.get(name.encode())
    if not values:
        return None
    try:
        text: str = values[-1].decode("utf-8")
        return text
    except UnicodeDecodeError:
        raise InvalidInput(f"{name} is not UTF-8") from None


def _limit(request: IRequest) -> int:
    raw = _arg(request, "limit")
    if raw is None:
        return 20
    # Its length first: int() of thousands of digits raises ValueError.
    digits = raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_LIMIT))
    if not digits or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _offset(request: IRequest) -> int:
    raw = _arg(request, "cursor")
    return 0 if raw is None else cursor_int(raw)


class _AnyPath(PathConverter):
    """
    Any rest of a path, line breaks included (werkzeug's C{path} stops at
    one, so OPTIONS on C{/api/v1/people/%0A} would answer 405, not 404).
    """

    regex = r"[^/][\s\S]*?"


class WebApp:
    """
    The routes of the klein app, bound to one L{Store}.
    """

    app = Klein()
    app.url_map.converters["anypath"] = _AnyPath

    def __init__(
        self,
        store: Store,
        settings: WebSettings,
        queue: Queue,
        on_push: Callable[[str, int], None] | None = None,
        limiter: RateLimiter | None = None,
        authenticator: Authenticator | None = None,
        *,
        gate: PushGate,
    ) -> None:
        """
        @param gate: checks each delivery with the secret its repository
            must carry.
        @param on_push: told of every push ingested, for metrics: the
            service it came from and how many of its commits were new.
        @param limiter: limits webhook posts per client address.
        @param authenticator: checks the admin token, within the budget of
            failed credentials every door shares; without it, the admin API
            is off.
        """
        self.store = store
        self.settings = settings
        self.queue = queue
        self._on_push = on_push
        self._limiter = limiter
        self._authenticator = authenticator
        self._gate = gate

    # Answers

    def _json(self, request: IRequest, body: object, status: int = 200) -> bytes:
        """
        @param body: a record of L{julytwisted.models}, or JSON-ready data
            holding records.
        """
        request.setResponseCode(status)
        for name, value in JSON_HEADERS:
            request.setHeader(name, value)
        return json_bytes(to_json(body))

    install_json_errors(app)

    # Health

    @app.route("/healthz", methods=["GET"])
    async def healthz(self, request: IRequest) -> bytes:
        try:
            await self.store.redis.ping()
        except RedisUnavailable:
            return self._json(request, {"redis": "unavailable"}, 503)
        return self._json(request, {"redis": "ok"})

    # The API

    @app.route("/api/v1/", methods=["GET"])
    def index(self, request: IRequest) -> bytes:
        base = "/api/v1/"
        links = {name: base + name for name in (*BOARDS, "commits", "games")}
        links["openapi"] = base + "openapi.json"
        hooks_ = {s: base + s for s in Host}
        return self._json(request, {"links": links, "webhooks": hooks_})

    @app.route("/api/v1/openapi.json", methods=["GET"])
    def openapi(self, request: IRequest) -> bytes:
        return self._json(request, openapi_document())

    @app.route("/api/v1/<any(people,projects,locations,teams,languages):kind>",
               methods=["GET"])  # fmt: skip
    async def board(self, request: IRequest, kind: str) -> bytes:
        offset, limit = _offset(request), _limit(request)
        page = await self.store.board(kind, _arg(request, "game"), offset, limit)
        return self._json(request, page)

    @app.route("/api/v1/<any(people,projects,locations,teams):kind>/<member>",
               methods=["GET"])  # fmt: skip
    async def detail(self, request: IRequest, kind: str, member: str) -> bytes:
        model = await self.store.detail(kind, member, _arg(request, "game"))
        return self._json(request, model)

    @app.route("/api/v1/commits", methods=["GET"])
    async def commits(self, request: IRequest) -> bytes:
        page = await self.store.commits(
            game=_arg(request, "game"),
            cursor=_arg(request, "cursor"),
            limit=_limit(request),
            username=_arg(request, "username"),
            project=_arg(request, "project"),
        )
        return self._json(request, page)

    @app.route("/api/v1/commits/<hash>", methods=["GET"])
    async def commit(self, request: IRequest, hash: str) -> bytes:
        return self._json(request, await self.store.commit(hash))

    @app.route("/api/v1/files/<sha256>", methods=["GET"])
    async def file(self, request: IRequest, sha256: str) -> bytes:
        return self._json(request, await self.store.file_info(sha256.lower()))

    @app.route("/api/v1/jobs/<id>", methods=["GET"])
    async def job(self, request: IRequest, id: str) -> bytes:
        return self._json(request, await self.queue.status(id))

    @app.route("/api/v1/games", methods=["GET"])
    async def games(self, request: IRequest) -> bytes:
        page = await self.store.list_games(_offset(request), _limit(request))
        return self._json(request, page)

    @app.route("/api/v1/boards/<board_id>", methods=["GET"])
    async def private_board(self, request: IRequest, board_id: str) -> bytes:
        """
        A private board's ranking, for bots holding its read-only token and
        for its members' own API tokens; kept and revalidated by its ETag.
        """
        token = _bearer(request) or _arg(request, "token")
        if not token:
            raise Unauthorized(
                "send the board's token as Authorization: Bearer TOKEN or ?token="
            )
        boards = self.store.private_boards
        if not await boards.may_read(board_id, None, token):
            member = await self.store.token_owner(token)
            if not await boards.may_read(board_id, member, None):
                raise Forbidden("this token may not read that board")
        body = json_bytes(to_json(await boards.standings(board_id)))
        for name, value in JSON_HEADERS:
            request.setHeader(name, value)
        request.setHeader(b"Cache-Control", b"private, max-age=%d" % STANDINGS_SECONDS)
        request.setHeader(b"Vary", b"Authorization")
        if conditional(request, entity_tag(body)):
            request.setResponseCode(304)
            return b""
        return body

    @app.route("/api/v1/games/<slug>", methods=["GET"])
    async def game(self, request: IRequest, slug: str) -> bytes:
        return self._json(request, await self.store.games.detail(slug))

    @app.route("/api/v1/people", methods=["POST"])
    async def create_player(self, request: IRequest) -> bytes:
        await self._require_admin(request)
        body = _json_body(request)
        emails = body.get("emails", [])
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise InvalidInput("emails must be a list of e-mail addresses")
        for field in ("username", "name", "location", "team"):
            if body.get(field) is not None and not isinstance(body[field], str):
                raise InvalidInput(f"{field} must be a string")
        if "username" not in body:
            raise InvalidInput("username is required")
        player = await create_vouched_player(
            self.store,
            self.queue,
            body["username"],
            body.get("name"),
            emails,
            body.get("location"),
            body.get("team"),
        )
        request.setHeader(b"Location", f"/api/v1/people/{player.username}".encode())
        return self._json(request, player, 201)

    @app.route("/api/v1/", methods=["OPTIONS"])
    @app.route("/api/v1/<anypath:rest>", methods=["OPTIONS"])
    def preflight(self, request: IRequest, rest: str = "") -> bytes:
        mapper = IKleinRequest(request).mapper
        allowed = sorted(set(mapper.allowed_methods()) | {"OPTIONS"})
        if allowed == ["OPTIONS"]:
            raise NotFound(f"no resource at /api/v1/{rest}")
        methods = ", ".join(allowed).encode()
        request.setHeader(b"Allow", methods)
        request.setHeader(b"Access-Control-Allow-Methods", methods)
        request.setHeader(b"Access-Control-Allow-Headers", _HOOK_HEADERS.encode())
        request.setHeader(b"Access-Control-Max-Age", b"86400")
        request.setResponseCode(204)
        request.setHeader(b"Access-Control-Allow-Origin", b"*")
        return b""

    # Webhooks

    @app.route("/api/v1/github", methods=["POST"])
    async def github(self, request: IRequest) -> bytes:
        return await self._hook(
            request, Host.GITHUB, _header(request, b"X-GitHub-Event")
        )

    @app.route("/api/v1/bitbucket", methods=["POST"])
    async def bitbucket(self, request: IRequest) -> bytes:
        return await self._hook(
            request, Host.BITBUCKET, _header(request, b"X-Event-Key")
        )

    @app.route("/api/v1/gitlab", methods=["POST"])
    async def gitlab(self, request: IRequest) -> bytes:
        return await self._hook(
            request, Host.GITLAB, _header(request, b"X-Gitlab-Event")
        )

    @app.route("/api/v1/bitbucket-server", methods=["POST"])
    async def bitbucket_server(self, request: IRequest) -> bytes:
        """
        Bitbucket Data Center's webhook: its pushes name each branch's
        hashes and no commits, so a job per branch fetches them from its
        REST API (L{queue_data_center_commits}); 202 with those jobs.
        """
        service = Host.BITBUCKET_SERVER
        if self._limiter is not None:
            await self._limiter.admit("webhooks", request)
        event = _header(request, b"X-Event-Key")
        delivery = _delivery(request, service)
        unaddressed = not hooks.names_repository(delivery.payload)
        if event == "diagnostics:ping" and unaddressed and not self._gate.open:
            # Its connection test names no repository, so no secret can
            # check it; it changes nothing.
            return self._json(request, {"message": "pong"})
        payload = await self._verify(request, delivery)
        ignored = hooks.ignored_event(service, event, payload)
        if ignored is not None:
            return self._json(request, {"ignored": ignored}, 202)
        if event == "diagnostics:ping":
            return self._json(request, {"message": "pong"})
        refs = hooks.parse_refs_changed(payload)
        if not refs.fetches:
            return self._json(request, {"commits": []})
        arrived = self.store.now()
        jobs = [
            await queue_data_center_commits(self.queue, fetch, arrived)
            for fetch in refs.fetches
        ]
        return self._json(request, {"jobs": jobs}, 202)

    async def _verify(self, request: IRequest, delivery: Delivery) -> object:
        """
        Check a delivery with the secret its repository must carry, before
        its body is read as a push (L{PushGate.check}).

        @return: the decoded body.
        """
        base = self.settings.public_url or _site_url(request)
        await self._gate.check(delivery, f"{base}/projects/add")
        return delivery.payload

    async def _hook(self, request: IRequest, service: str, event: str | None) -> bytes:
        if self._limiter is not None:
            await self._limiter.admit("webhooks", request)
        payload = await self._verify(request, _delivery(request, service))
        ignored = hooks.ignored_event(service, event, payload)
        if ignored is not None:
            return self._json(request, {"ignored": ignored}, 202)
        if service == Host.GITHUB and event == "ping":
            return self._json(request, {"message": "pong"})
        push = hooks.parse(service, payload, _push_event(service, event))
        if not push.commits:
            return self._json(request, {"commits": []})
        arrived = self.store.now()
        result = await self.store.ingest(
            hooks.repository(push),
            push,
            arrived,
            self.settings.verify_commits,
            files_listed=service in FILE_LISTING_HOSTS,
        )
        if self._on_push is not None:
            self._on_push(service, len(result.new))
        if not result.active:
            return self._json(request, {"error": "abuse"}, 202)
        if result.new and self.settings.notify:
            await self._notify(push, result.new)
        answer: dict[str, object] = {"commits": list(result.new)}
        if result.held:
            answer["held"] = list(result.held)
        answer |= await self._follow_up(push, result, arrived)
        return self._json(request, answer, 201 if result.new else 200)

    async def _follow_up(
        self, push: Push, result: IngestResult, arrived: datetime
    ) -> dict[str, str]:
        """
        Queue the jobs that ask the repository's host: the commits a
        truncated push left out (once, however often it is redelivered),
        and its word on the commits stored pending.

        @return: the ids of the jobs queued, by what they do.
        """
        repository = hooks.repository(push)
        jobs: dict[str, str] = {}
        try:
            if push.truncated and push.after:
                jobs["completion"] = await queue_completion(
                    self.queue, repository, push, arrived
                )
            if result.pending:
                jobs["verification"] = await queue_verification(self.queue, repository)
        except RedisUnavailable:
            # The commits are stored; a redelivery queues the completion,
            # the repository's next push the verification.
            log.warn("could not queue the follow-up jobs of a push")
        return jobs

    async def _notify(self, push: Push, new: tuple[str, ...]) -> None:
        fresh = set(new)
        event = {
            "project": {"name": push.project.name, "url": push.project.url},
            "commits": [
                {"hash": c.hash, "message": c.message, "username": c.author_name}
                for c in push.commits
                if c.hash in fresh
            ],
        }
        try:
            await all_of(
                [
                    queue_notification(self.queue, url, event)
                    for url in self.settings.notify
                ]
            )
        except RedisUnavailable:
            # The commits are stored; only the announcement is lost.
            log.warn("could not queue notifications for {n} commits", n=len(new))

    async def _require_admin(self, request: IRequest) -> None:
        """
        @raise Unauthorized: without a bearer token.
        @raise Forbidden: for a token that is not the admin token.
        @raise RateLimited: when the request's address has sent too many
            wrong ones; the token is then not checked.
        """
        if not self.settings.admin_token or self._authenticator is None:
            raise Forbidden(
                "the admin API is off: start the service with --admin-token"
            )
        given = _header(request, b"Authorization")
        if not given or not given.startswith("Bearer "):
            raise Unauthorized("send the admin token as Authorization: Bearer TOKEN")
        token = given[len("Bearer ") :]
        if not await self._authenticator.check_admin_token(request, token):
            raise Forbidden("that token may not use the admin API")


def _bearer(request: IRequest) -> str | None:
    given = _header(request, b"Authorization") or ""
    scheme, _, token = given.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _delivery(request: IRequest, service: str) -> Delivery:
    """
    @return: a webhook delivery as it arrived, its body decoded.
    @raise UnsupportedMediaType: for a body neither JSON nor a form.
    @raise InvalidPayload: for a body that cannot be decoded.
    """
    body: bytes = request.content.read()
    # Bitbucket Data Center sends JSON only; the others once sent forms.
    forms = service != Host.BITBUCKET_SERVER
    payload = hooks.decode_body(_header(request, b"Content-Type"), body, forms)
    headers = {
        name.decode("latin-1").lower(): values[-1].decode("latin-1")
        for name, values in request.requestHeaders.getAllRawHeaders()
    }
    return Delivery(Host(service), headers, body, payload)


def _site_url(request: IRequest) -> str:
    """@return: this site's address, as the request reached it."""
    host = (request.getHeader(b"host") or b"localhost").decode("latin-1")
    return f"{'https' if request.isSecure() else 'http'}://{host}"


def _push_event(service: str, event: str | None) -> str | None:
    # Only GitHub's parser takes the event; the others read the body's kind.
    return event if service == Host.GITHUB else None


def _json_body(request: IRequest) -> dict[str, Any]:
    content_type = (_header(request, b"Content-Type") or "").split(";")[0].strip()
    if content_type != "application/json":
        raise UnsupportedMediaType("send application/json")
    try:
        body = json.loads(request.content.read())
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidInput(f"body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object")
    return body


__all__ = ["WebApp", "WebSettings"]
