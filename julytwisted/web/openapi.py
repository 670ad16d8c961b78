# -*- test-case-name: tests.web.test_openapi -*-
"""
The OpenAPI 3.1 description of the klein app's routes, served at
C{/api/v1/openapi.json}.

The document is data, built once at import from small helpers (the errors
of a route, the query of a listing); the schemas of the answers' records are
derived from L{julytwisted.models} by L{julytwisted.web._schemas}.  It describes what
L{julytwisted.web} and L{julytwisted.store} do, not what they might do:
L{tests.web.test_openapi} checks it against the app's routes and validates the
running server's answers against its schemas.
"""

from __future__ import annotations

import re
from typing import Any, Final

from julytwisted import __version__
from julytwisted.models import (
    Board,
    Commit,
    CommitFile,
    FileInfo,
    Group,
    Host,
    JobStatus,
    Language,
    ListedGame,
    Player,
    Project,
)
from julytwisted.store import EMAIL_PATTERN, MAX_LIMIT, NAME_PATTERN, USERNAME_PATTERN
from julytwisted.web._schemas import Schema, page_schema, record_schema, ref

_HASH = "^[0-9a-f]{7,64}$"
_DIGITS = "^[0-9]{1,15}$"
#: A player's name: empty (the username), or one not all blank.
_NAME = f"^$|{NAME_PATTERN}"
_NOT_NAME = re.compile("[^a-z0-9]+")

#: Each board: its model's schema, its detail's path parameter, its member.
_BOARDS: dict[str, tuple[str, str, str]] = {
    Board.PEOPLE: ("Player", "username", "player"),
    Board.PROJECTS: ("Project", "slug", "project"),
    Board.LOCATIONS: ("Group", "slug", "location"),
    Board.TEAMS: ("Group", "slug", "team"),
    Board.LANGUAGES: ("Language", "slug", "language"),
}

#: Each webhook: its display name, event header and signature header.
_SERVICES: dict[str, tuple[str, str, str]] = {
    Host.GITHUB: ("GitHub", "X-GitHub-Event", "X-Hub-Signature-256"),
    Host.BITBUCKET: ("Bitbucket", "X-Event-Key", "X-Hub-Signature"),
    Host.GITLAB: ("GitLab", "X-Gitlab-Event", "X-Gitlab-Token"),
}

#: The component name of each response header and the header it stands for.
_HEADERS = {
    "AllowOrigin": ("Access-Control-Allow-Origin", "string", "Always *."),
    "RetryAfter": ("Retry-After", "integer", "Seconds to wait before a retry."),
    "WWWAuthenticate": ("WWW-Authenticate", "string", 'Bearer realm="julython".'),
    "Location": ("Location", "string", "The new object's path."),
    "Allow": ("Allow", "string", "The methods the path takes."),
    "AllowMethods": ("Access-Control-Allow-Methods", "string", "As Allow."),
    "AllowHeaders": ("Access-Control-Allow-Headers", "string", "Headers read."),
    "MaxAge": ("Access-Control-Max-Age", "integer", "Seconds to cache: 86400."),
}


def _schema(name: str) -> Schema:
    return ref("schemas", name)


def _string(description: str | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "string", **extra}
    if description:
        schema["description"] = description
    return schema


def _array(items: Schema, description: str | None = None) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if description:
        schema["description"] = description
    return schema


def _nullable(kind: str, description: str, **extra: Any) -> Schema:
    return {"type": [kind, "null"], "description": description, **extra}


def _group(description: str) -> Schema:
    """A location or team name: empty or null for none, else one with an
    ASCII letter or digit (its slug's), at most 100 characters."""
    return _nullable("string", description, maxLength=100, pattern="^$|[A-Za-z0-9]")


def _object(
    properties: Schema,
    required: list[str] | None = None,
    closed: bool = True,
    description: str | None = None,
) -> Schema:
    """
    An object schema, every property required unless C{required} says
    otherwise; C{closed} forbids the properties the code never adds.
    """
    schema: Schema = {"type": "object", "properties": properties}
    schema["required"] = list(properties) if required is None else required
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


