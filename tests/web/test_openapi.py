"""
The OpenAPI document: valid OpenAPI 3.1, one operation per route of the klein
app and no other, and schemas that the running server's answers satisfy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
import treq
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.routing import Rule

from julytwisted import __version__, models
from julytwisted.store import Store, private_boards
from julytwisted.web import WebApp
from julytwisted.web.openapi import openapi_document
from tests.builders import github_payload, sha

DOCUMENT = openapi_document()
URI = "urn:julytwisted:openapi"
REGISTRY: Registry[Any] = Registry().with_resource(
    URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012)
)
ADMIN = {"Authorization": "Bearer admin-secret", "Content-Type": "application/json"}
PUSH = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
_VARIABLE = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?\w+>")
_TEMPLATE = re.compile(r"\{[^}]+\}")


def _expand(rule: Rule) -> list[str]:
    """The paths of a werkzeug rule: C{any()} spelled out, other variables C{{}}."""
    paths = [""]
    position = 0
    for match in _VARIABLE.finditer(rule.rule):
        literal = rule.rule[position : match.start()]
        converter, arguments = match.group(1), match.group(2)
        choices = arguments.split(",") if converter == "any" else ["{}"]
        paths = [p + literal + c.strip() for p in paths for c in choices]
        position = match.end()
    return [p + rule.rule[position:] for p in paths]


def _full_paths() -> dict[str, str]:
    """Each path of the document as served (its server's URL before it), to its key."""
    found = {}
    for key, item in DOCUMENT["paths"].items():
        (server,) = item.get("servers", DOCUMENT["servers"])
        found[server["url"].rstrip("/") + key] = key
    return found


#: The document's paths as served, each to its key in the document.
PATHS = _full_paths()


def _operations() -> Iterator[tuple[str, str]]:
    """Every C{(path, METHOD)} of the document, the path as served."""
    for path, key in PATHS.items():
        for method in DOCUMENT["paths"][key]:
            if method not in ("parameters", "servers"):
                yield path, method.upper()


def _operation(path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = DOCUMENT["paths"][PATHS[path]][method.lower()]
    return operation


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _response(template: str, method: str, status: int) -> tuple[dict[str, Any], str]:
    """The response object the document gives, and its JSON pointer."""
    key = PATHS[template]
    operation = DOCUMENT["paths"][key][method.lower()]
    assert str(status) in operation["responses"], (template, method, status)
    response = operation["responses"][str(status)]
    pointer = _pointer("paths", key, method.lower(), "responses", str(status))
    if "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        response = REGISTRY.resolver(URI).lookup(URI + "#" + pointer).contents
    return response, pointer


def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": URI + "#" + pointer},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


async def exchange(
    server: str, method: str, template: str, path: str | None = None, **kw: Any
) -> tuple[int, Any]:
    """
    Send a request to C{path} (by default C{template}) and check the answer
    against the document's response for its status: body and headers.

    @return: the status and the decoded body.
    """
    if isinstance(kw.get("data"), str):
        kw["data"] = kw["data"].encode()
    answer = await treq.request(method, server + (path or template), **kw)
    content = await answer.content()
    response, pointer = _response(template, method, answer.code)
    for header in response.get("headers", {}):
        assert answer.headers.hasHeader(header), (path or template, header)
    if "content" not in response:
        assert content == b""
        return answer.code, None
    (media_type,) = response["content"]
    assert answer.headers.getRawHeaders("Content-Type")[0].startswith(media_type)
    if media_type != "application/json":
        return answer.code, content
    body = json.loads(content)
    media = _pointer("content", media_type, "schema")
    _validator(pointer + media).validate(body)
    return answer.code, body


def test_document_is_valid_openapi_31() -> None:
    """openapi-spec-validator finds the document a valid OpenAPI 3.1.0 one."""
    assert DOCUMENT["openapi"] == "3.1.0"
    validate(DOCUMENT, cls=OpenAPIV31SpecValidator)


def test_document_is_built_once_and_is_json() -> None:
    """Every call returns the one cached document, which survives JSON."""
    assert openapi_document() is DOCUMENT
    assert json.loads(json.dumps(DOCUMENT)) == DOCUMENT


#: Each record the answers carry, by its schema's name.
RECORDS = {
    "Player": models.Player,
    "Project": models.Project,
    "Group": models.Group,
    "Language": models.Language,
    "FileChange": models.CommitFile,
    "Commit": models.Commit,
    "Job": models.JobStatus,
    "File": models.FileInfo,
    "Game": models.ListedGame,
    "BoardStanding": private_boards.BoardStanding,
    "BoardStandings": private_boards.BoardStandings,
}


def test_schemas_are_the_records() -> None:
    """
    Each record's schema names exactly the record's fields, requires those
    it always sends, and is closed; each page is {models, next}.
    """
    schemas = DOCUMENT["components"]["schemas"]
    for name, record in RECORDS.items():
        schema = schemas[name]
        fields = models.wire_fields(record)
        assert list(schema["properties"]) == [f.name for f in fields], name
        optional = {f.name for f in fields if f.default is models.UNSET}
        assert schema["required"] == [
            f.name for f in fields if f.name not in optional
        ], name
        assert schema["additionalProperties"] is False
    for name in ("Player", "Project", "Group", "Language", "Commit", "Game"):
        page = schemas[f"{name}Page"]
        assert list(page["properties"]) == ["models", "next"]
        assert page["properties"]["models"]["items"] == {
            "$ref": f"#/components/schemas/{name}"
        }


def test_a_new_field_reaches_the_document() -> None:
    """A field added to a record appears in its schema: they cannot drift."""
    import attrs

    from julytwisted.web._schemas import record_schema

    @attrs.frozen
    class Wider(models.Group):
        """A group with a motto."""

        motto: str | None = attrs.field(
            default=None, metadata=models.schema("Its motto.", maxLength=80)
        )

    schema = record_schema(Wider, {})
    assert schema["properties"]["motto"] == {
        "type": ["string", "null"],
        "description": "Its motto.",
        "maxLength": 80,
    }
    assert "motto" in schema["required"] and "approved" not in schema["required"]
    assert schema["description"] == "A group with a motto."


def test_info_and_servers() -> None:
    """
    info names julytwisted at the package's version, its licence and a
    contact; the server is /api/v1, and /healthz alone names its own, /.
    """
    assert DOCUMENT["info"]["title"] == "julytwisted"
    assert DOCUMENT["info"]["version"] == __version__
    assert DOCUMENT["info"]["description"]
    assert DOCUMENT["info"]["license"]["identifier"] == "MIT"
    assert DOCUMENT["info"]["contact"]
    assert [s["url"] for s in DOCUMENT["servers"]] == ["/api/v1"]
    own = {k: i["servers"] for k, i in DOCUMENT["paths"].items() if "servers" in i}
    assert [(k, [s["url"] for s in v]) for k, v in own.items()] == [("/healthz", ["/"])]
    assert "/api/v1/" in PATHS and "/api/v1/people/{username}" in PATHS
    tags = {t["name"] for t in DOCUMENT["tags"]}
    assert {tag for p, m in _operations() for tag in _operation(p, m)["tags"]} <= tags


#: Who may call each operation that not everyone may.
GUARDED = {
    ("/api/v1/people", "POST"): [{"adminToken": []}],
    ("/api/v1/boards/{id}", "GET"): [{"boardToken": []}, {"boardTokenQuery": []}],
    ("/api/v1/github", "POST"): [{"githubSignature": []}, {}],
    ("/api/v1/bitbucket", "POST"): [{"bitbucketSignature": []}, {}],
    ("/api/v1/gitlab", "POST"): [{"gitlabToken": []}, {}],
    ("/api/v1/bitbucket-server", "POST"): [{"bitbucketSignature": []}, {}],
}


@pytest.mark.parametrize(
    "service", ["github", "bitbucket", "gitlab", "bitbucket-server"]
)
def test_webhooks_document_ignored_events_and_refusals(service: str) -> None:
    """
    Each webhook documents its 202 for an event that is not a push, its 403
    for a repository nobody added, and whose secret it checks: each
    repository's own, the site's only in an open event.
    """
    described = DOCUMENT["paths"][f"/{service}"]["post"]
    assert "#/components/schemas/Ignored" in json.dumps(described["responses"]["202"])
    assert "/projects/add" in described["responses"]["403"]["description"]
    text = described["description"]
    assert "secret of the repository it names" in text
    assert "--open-repositories" in text
    assert DOCUMENT["components"]["schemas"]["Ignored"]["required"] == ["ignored"]


def test_data_center_webhook_answers_with_its_jobs() -> None:
    """Bitbucket Data Center's pushes are 202 with the jobs that fetch them."""
    described = DOCUMENT["paths"]["/bitbucket-server"]["post"]
    assert "#/components/schemas/Queued" in json.dumps(described["responses"]["202"])
    assert "201" not in described["responses"]


def test_every_operation_is_described_in_full() -> None:
    """
    Each operation has a unique operationId, a tag, a summary and a
    description, its security (empty for the public ones), and at least
    one 4xx answer; the security schemes are those the operations use.
    """
    ids = [_operation(p, m)["operationId"] for p, m in _operations()]
    assert len(ids) == len(set(ids))
    used = set()
    for path, method in _operations():
        operation = _operation(path, method)
        assert operation["tags"] and operation["summary"], (path, method)
        assert len(operation["description"]) > len(operation["summary"]), path
        assert operation["security"] == GUARDED.get((path, method), []), path
        used |= {name for need in operation["security"] for name in need}
        assert any(s.startswith("4") for s in operation["responses"]), (path, method)
    assert used == set(DOCUMENT["components"]["securitySchemes"])


def test_paging_parameters_are_integers_in_range() -> None:
    """
    limit and cursor are integers with their bounds, the same as the store
    and JSON-RPC take.
    """
    from julytwisted.methods import MAX_OFFSET
    from julytwisted.store import MAX_LIMIT

    parameters = DOCUMENT["components"]["parameters"]
    assert parameters["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_LIMIT,
        "default": 20,
    }
    for name in ("offset", "sequence"):
        assert parameters[name]["name"] == "cursor"
        assert parameters[name]["schema"] == {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_OFFSET,
        }


def test_every_route_is_described() -> None:
    """Each klein route has its path and method in the document."""
    described = {(_TEMPLATE.sub("{}", p), m) for p, m in _operations()}
    api_paths = {p for p, _ in described if p.startswith("/api/v1/")}
    for rule in WebApp.app.url_map.iter_rules():
        for method in (rule.methods or set()) - {"HEAD"}:
            if rule.rule == "/api/v1/<anypath:rest>":
                # The catch-all preflight answers OPTIONS on every API path.
                assert {(p, "OPTIONS") for p in api_paths} <= described
                continue
            for path in _expand(rule):
                assert (path, method) in described, (rule.rule, method)


def test_every_operation_is_a_route() -> None:
    """Each path and method of the document is answered by a klein route."""
    adapter = WebApp.app.url_map.bind("localhost")
    for path, method in _operations():
        endpoint, _ = adapter.match(_TEMPLATE.sub("x", path), method=method)
        assert (endpoint == "preflight") == (method == "OPTIONS"), (path, method)


def test_errors_share_the_error_schema() -> None:
    """Every 4xx and 5xx answer of the API is described by the Error schema."""
    for path, method in _operations():
        for status in _operation(path, method)["responses"]:
            if status[0] not in "45" or path == "/healthz":
                continue
            response, _ = _response(path, method, int(status))
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (path, status)


def test_routes_touching_redis_may_answer_503() -> None:
    """Every operation that reads or writes Redis documents 503."""
    quiet = {"/api/v1/", "/api/v1/openapi.json"}
    for path, method in _operations():
        if path not in quiet and method != "OPTIONS":
            assert "503" in _operation(path, method)["responses"], (path, method)


async def _seed(server: str) -> None:
    """Store a player with a location and a team, their push and an orphan's."""
    player = {
        "username": "ada",
        "name": "Ada",
        "emails": ["ada@example.com"],
        "location": "Austin, TX",
        "team": "Snakes",
    }
    code, created = await exchange(
        server, "POST", "/api/v1/people", data=json.dumps(player), headers=ADMIN
    )
    assert code == 201 and created["team"] == "snakes"
    code, _ = await exchange(
        server,
        "POST",
        "/api/v1/github",
        data=json.dumps(github_payload("a", "b")),
        headers=PUSH,
    )
    assert code == 201
    orphan = github_payload("c", email="ghost@example.com")
    await exchange(
        server, "POST", "/api/v1/github", data=json.dumps(orphan), headers=PUSH
    )


async def _queue_a_job(server: str) -> str:
    """Queue a recount through JSON-RPC; return the job's id."""
    call = {"jsonrpc": "2.0", "id": 1, "method": "admin.recount", "params": []}
    response = await treq.post(
        server + "/json/",
        data=json.dumps(call).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Bearer admin-secret",
        },
    )
    job: str = json.loads(await response.content())["result"]["job"]
    return job


#: The metadata of an upload, recorded straight through the store.
FILE = "ab" * 32
UPLOADED = models.NewFile(
    sha256=FILE,
    size=5,
    content_type="text/plain",
    filename="a.txt",
    kind="file",
    project="",
)

#: Each readable path, and the concrete paths of it that the tests ask for.
READS = {
    "/healthz": ["/healthz"],
    "/api/v1/": ["/api/v1/"],
    "/api/v1/openapi.json": ["/api/v1/openapi.json"],
    "/api/v1/people": ["/api/v1/people", "/api/v1/people?game=julython-2026"],
    "/api/v1/projects": ["/api/v1/projects?limit=1"],
    "/api/v1/locations": ["/api/v1/locations"],
    "/api/v1/teams": ["/api/v1/teams"],
    "/api/v1/languages": ["/api/v1/languages?cursor=0"],
    "/api/v1/games": ["/api/v1/games?limit=1"],
    "/api/v1/games/{slug}": ["/api/v1/games/julython-2026"],
    "/api/v1/commits": [
        "/api/v1/commits?limit=1",
        "/api/v1/commits?username=ada",
        "/api/v1/commits?project=gh-ada-engine",
        "/api/v1/commits?game=julython-2026",
    ],
    "/api/v1/people/{username}": [
        "/api/v1/people/ada",
        "/api/v1/people/ada?game=j-an-ulython-2026",
    ],
    "/api/v1/projects/{slug}": ["/api/v1/projects/gh-ada-engine"],
    "/api/v1/locations/{slug}": ["/api/v1/locations/austin-tx"],
    "/api/v1/teams/{slug}": ["/api/v1/teams/snakes"],
    "/api/v1/commits/{hash}": [f"/api/v1/commits/{sha('a')}"],
    "/api/v1/jobs/{id}": ["/api/v1/jobs/{job}"],
    "/api/v1/files/{sha256}": [f"/api/v1/files/{FILE}"],
    "/api/v1/boards/{id}": ["/api/v1/boards/{board}?token={token}"],
}


def test_every_read_is_exercised() -> None:
    """L{READS} asks for every GET of the document."""
    assert set(READS) == {p for p, m in _operations() if m == "GET"}


@pytest_twisted.ensureDeferred
async def test_reads_match_their_schemas(server: str, store: Store) -> None:
    """
    With a player, a scored push, an orphan commit and an uploaded file
    stored, every GET of the document answers 200 with a body its schema
    accepts.
    """
    await _seed(server)
    await store.record_uploads("ada", [UPLOADED], quota=1000)
    job = await _queue_a_job(server)
    board = await store.private_boards.create("ada", "Sprint", store.game())
    for template, paths in READS.items():
        for path in paths:
            path = path.replace("{job}", job).replace("{board}", board.id)
            path = path.replace("{token}", board.token)
            code, _ = await exchange(server, "GET", template, path)
            assert code == 200, path
    _, page = await exchange(server, "GET", "/api/v1/commits", "/api/v1/commits")
    assert {c["username"] for c in page["models"]} == {"ada", None}
    _, other = await exchange(
        server,
        "GET",
        "/api/v1/people/{username}",
        "/api/v1/people/ada?game=j-an-ulython-2026",
    )
    assert other["rank"] is None
    _, team = await exchange(
        server, "GET", "/api/v1/teams/{slug}", "/api/v1/teams/snakes"
    )
    assert team["approved"] is True


@pytest_twisted.ensureDeferred
async def test_served_document_is_this_one(server: str) -> None:
    """GET /api/v1/openapi.json serves the document."""
    _, served = await exchange(server, "GET", "/api/v1/openapi.json")
    assert served == DOCUMENT


@pytest_twisted.ensureDeferred
async def test_preflight_on_every_api_path(server: str) -> None:
    """OPTIONS on each API path of the document is 204 with the listed headers."""
    for template in PATHS:
        if template.startswith("/api/v1/"):
            path = _TEMPLATE.sub("x", template)
            code, _ = await exchange(server, "OPTIONS", template, path)
            assert code == 204, template


@pytest_twisted.ensureDeferred
async def test_error_bodies_match_their_schemas(server: str) -> None:
    """404, 400, 401, 403, 409 and 415 answers are described as they are sent."""
    await _seed(server)
    for template, path, expected in [
        ("/api/v1/people/{username}", "/api/v1/people/nobody", 404),
        ("/api/v1/commits/{hash}", "/api/v1/commits/" + "0" * 40, 404),
        ("/api/v1/people", "/api/v1/people?game=nope", 404),
        ("/api/v1/people", "/api/v1/people?limit=101", 400),
        ("/api/v1/commits", "/api/v1/commits?cursor=x", 400),
        ("/api/v1/games", "/api/v1/games?limit=0", 400),
    ]:
        code, answer = await exchange(server, "GET", template, path)
        assert code == expected and answer["error"], path
    ada = json.dumps({"username": "ada", "emails": []})
    json_type = {"Content-Type": "application/json"}
    for headers, expected in [
        (json_type, 401),
        ({**json_type, "Authorization": "Bearer wrong"}, 403),
        (ADMIN, 409),
        ({**ADMIN, "Content-Type": "text/plain"}, 415),
    ]:
        code, _ = await exchange(
            server, "POST", "/api/v1/people", data=ada, headers=headers
        )
        assert code == expected
    code, _ = await exchange(
        server, "POST", "/api/v1/github", data=b"hi", headers={"Content-Type": "x/y"}
    )
    assert code == 415
    big = b"x" * (1024 * 1024 + 1)
    for method, template in [("GET", "/healthz"), ("OPTIONS", "/api/v1/people")]:
        code, _ = await exchange(server, method, template, data=big)
        assert code == 413, template


@pytest_twisted.ensureDeferred
async def test_webhook_answers_match_their_schemas(server: str, store: Store) -> None:
    """201, the 200 of a redelivery and of a ping, 400 and 202 are as described."""
    data = json.dumps(github_payload("a"))
    hook = "/api/v1/github"
    assert await exchange(server, "POST", hook, data=data, headers=PUSH) == (
        201,
        {"commits": [sha("a")]},
    )
    assert await exchange(server, "POST", hook, data=data, headers=PUSH) == (
        200,
        {"commits": []},
    )
    ping = {**PUSH, "X-GitHub-Event": "ping"}
    assert await exchange(server, "POST", hook, data="{}", headers=ping) == (
        200,
        {"message": "pong"},
    )
    code, _ = await exchange(server, "POST", hook, data="{", headers=PUSH)
    assert code == 400
    await store.set_project_active("gh-ada-engine", False)
    answer = await exchange(
        server, "POST", hook, data=json.dumps(github_payload("b")), headers=PUSH
    )
    assert answer == (202, {"error": "abuse"})


@pytest_twisted.ensureDeferred
async def test_unavailable_redis_is_as_described(server_without_redis: str) -> None:
    """Without Redis, /healthz and a board answer the 503s the document gives."""
    health = await exchange(server_without_redis, "GET", "/healthz")
    board, _ = await exchange(server_without_redis, "GET", "/api/v1/people")
    assert health == (503, {"redis": "unavailable"})
    assert board == 503


@pytest.mark.parametrize("service", ["bitbucket", "gitlab"])
@pytest_twisted.ensureDeferred
async def test_other_hooks_answer_as_described(server: str, service: str) -> None:
    """Bitbucket's and GitLab's hooks answer a payload of the wrong shape 400."""
    path = f"/api/v1/{service}"
    code, answer = await exchange(
        server, "POST", path, data="{}", headers={"Content-Type": "application/json"}
    )
    assert code == 400 and answer["error"]
