# -*- test-case-name: tests.web.test_openapi,tests.web.test_openapi_lint -*-
"""
The OpenAPI 3.1 description of the klein app's routes, served at
C{/api/v1/openapi.json}.

The document is data, built once at import: its operations come from the
table of L{julytwisted.web._operations}, the schemas of the answers'
records are derived from L{julytwisted.models} by
L{julytwisted.web._schemas}, and this module assembles them with the shared
components (parameters, responses, headers, security schemes).  It
describes what L{julytwisted.web} and L{julytwisted.store} do, not what
they might do: L{tests.web.test_openapi} checks it against the app's routes
and validates the running server's answers against its schemas, and
L{tests.web.test_openapi_lint} holds it to redocly's and spectral's rules.
"""

from __future__ import annotations

from typing import Any, Final

from julytwisted import __version__
from julytwisted.models import (
    Commit,
    CommitFile,
    FileInfo,
    GameChange,
    GameDetail,
    GameLogEntry,
    Group,
    JobStatus,
    Language,
    ListedGame,
    Player,
    Project,
)
from julytwisted.store import EMAIL_PATTERN, MAX_LIMIT, NAME_PATTERN, USERNAME_PATTERN
from julytwisted.store.private_boards import BoardStanding, BoardStandings
from julytwisted.web._oas import (
    HEADERS,
    array,
    closed,
    errors,
    group,
    json_response,
    nullable,
    parameter,
    schema,
    string,
)
from julytwisted.web._operations import BOARDS, SERVICES, paths
from julytwisted.web._schemas import Schema, page_schema, record_schema, ref

_HASH = "^([0-9a-f]{40}|[0-9a-f]{64})$"
#: The largest cursor of a listing: the store reads 15 digits at most
#: (L{julytwisted.store.cursor_int}).
MAX_CURSOR: Final = 10**15 - 1
#: A player's name: empty (the username), or one not all blank.
_NAME = f"^$|{NAME_PATTERN}"

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
    BoardStanding: "BoardStanding",
    BoardStandings: "BoardStandings",
    GameDetail: "GameDetail",
    GameLogEntry: "GameLogEntry",
    GameChange: "GameChange",
}

#: The records listed a page at a time.
_PAGED = ("Player", "Project", "Group", "Language", "Commit", "Game")


def _model_schemas() -> dict[str, Schema]:
    """Each record's schema, and each listing's page, derived from the records."""
    schemas = {name: record_schema(r, _RECORDS) for r, name in _RECORDS.items()}
    return schemas | {f"{model}Page": page_schema(model) for model in _PAGED}


def _answer_schemas() -> dict[str, Schema]:
    links = (*BOARDS, "commits", "games", "openapi")
    return {
        "Error": closed({"error": string()}, description="An API error's body."),
        "Health": closed({"redis": {"enum": ["ok", "unavailable"]}}),
        "Index": closed(
            {
                "links": closed({n: string() for n in links}),
                "webhooks": closed({s: string() for s in SERVICES}),
            }
        ),
        "WebhookAnswer": closed(
            {
                "commits": array(string(pattern=_HASH), "The new commits' hashes."),
                "held": array(
                    string(pattern=_HASH),
                    "The new commits held for review (--review-days, or"
                    " flagged): their points are pending.",
                ),
                "completion": string(
                    "The job fetching the commits a truncated push left out"
                    " (GET /jobs/{id}); the same for each redelivery."
                ),
                "verification": string(
                    "The job asking the host about the commits stored pending"
                    " (--verify-commits)."
                ),
            },
            required=["commits"],
        ),
        "Pong": closed({"message": {"const": "pong"}}),
        "Ignored": closed(
            {
                "ignored": string(
                    "The event's name, as its header (or GitLab's object_kind)"
                    " gives it; nothing was stored.",
                    maxLength=100,
                )
            }
        ),
        "Queued": closed(
            {
                "jobs": array(
                    string(),
                    "The jobs that fetch the commits, one per branch: follow"
                    " them at /api/v1/jobs/{id}.",
                )
            }
        ),
        "Abuse": closed({"error": {"const": "abuse"}}),
        "NewPlayer": closed(
            {
                "username": string(
                    "1 to 39 letters, digits, '.', '_' or '-'; stored lower-cased.",
                    pattern=USERNAME_PATTERN,
                ),
                "name": nullable(
                    "string", "By default the username.", maxLength=100, pattern=_NAME
                ),
                "emails": array(
                    string(maxLength=254, pattern=EMAIL_PATTERN),
                    "The commit e-mails of the player.",
                ),
                "location": group("A location's name; made if new."),
                "team": group("A team's name; made if new; approved."),
            },
            required=["username"],
            shut=False,
            description="A new player; other properties are ignored.",
        ),
    }