#: The component name of each record an answer carries.
_RECORDS: dict[type, str] = {
    Player: "Player",
    Project: "Project",
    Group: "Group",
    Language: "Language",
    CommitFile: "FileChange",
    Commit: "Commit",
    JobStatus: "Job",
    FileInfo: "File",
    ListedGame: "Game",
}

#: The records listed a page at a time.
_PAGED = ("Player", "Project", "Group", "Language", "Commit", "Game")


def _model_schemas() -> dict[str, Schema]:
    """Each record's schema, and each listing's page, derived from the records."""
    schemas = {name: record_schema(r, _RECORDS) for r, name in _RECORDS.items()}
    return schemas | {f"{model}Page": page_schema(model) for model in _PAGED}


def _answer_schemas() -> dict[str, Schema]:
    links = (*_BOARDS, "commits", "games", "openapi")
    return {
        "Error": _object({"error": _string()}, description="An API error's body."),
        "Health": _object({"redis": {"enum": ["ok", "unavailable"]}}),
        "Index": _object(
            {
                "links": _object({n: _string() for n in links}),
                "webhooks": _object({s: _string() for s in _SERVICES}),
            }
        ),
        "WebhookAnswer": _object(
            {"commits": _array(_string(pattern=_HASH), "The new commits' hashes.")}
        ),
        "Pong": _object({"message": {"const": "pong"}}),
        "Abuse": _object({"error": {"const": "abuse"}}),
        "NewPlayer": _object(
            {
                "username": _string(
                    "1 to 39 letters, digits, '.', '_' or '-'; stored lower-cased.",
                    pattern=USERNAME_PATTERN,
                ),
                "name": _nullable(
                    "string", "By default the username.", maxLength=100, pattern=_NAME
                ),
                "emails": _array(
                    _string(maxLength=254, pattern=EMAIL_PATTERN),
                    "The commit e-mails of the player.",
                ),
                "location": _group("A location's name; made if new."),
                "team": _group("A team's name; made if new; approved."),
            },
            required=["username"],
            closed=False,
            description="A new player; other properties are ignored.",
        ),
    }


def _json(description: str, schema: Schema, *headers: str) -> Schema:
    """A JSON response carrying CORS and the named component C{headers}."""
    return {
        "description": description,
        "headers": {
            _HEADERS[n][0]: ref("headers", n) for n in ("AllowOrigin", *headers)
        },
        "content": {"application/json": {"schema": schema}},
    }


def _errors(**by_code: str) -> Schema:
    """
    Error responses, C{by_code} giving the meaning of each code spelled
    C{_400}; C{_503} stands for the shared Redis-unavailable response.
    """
    return {
        code.lstrip("_"): (
            ref("responses", "Unavailable")
            if code == "_503"
            else _json(text, _schema("Error"))
        )
        for code, text in by_code.items()
    }


def _parameter(
    where: str, name: str, text: str, schema: Schema | None = None
) -> Schema:
    """A parameter C{in} the query, the path or a header; a string by default."""
    found = {"name": name, "in": where, "description": text}
    return found | {"schema": schema or _string(), "required": where == "path"}


def _parameters() -> dict[str, Schema]:
    cursor = _string(pattern=_DIGITS)
    limit = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}
    only = "Only {}'s commits (then game is ignored{})."
    return {
        "game": _parameter("query", "game", "A game's slug; by default the current."),
        "gameFilter": _parameter(
            "query", "game", "Only commits that scored in this game; by default all."
        ),
        "limit": _parameter("query", "limit", "Rows per page.", limit),
        "offset": _parameter("query", "cursor", "A page's next: an offset.", cursor),
        "sequence": _parameter("query", "cursor", "A page's next: a sequence.", cursor),
        "username": _parameter("query", "username", only.format("a player", "")),
        "project": _parameter(
            "query",
            "project",
            only.format("a project", ", and so is this with username"),
        ),
    }


def _op(tag: str, summary: str, responses: Schema, **extra: Any) -> Schema:
    """An operation; L{_paths} names it after its method and path."""
    return {"tags": [tag], "summary": summary, "responses": responses, **extra}


