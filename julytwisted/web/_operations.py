# -*- test-case-name: tests.web.test_openapi -*-
"""
The operations table of the OpenAPI document: each route of the klein app,
what it takes, who may call it and every answer it gives.

Paths are relative to the document's server, C{/api/v1}; C{/healthz} names
its own server, C{/}.  Every operation answers the CORS preflight (OPTIONS)
too, and 413 for a body over the site's limit: L{paths} adds both.
"""

from __future__ import annotations

import re

from julytwisted.models import Board, Host
from julytwisted.web._oas import (
    errors,
    json_response,
    operation,
    parameter,
    schema,
    string,
)
from julytwisted.web._schemas import Schema, ref

_NOT_NAME = re.compile("[^a-z0-9]+")

#: Each board: its model's schema, its detail's path parameter, its member.
BOARDS: dict[str, tuple[str, str, str]] = {
    Board.PEOPLE: ("Player", "username", "player"),
    Board.PROJECTS: ("Project", "slug", "project"),
    Board.LOCATIONS: ("Group", "slug", "location"),
    Board.TEAMS: ("Group", "slug", "team"),
    Board.LANGUAGES: ("Language", "slug", "language"),
}

#: Each webhook: its display name, event header, and the security scheme of
#: its signature.
SERVICES: dict[str, tuple[str, str, str]] = {
    Host.GITHUB: ("GitHub", "X-GitHub-Event", "githubSignature"),
    Host.BITBUCKET: ("Bitbucket", "X-Event-Key", "bitbucketSignature"),
    Host.GITLAB: ("GitLab", "X-Gitlab-Event", "gitlabToken"),
    Host.BITBUCKET_SERVER: (
        "Bitbucket Data Center",
        "X-Event-Key",
        "bitbucketSignature",
    ),
}

#: What each webhook's event header names as a push (or a ping).
_PUSHES: dict[str, str] = {
    Host.GITHUB: "push or ping",
    Host.BITBUCKET: "repo:push",
    Host.GITLAB: "Push Hook, Tag Push Hook or System Hook",
    Host.BITBUCKET_SERVER: "repo:refs_changed or diagnostics:ping",
}

#: Who may deliver to a webhook, as every webhook's description says it.
_SECURITY = (
    " Each delivery is checked with the secret of the repository it names:"
    " the one its owner was given when adding it at /projects/add (or that"
    " the service gave the webhook it made). The site's secret"
    " (--webhook-secret) is taken only for a repository nobody added, and only"
    " in an open event (--open-repositories); an open event without it"
    " checks nothing. Any other event the hook is subscribed to (issues,"
    " pull or merge requests, stars) is answered 202 ignored once its"
    " signature checks out: hosts count a 4xx as a failed delivery."
)


def _list_op(tag: str, summary: str, model: str, *params: str) -> Schema:
    """A listing's C{GET}, its query made of the named C{params} and limit."""
    responses = {
        "200": json_response(f"A page of {model} models.", schema(f"{model}Page")),
        **errors(_400="A bad limit or cursor, or an argument not in UTF-8."),
    }
    if {"game", "gameFilter"} & set(params):
        responses |= errors(_404="No game of that slug.")
    responses |= errors(_503="")
    parameters = [ref("parameters", p) for p in (*params, "limit")]
    description = (
        f"{summary}, a page at a time: pass a page's next back as cursor for"
        " the page after it; next is null on the last page."
    )
    return operation(tag, summary, description, responses, parameters=parameters)


def _board_paths() -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for board, (model, key, member) in BOARDS.items():
        summary = f"The {board} board"
        paths[f"/{board}"] = {
            "get": _list_op("boards", summary, model, "game", "offset")
        }
        if board == Board.LANGUAGES:
            continue
        errors_of = errors(
            _400="An argument not in UTF-8.",
            _404=f"No such {member}, or no such game.",
            _503="",
        )
        paths[f"/{board}/{{{key}}}"] = {
            "parameters": [parameter("path", key, f"The {member}'s {key}.")],
            "get": operation(
                "boards",
                f"One {member}, with points and rank in a game",
                f"The {member} by its {key}, with its points, rank and commits in"
                " the game named (the current one by default); rank is null"
                " where it has no points in that game.",
                {"200": json_response(f"The {member}.", schema(model)), **errors_of},
                parameters=[ref("parameters", "game")],
            ),
        }
    return paths


def _one(tag: str, what: str, model: str, description: str) -> Schema:
    """The C{GET} of one object by its id."""
    return operation(
        tag,
        what,
        description,
        {
            "200": json_response(f"The {model.lower()}.", schema(model)),
            **errors(_404=f"No such {model.lower()}.", _503=""),
        },
    )