def _parameters() -> dict[str, Schema]:
    cursor = {"type": "integer", "minimum": 0, "maximum": MAX_CURSOR}
    limit = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}
    only = "Only {}'s commits (then game is ignored{})."
    return {
        "game": parameter("query", "game", "A game's slug; by default the current."),
        "gameFilter": parameter(
            "query", "game", "Only commits that scored in this game; by default all."
        ),
        "limit": parameter("query", "limit", "Rows per page.", limit),
        "offset": parameter("query", "cursor", "A page's next: an offset.", cursor),
        "sequence": parameter("query", "cursor", "A page's next: a sequence.", cursor),
        "username": parameter("query", "username", only.format("a player", "")),
        "project": parameter(
            "query",
            "project",
            only.format("a project", ", and so is this with username"),
        ),
    }


def _security_schemes() -> dict[str, Schema]:
    return {
        "adminToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "The token given to twistd as --admin-token.",
        },
        "boardToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "A private board's read-only token, which its owner"
            " is given and may rotate; or a member's own API token.",
        },
        "boardTokenQuery": {
            "type": "apiKey",
            "in": "query",
            "name": "token",
            "description": "The same token as ?token=, for clients that send no"
            " headers.",
        },
        "githubSignature": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Hub-Signature-256",
            "description": "sha256=HEX: the HMAC-SHA256 of the body under the"
            " repository's own webhook secret (the site's, in an open event),"
            " as GitHub signs its deliveries.",
        },
        "bitbucketSignature": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Hub-Signature",
            "description": "sha256=HEX: the HMAC-SHA256 of the body under the"
            " repository's own webhook secret (the site's, in an open event),"
            " as Bitbucket Cloud and Data Center sign their deliveries.",
        },
        "gitlabToken": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Gitlab-Token",
            "description": "The repository's own webhook secret itself (the"
            " site's, in an open event), as GitLab sends it.",
        },
    }


def _components() -> Schema:
    preflight = ("Allow", "AllowMethods", "AllowHeaders", "MaxAge", "AllowOrigin")
    return {
        "schemas": {**_model_schemas(), **_answer_schemas()},
        "responses": {
            "Unavailable": json_response(
                "Redis did not answer.", schema("Error"), "RetryAfter"
            ),
            "TooLarge": errors(
                _413="The request's body is over the site's limit (1 MiB)."
            )["413"],
            "Preflight": {
                "description": "The methods and headers cross-origin callers may use.",
                "headers": {HEADERS[n][0]: ref("headers", n) for n in preflight},
            },
        },
        "parameters": _parameters(),
        "headers": {
            key: {"description": text, "schema": {"type": kind}}
            for key, (_, kind, text) in HEADERS.items()
        },
        "securitySchemes": _security_schemes(),
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
    info = {
        "title": "julytwisted",
        "version": __version__,
        "description": description,
        "contact": {"name": "The organisers of this competition"},
        "license": {"name": "MIT", "identifier": "MIT"},
    }
    return {
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": "/api/v1", "description": "The REST API."}],
        "tags": [{"name": k, "description": v} for k, v in _TAGS.items()],
        "paths": paths(),
        "components": _components(),
    }


_DOCUMENT: Final[Schema] = _build()


def openapi_document() -> dict[str, Any]:
    """
    @return: the OpenAPI document, as JSON-ready data; built once and shared,
        so callers must not change it.
    """
    return _DOCUMENT


__all__ = ["MAX_CURSOR", "openapi_document"]