def _list_op(tag: str, summary: str, model: str, *params: str) -> Schema:
    """A listing's C{GET}, its query made of the named C{params} and limit."""
    responses = {
        "200": _json(f"A page of {model} models.", _schema(f"{model}Page")),
        **_errors(_400="A bad limit or cursor, or an argument not in UTF-8."),
    }
    if {"game", "gameFilter"} & set(params):
        responses |= _errors(_404="No game of that slug.")
    responses |= _errors(_503="")
    parameters = [ref("parameters", p) for p in (*params, "limit")]
    return _op(tag, summary, responses, parameters=parameters)


def _board_paths() -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for board, (model, key, member) in _BOARDS.items():
        paths[f"/api/v1/{board}"] = {
            "get": _list_op("boards", f"The {board} board", model, "game", "offset")
        }
        if board == Board.LANGUAGES:
            continue
        errors = _errors(
            _400="An argument not in UTF-8.",
            _404=f"No such {member}, or no such game.",
            _503="",
        )
        paths[f"/api/v1/{board}/{{{key}}}"] = {
            "parameters": [_parameter("path", key, f"The {member}'s {key}.")],
            "get": _op(
                "boards",
                f"One {member}, with points and rank in a game",
                {"200": _json(f"The {member}.", _schema(model)), **errors},
                parameters=[ref("parameters", "game")],
            ),
        }
    return paths


def _read_paths() -> dict[str, Schema]:
    commit = {
        "200": _json("The commit.", _schema("Commit")),
        **_errors(_404="No such commit.", _503=""),
    }
    query = ("gameFilter", "sequence", "username", "project")
    return {
        "/api/v1/commits": {
            "get": _list_op(
                "commits", "Commits, latest arrival first", "Commit", *query
            )
        },
        "/api/v1/commits/{hash}": {
            "parameters": [_parameter("path", "hash", "The commit's full hash.")],
            "get": _op("commits", "One commit", commit),
        },
        "/api/v1/games": {
            "get": _list_op("games", "Games, latest start first", "Game", "offset")
        },
        "/api/v1/files/{sha256}": {
            "parameters": [_parameter("path", "sha256", "The file's SHA-256, hex.")],
            "get": _op(
                "files",
                "An uploaded file's metadata",
                {
                    "200": _json("The file.", _schema("File")),
                    **_errors(_404="No such file.", _503=""),
                },
            ),
        },
        "/api/v1/jobs/{id}": {
            "parameters": [_parameter("path", "id", "The job's id.")],
            "get": _op(
                "jobs",
                "A background job's state",
                {
                    "200": _json("The job.", _schema("Job")),
                    **_errors(_404="No such job.", _503=""),
                },
            ),
        },
    }