def _read_paths() -> dict[str, Schema]:
    query = ("gameFilter", "sequence", "username", "project")
    return {
        "/commits": {
            "get": _list_op(
                "commits", "Commits, latest arrival first", "Commit", *query
            )
        },
        "/commits/{hash}": {
            "parameters": [parameter("path", "hash", "The commit's full hash.")],
            "get": _one(
                "commits",
                "One commit",
                "Commit",
                "A stored commit: its author, project, files, languages and the"
                " games it scored in.",
            ),
        },
        "/games": {
            "get": _list_op("games", "Games, latest start first", "Game", "offset")
        },
        "/games/{slug}": {
            "parameters": [parameter("path", "slug", "The game's slug.")],
            "get": operation(
                "games",
                "One game, with its points and the log of its changes",
                "A game: its window, its points per commit and first-commit"
                " bonus, whether it is upcoming, running or ended, whether"
                " admins may change it, and each change admins made (who,"
                " when, each field's old and new value), oldest first.",
                {
                    "200": json_response("The game.", schema("GameDetail")),
                    **errors(_404="No game of that slug.", _503=""),
                },
            ),
        },
        "/files/{sha256}": {
            "parameters": [parameter("path", "sha256", "The file's SHA-256, hex.")],
            "get": _one(
                "files",
                "An uploaded file's metadata",
                "File",
                "What an upload stored: size, media type, name and kind; the"
                " bytes themselves are served under /files/.",
            ),
        },
        "/jobs/{id}": {
            "parameters": [parameter("path", "id", "The job's id.")],
            "get": _one(
                "jobs",
                "A background job's state",
                "Job",
                "A job queued by an earlier call: delayed, queued, running, done"
                " or failed, with its attempts and its result or error.",
            ),
        },
    }


def _private_board() -> Schema:
    """C{GET /boards/{id}}: a private board's ranking, for token holders."""
    answer = json_response(
        "The board and its members, highest points first.",
        schema("BoardStandings"),
        "ETag",
        "CacheControl",
    )
    not_modified = {
        "description": "The If-None-Match tag is the current one.",
        "headers": {
            "ETag": ref("headers", "ETag"),
            "Cache-Control": ref("headers", "CacheControl"),
        },
    }
    refusals = errors(
        _400="The token is not in UTF-8.",
        _401="No token was sent.",
        _403="The token is neither the board's nor a member's.",
        _404="No such board.",
        _503="",
    )
    refusals["401"]["headers"]["WWW-Authenticate"] = ref("headers", "WWWAuthenticate")
    return {
        "parameters": [parameter("path", "id", "The board's id.")],
        "get": operation(
            "boards",
            "A private board's ranking",
            "The members of a private board ranked by their points inside its"
            " dates (1 a commit scored in its game, 10 for each member's first"
            " commit on a project in those dates); ties go to who got there"
            " first. Send the board's read-only token (its owner has it, and"
            " may rotate it) or a member's own API token. The ranking is"
            " computed at most every 30 seconds: revalidate with If-None-Match.",
            {"200": answer, "304": not_modified, **refusals},
            security=[{"boardToken": []}, {"boardTokenQuery": []}],
        ),
    }


def _create_player() -> Schema:
    responses = {
        "201": json_response("The new player.", schema("Player"), "Location"),
        "401": json_response("No bearer token.", schema("Error"), "WWWAuthenticate"),
        **errors(
            _400="Malformed JSON, no username or a bad field.",
            _403="A wrong token, or the admin API is off (no --admin-token).",
            _409="The username or an e-mail is taken.",
            _413="The body is over the limit.",
            _415="The body is not application/json.",
            _429=(
                "Too many wrong tokens from this address: the token is not"
                " checked until Retry-After."
            ),
            _503="",
        ),
    }
    body = {"application/json": {"schema": schema("NewPlayer")}}
    return operation(
        "people",
        "Create a player",
        "An organiser makes a player, with the admin token: the e-mails given"
        " are vouched for, so commits already made with them score at once;"
        " a location or team named is made if new.",
        dict(sorted(responses.items())),
        security=[{"adminToken": []}],
        requestBody={"required": True, "content": body},
    )


def _event_header(service: str) -> Schema:
    _, event, _ = SERVICES[service]
    kind = f"{_PUSHES[service]}; any other event is answered 202 ignored."
    if service == Host.GITLAB:
        kind += " Without it, the body's object_kind decides."
    if service == Host.BITBUCKET:
        kind += " Without it (the old POST service), the body is read as a push."
    return parameter("header", event, kind)


