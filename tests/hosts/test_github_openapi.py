"""
The GitHub stub's shapes against GitHub's published OpenAPI description
(the npm package C{@octokit/openapi}): every answer the stub gives during a
whole sign-in and repository flow, and the hook julytwisted asks it to make,
must validate against the operation's documented schema.

The package is installed with npm into a cache directory when missing.  The
test skips only when C{npm} itself is absent, and never where
C{JULYTHON_REQUIRE_BROWSER} is set (CI), where it fails instead.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from julytwisted.hosts import (
    Http,
    Token,
    compare,
    create_hook,
    delete_hook,
    fetch_account,
    fetch_commit,
    fetch_repository,
    list_hooks,
    ping_hook,
)
from tests.hosts.conftest import APP, CALLBACK
from tests.hosts.flow import sign_in
from tests.hosts.stub import Commit, Email, StubRepository, User, sha
from tests.hosts.stub_github import GitHubStub
from tests.npm_cache import NoNpm, installed

#: The description checked against; change it to check a newer one.
OCTOKIT_OPENAPI = "@octokit/openapi@23.0.2"
DESCRIPTION = "@octokit/openapi/generated/api.github.com.json"
SPEC_URI = "urn:julytwisted:github-openapi"

#: The operations the stub serves, by the path GitHub documents them under.
OPERATIONS = [
    "/user",
    "/user/emails",
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/hooks",
    "/repos/{owner}/{repo}/hooks/{hook_id}",
    "/repos/{owner}/{repo}/hooks/{hook_id}/pings",
    "/repos/{owner}/{repo}/compare/{basehead}",
    "/repos/{owner}/{repo}/commits/{ref}",
]


def _install() -> Path:
    """The description's file, installed with npm if it is not yet."""
    try:
        return installed([OCTOKIT_OPENAPI], DESCRIPTION)
    except NoNpm as e:
        message = f"checking GitHub's shapes: {e}"
        if os.environ.get("JULYTHON_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    except RuntimeError as e:
        pytest.fail(str(e))


def _null_alternatives(node: object) -> None:
    """
    Read C{nullable} beside C{oneOf} as GitHub means it (the value may be
    null: a commit's C{author} when no account has its e-mail); OAS 3.0.3
    lets C{nullable} act only beside C{type}, which would refuse the null
    GitHub sends.
    """
    if isinstance(node, dict):
        for value in node.values():
            _null_alternatives(value)
        if node.get("nullable") is True and "oneOf" in node and "type" not in node:
            node["oneOf"] = [*node["oneOf"], {"enum": [None]}]
    elif isinstance(node, list):
        for value in node:
            _null_alternatives(value)


@pytest.fixture(scope="module")
def registry() -> Registry[Any]:
    """GitHub's description, as a resource its own $refs resolve in."""
    spec = json.loads(_install().read_text())
    _null_alternatives(spec)
    resource = Resource.from_contents(spec, default_specification=DRAFT4)
    return Registry().with_resource(SPEC_URI, resource)  # type: ignore[no-any-return]


def _pointer(*parts: str) -> str:
    escaped = (p.replace("~", "~0").replace("/", "~1") for p in parts)
    return f"{SPEC_URI}#/" + "/".join(escaped)


def _errors(registry: Registry[Any], pointer: str, value: object) -> list[str]:
    validator = OAS30Validator(
        {"$ref": pointer}, registry=registry, format_checker=oas30_format_checker
    )
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(value)]


def _operation(path: str) -> str | None:
    """The documented path a stub API path is an instance of."""
    for documented in OPERATIONS:
        pattern = re.sub(r"\{[a-z_]+\}", "[^/]+", documented)
        if re.fullmatch("/api/v3" + pattern, path):
            return documented
    return None


async def _whole_flow(github: GitHubStub, http: Http) -> None:
    """Sign in, read the account, and use every repository call once."""
    github.browser = github.add_user(
        User(
            583231,
            "octocat",
            "The Octocat",
            [
                Email("octo@example.com", primary=True),
                Email("spare@example.com", verified=False),
            ],
        )
    )
    history = [
        Commit(sha(f"o{i}"), f"m{i}", "Octo", "octo@example.com") for i in range(4)
    ]
    github.add_repository(
        StubRepository(1296269, "octocat/hello", admins={"octocat"}, commits=history)
    )
    _, token = await sign_in(http, github, APP, CALLBACK, repositories=True)
    await fetch_account(http, github.host, token)
    repo = await fetch_repository(http, github.host, token, "octocat/hello")
    hook = await create_hook(http, github.host, token, repo, "https://j.example/h", "s")
    await list_hooks(http, github.host, token, repo)
    await ping_hook(http, github.host, token, repo, hook.id)
    await compare(http, github.host, token, repo, history[0].sha, history[-1].sha)
    await compare(http, github.host, token, repo, "main", history[-1].sha)
    await fetch_commit(http, github.host, token, repo, history[1].sha)
    with pytest.raises(Exception, match="No commit found"):
        await fetch_commit(http, github.host, token, repo, sha("unknown"))
    await delete_hook(http, github.host, token, repo, hook.id)
    await delete_hook(http, github.host, token, repo, hook.id)
    with pytest.raises(Exception, match="Bad credentials"):
        await fetch_account(http, github.host, Token("wrong"))


def _response(
    registry: Registry[Any], documented: str, method: str, status: str
) -> tuple[str, dict[str, Any]]:
    """The pointer to a documented response and the response, $refs followed."""
    pointer = _pointer("paths", documented, method, "responses", status)
    contents = registry.resolver().lookup(pointer).contents
    while "$ref" in contents:
        pointer = SPEC_URI + contents["$ref"]
        contents = registry.resolver().lookup(pointer).contents
    return pointer, contents


@pytest_twisted.ensureDeferred
async def test_stub_answers_as_github_documents(
    github: GitHubStub, http: Http, registry: Registry[Any]
) -> None:
    """
    Each API answer of the stub, success or error, validates against the
    schema GitHub documents for that operation and status; each operation
    is answered at least once.
    """
    await _whole_flow(github, http)
    problems: list[str] = []
    checked: set[str] = set()
    for asked, reply in github.replies:
        documented = _operation(asked.path)
        if documented is None:
            continue
        where = f"{asked.method} {documented} {reply.status}"
        method, status = asked.method.lower(), str(reply.status)
        pointer, response = _response(registry, documented, method, status)
        if "application/json" not in response.get("content", {}):
            assert reply.body is None, f"{where}: GitHub documents no body"
        else:
            schema = f"{pointer}/content/application~1json/schema"
            found = _errors(registry, schema, reply.body)
            problems += [f"{where}: {problem}" for problem in found]
        checked.add(documented)
    assert not problems, "\n".join(problems)
    assert checked == set(OPERATIONS)


@pytest_twisted.ensureDeferred
async def test_hook_request_as_github_documents(
    github: GitHubStub, http: Http, registry: Registry[Any]
) -> None:
    """The hook julytwisted asks for is a body GitHub's schema accepts."""
    await _whole_flow(github, http)
    [made] = github.asked_for("POST", "/api/v3/repos/octocat/hello/hooks")
    body = _pointer(
        "paths",
        "/repos/{owner}/{repo}/hooks",
        "post",
        "requestBody",
        "content",
        "application/json",
        "schema",
    )
    assert _errors(registry, body, made.json()) == []
    assert made.json()["config"]["secret"] == "s"