def _create_player() -> Schema:
    responses = {
        "201": _json("The new player.", _schema("Player"), "Location"),
        "401": _json("No bearer token.", _schema("Error"), "WWWAuthenticate"),
        **_errors(
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
    body = {"application/json": {"schema": _schema("NewPlayer")}}
    return _op(
        "people",
        "Create a player",
        dict(sorted(responses.items())),
        security=[{"adminToken": []}],
        requestBody={"required": True, "content": body},
    )


def _hook_headers(service: str) -> list[Schema]:
    _, event, signature = _SERVICES[service]
    if service == Host.GITHUB:
        kind = "push or ping; any other event is 400."
    else:
        kind = "Ignored: the body's own kind decides."
    if service == Host.GITLAB:
        signed = "The webhook secret itself"
    else:
        signed = "sha256=HEX, the HMAC-SHA256 of the body under the webhook secret"
    checked = f"{signed}; checked when --webhook-secret is set."
    return [_parameter("header", event, kind), _parameter("header", signature, checked)]


def _webhook(service: str) -> Schema:
    name = _SERVICES[service][0]
    nothing = _schema("WebhookAnswer")
    why = "Nothing new: a push without commits or a redelivery"
    if service == Host.GITHUB:
        nothing = {"oneOf": [nothing, _schema("Pong")]}
        why += "; or pong to a ping"
    payload = _string(contentMediaType="application/json")
    body = {
        "application/json": {"schema": {"type": "object"}},
        "application/x-www-form-urlencoded": {
            "schema": _object({"payload": payload}, closed=False)
        },
    }
    return _op(
        "webhooks",
        f"{name}'s push webhook",
        {
            "200": _json(f"{why}.", nothing),
            "201": _json("Commits were new.", _schema("WebhookAnswer")),
            "202": _json("The project is deactivated.", _schema("Abuse")),
            **_errors(
                _400=f"The body is not a push payload of {name}.",
                _401="A missing or wrong signature.",
                _413="The body is over the webhook limit.",
                _415="Neither JSON nor a form with a payload field.",
                _429="Too many posts from this address: see Retry-After.",
                _503="",
            ),
        },
        parameters=_hook_headers(service),
        requestBody={
            "required": True,
            "description": f"The push payload, as {name} sends it.",
            "content": body,
        },
    )


def _top_paths() -> dict[str, Schema]:
    health = _schema("Health")
    up = {"200": _json("Redis answers.", health)}
    down = {"503": _json("Redis does not answer.", health)}
    index = {"200": _json("The links.", _schema("Index"))}
    document = {"200": _json("OpenAPI 3.1.", {"type": "object"})}
    return {
        "/healthz": {"get": _op("health", "Whether Redis answers", up | down)},
        "/api/v1/": {"get": _op("api", "Links to the listings and webhooks", index)},
        "/api/v1/openapi.json": {"get": _op("api", "This document", document)},
    }


def _paths() -> dict[str, Schema]:
    """Every route, and the CORS preflight on every path of the API."""
    paths = {**_top_paths(), **_board_paths(), **_read_paths()}
    paths["/api/v1/people"]["post"] = _create_player()
    for service in _SERVICES:
        paths[f"/api/v1/{service}"] = {"post": _webhook(service)}
    preflight = {"204": ref("responses", "Preflight")}
    for path, item in paths.items():
        if path.startswith("/api/v1/"):
            item["options"] = _op("api", "CORS preflight", preflight)
        name = _NOT_NAME.sub("_", path.removeprefix("/api/v1")).strip("_")
        name = name or "index"
        for method, operation in item.items():
            if method != "parameters":
                operation["operationId"] = f"{method}_{name}"
    return paths


def _components() -> Schema:
    preflight = ("Allow", "AllowMethods", "AllowHeaders", "MaxAge", "AllowOrigin")
    return {
        "schemas": {**_model_schemas(), **_answer_schemas()},
        "responses": {
            "Unavailable": _json(
                "Redis did not answer.", _schema("Error"), "RetryAfter"
            ),
            "Preflight": {
                "description": "The methods and headers cross-origin callers may use.",
                "headers": {_HEADERS[n][0]: ref("headers", n) for n in preflight},
            },
        },
        "parameters": _parameters(),
        "headers": {
            key: {"description": text, "schema": {"type": kind}}
            for key, (_, kind, text) in _HEADERS.items()
        },
        "securitySchemes": {
            "adminToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "The token given to twistd as --admin-token.",
            }
        },
    }


_TAGS = {
    "health": "Whether the store answers.",
    "api": "The index, this document and the CORS preflight.",
    "boards": "Boards of a game and their members.",
    "commits": "Stored commits.",
    "games": "The competitions' windows of time.",
    "jobs": "Background work, followed by its id.",
    "files": "Uploaded files: POST /upload/ stores them, /files/ serves them.",
    "people": "Administration of players.",
    "webhooks": "Pushes delivered by the code hosts.",
}


def _build() -> Schema:
    description = (
        "Julython-style coding competitions: push webhooks score commits; "
        "boards rank players, projects, locations, teams and languages per "
        "game. Every API answer is JSON with CORS headers, and every error "
        'is {"error": message}.'
    )
    info = {"title": "julytwisted", "version": __version__, "description": description}
    return {
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": "/"}],
        "tags": [{"name": k, "description": v} for k, v in _TAGS.items()],
        "paths": _paths(),
        "components": _components(),
    }


_DOCUMENT: Final[Schema] = _build()


def openapi_document() -> dict[str, Any]:
    """
    @return: the OpenAPI document, as JSON-ready data; built once and shared,
        so callers must not change it.
    """
    return _DOCUMENT


__all__ = ["openapi_document"]