def _webhook_answers(service: str) -> Schema:
    """The 2xx answers of a webhook."""
    name = SERVICES[service][0]
    ignored = schema("Ignored")
    why = "Nothing new: a push without commits or a redelivery"
    nothing: Schema = schema("WebhookAnswer")
    if service in (Host.GITHUB, Host.BITBUCKET_SERVER):
        nothing = {"oneOf": [nothing, schema("Pong")]}
        why += "; or pong to a ping"
    if service == Host.BITBUCKET_SERVER:
        return {
            "200": json_response(
                "Nothing to fetch (tags or deleted branches only), or pong to"
                " the connection test, which names no repository and is"
                " answered unchecked outside an open event.",
                nothing,
            ),
            "202": json_response(
                f"{name}'s pushes carry no commits: a job per branch moved"
                " fetches them from its REST API (with the owner's token, else"
                " anonymously) and scores them as of the push's arrival, once"
                " however often it is delivered; or the event is ignored.",
                {"oneOf": [schema("Queued"), ignored]},
            ),
        }
    return {
        "200": json_response(f"{why}.", nothing),
        "201": json_response("Commits were new.", schema("WebhookAnswer")),
        "202": json_response(
            "The project is deactivated, or the event is not a push and is ignored.",
            {"oneOf": [schema("Abuse"), ignored]},
        ),
    }


def _webhook(service: str) -> Schema:
    name, _, scheme = SERVICES[service]
    payload = string(contentMediaType="application/json")
    body: Schema = {"application/json": {"schema": {"type": "object"}}}
    unsupported = "Not JSON: Bitbucket Data Center sends nothing else."
    if service != Host.BITBUCKET_SERVER:
        unsupported = "Neither JSON nor a form with a payload field."
        body["application/x-www-form-urlencoded"] = {
            "schema": {
                "type": "object",
                "properties": {"payload": payload},
                "required": ["payload"],
            }
        }
    action = (
        "names the branches it moved"
        if service == Host.BITBUCKET_SERVER
        else "is stored and scored: each new commit counts in"
        " every game whose window holds it, at most once however often it"
        " is delivered"
    )
    return operation(
        "webhooks",
        f"{name}'s push webhook",
        f"{name} delivers a push here, which {action}.{_SECURITY}",
        {
            **_webhook_answers(service),
            **errors(
                _400=f"The body is not a push payload of {name}, names a"
                " repository on another site than the host's (or, for a Data"
                " Center, none is configured: --provider-url), or names no"
                " repository outside an open event.",
                _401="A missing or wrong signature.",
                _403="A repository nobody added here (outside an open event),"
                " or one added under another id: its owner adds it at"
                " /projects/add.",
                _413="The body is over the webhook limit.",
                _415=unsupported,
                _429="Too many posts from this address: see Retry-After.",
                _503="",
            ),
        },
        # The empty requirement: an open event without --webhook-secret.
        security=[{scheme: []}, {}],
        parameters=[_event_header(service)],
        requestBody={
            "required": True,
            "description": f"The payload, as {name} sends it.",
            "content": body,
        },
    )


def _top_paths() -> dict[str, Schema]:
    health = schema("Health")
    up = {"200": json_response("Redis answers.", health)}
    down = {"503": json_response("Redis does not answer.", health)}
    index = {"200": json_response("The links.", schema("Index"))}
    document = {"200": json_response("OpenAPI 3.1.", {"type": "object"})}
    return {
        "/healthz": {
            "servers": [{"url": "/", "description": "The site's root."}],
            "get": operation(
                "health",
                "Whether Redis answers",
                "For load balancers and monitors: 200 while this node reaches"
                " Redis, 503 while it does not.",
                up | down,
            ),
        },
        "/": {
            "get": operation(
                "api",
                "Links to the listings and webhooks",
                "The entry point: the path of each listing, of this document and"
                " of each code host's webhook.",
                index,
            )
        },
        "/openapi.json": {
            "get": operation(
                "api",
                "This document",
                "This OpenAPI 3.1 description of the REST API.",
                document,
            )
        },
    }


def _preflight(path: str) -> Schema:
    return operation(
        "api",
        "CORS preflight",
        f"What a browser asks before a cross-origin call to {path}: the methods"
        " the path takes and the headers a caller may send.",
        {"204": ref("responses", "Preflight")},
    )


def paths() -> dict[str, Schema]:
    """
    Every route, and the CORS preflight on every path of the API; each
    operation is named C{METHOD_path} and answers 413 for a body over the
    limit.
    """
    found = {**_top_paths(), **_board_paths(), **_read_paths()}
    found["/people"]["post"] = _create_player()
    found["/boards/{id}"] = _private_board()
    for service in SERVICES:
        found[f"/{service}"] = {"post": _webhook(service)}
    for path, item in found.items():
        if "servers" not in item:
            item["options"] = _preflight(f"/api/v1{path}")
        name = _NOT_NAME.sub("_", path).strip("_") or "index"
        for method, described in item.items():
            if method in ("parameters", "servers"):
                continue
            described["operationId"] = f"{method}_{name}"
            described["responses"].setdefault("413", ref("responses", "TooLarge"))
    return found


__all__ = ["BOARDS", "SERVICES", "paths"]
