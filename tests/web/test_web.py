"""
The REST API and the webhooks over real HTTP: a listening Site on 127.0.0.1,
treq as the client, a real redis-server behind.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import attrs
import pytest
import pytest_twisted
import treq
from twisted.internet import reactor, task, threads

from julytwisted.config import Config
from julytwisted.errors import NotFound
from julytwisted.jobs.queue import Queue
from julytwisted.service import build_site
from julytwisted.store import Store
from tests.builders import body, github_payload, sha

ADMIN = {"Authorization": "Bearer admin-secret", "Content-Type": "application/json"}
JSON = {"Content-Type": "application/json"}


async def call(method: str, url: str, **kwargs: Any) -> tuple[int, Any, Any]:
    response = await treq.request(method, url, **kwargs)
    content = await response.content()
    decoded = json.loads(content) if content else None
    return response.code, decoded, response.headers


async def add_ada(server: str, **extra: Any) -> dict[str, Any]:
    player = {
        "username": "ada",
        "name": "Ada",
        "emails": ["ada@example.com"],
        "location": "Austin, TX",
        **extra,
    }
    code, created, _ = await call(
        "POST",
        server + "/api/v1/people",
        data=json.dumps(player).encode(),
        headers=ADMIN,
    )
    assert code == 201, created
    return created


async def post_github(
    server: str, payload: object, **headers: str
) -> tuple[int, Any, Any]:
    return await call(
        "POST",
        server + "/api/v1/github",
        data=payload if isinstance(payload, bytes) else body(payload),  # type: ignore[arg-type]
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            **headers,
        },
    )


@pytest_twisted.ensureDeferred
async def test_worked_example_over_http(server: str) -> None:
    """Two commits pushed to GitHub's hook: 201 and 12 points on each board."""
    await add_ada(server)
    code, answer, _ = await post_github(server, github_payload("a", "b"))
    assert code == 201
    assert answer == {"commits": [sha("a"), sha("b")]}
    _, player, _ = await call("GET", server + "/api/v1/people/ada")
    assert (player["points"], player["rank"], player["commits"]) == (12, 1, 2)
    _, same, _ = await call("GET", server + "/api/v1/people/Ada")
    assert same == player
    _, proj, _ = await call("GET", server + "/api/v1/projects/gh-ada-engine")
    assert proj["points"] == 12
    _, where, _ = await call("GET", server + "/api/v1/locations/austin-tx")
    assert where["points"] == 12


@pytest_twisted.ensureDeferred
async def test_push_queues_a_notification_for_each_receiver(
    server_with: Callable[[Config], str], config: Config, queue: Queue
) -> None:
    """
    A push with new commits queues one notify job for each outgoing webhook
    (queued together) before it is answered; one with none queues nothing.
    """
    receivers = ("http://127.0.0.1:9/a", "http://127.0.0.1:9/b")
    server = server_with(attrs.evolve(config, notify=receivers))
    code, _, _ = await post_github(server, github_payload("a"))
    assert code == 201
    assert (await queue.stats())["queued"] == 2
    code, _, _ = await post_github(server, github_payload("a"))
    assert code == 200
    assert (await queue.stats())["queued"] == 2


@pytest_twisted.ensureDeferred
async def test_redelivery_answers_200_and_counts_once(server: str) -> None:
    """The same delivery sent again is 200 with no new commits."""
    await add_ada(server)
    await post_github(server, github_payload("a"))
    code, answer, _ = await post_github(server, github_payload("a"))
    assert (code, answer) == (200, {"commits": []})
    _, player, _ = await call("GET", server + "/api/v1/people/ada")
    assert player["points"] == 11


@pytest_twisted.ensureDeferred
async def test_tag_push_scores_nothing(server: str) -> None:
    """A tag push is answered 200 and stores nothing."""
    payload = github_payload("a")
    payload["ref"] = "refs/tags/v1.0"
    code, answer, _ = await post_github(server, payload)
    assert (code, answer) == (200, {"commits": []})
    code, _, _ = await call("GET", server + f"/api/v1/commits/{sha('a')}")
    assert code == 404


@pytest_twisted.ensureDeferred
async def test_ping_pongs(server: str) -> None:
    """GitHub's ping event gets 200 pong."""
    code, answer, _ = await post_github(
        server,
        {"zen": "Keep it logically awesome.", "hook_id": 1},
        **{"X-GitHub-Event": "ping"},
    )
    assert (code, answer) == (200, {"message": "pong"})


@pytest_twisted.ensureDeferred
async def test_form_encoded_payload(server: str) -> None:
    """The old form body, payload=JSON, is accepted like a JSON body."""
    form = urlencode({"payload": json.dumps(github_payload("a"))}).encode()
    code, answer, _ = await call(
        "POST",
        server + "/api/v1/github",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (code, answer) == (201, {"commits": [sha("a")]})


@pytest_twisted.ensureDeferred
async def test_malformed_json_is_400_and_stores_nothing(server: str) -> None:
    """A body that is not JSON gets a specific 400 and nothing is stored."""
    code, answer, _ = await post_github(server, b'{"commits": [')
    assert code == 400
    assert "JSON" in answer["error"]
    _, commits, _ = await call("GET", server + "/api/v1/commits")
    assert commits["models"] == []


@pytest_twisted.ensureDeferred
async def test_payload_of_wrong_shape_is_400(server: str) -> None:
    """Valid JSON that is not a push payload gets a 400 naming the problem."""
    code, answer, _ = await post_github(server, {"hello": "world"})
    assert code == 400 and answer["error"]


@pytest_twisted.ensureDeferred
async def test_wrong_content_type_is_415(server: str) -> None:
    """A body of an unsupported type is 415."""
    code, answer, _ = await call(
        "POST",
        server + "/api/v1/github",
        data=b"hello",
        headers={"Content-Type": "text/plain"},
    )
    assert code == 415 and "application/json" in answer["error"]


@pytest_twisted.ensureDeferred
async def test_script_message_is_json_escaped(server: str) -> None:
    """A <script> message is stored verbatim and returned escaped in JSON."""
    message = "<script>alert(1)</script>"
    await post_github(server, github_payload("a", message=message))
    response = await treq.get(server + f"/api/v1/commits/{sha('a')}")
    raw = await response.content()
    assert b"<script>" not in raw
    assert b"\\u003cscript\\u003e" in raw
    assert json.loads(raw)["message"] == message


@pytest_twisted.ensureDeferred
async def test_deactivated_project_is_abuse(server: str, store: Store) -> None:
    """A push to a deactivated project is 202 abuse and stores nothing."""
    await post_github(server, github_payload("a"))
    await store.set_project_active("gh-ada-engine", False)
    code, answer, _ = await post_github(server, github_payload("b"))
    assert (code, answer) == (202, {"error": "abuse"})
    code, _, _ = await call("GET", server + f"/api/v1/commits/{sha('b')}")
    assert code == 404


@pytest_twisted.ensureDeferred
async def test_push_of_2048_commits(server: str) -> None:
    """
    GitHub's largest push is ingested in one request.  Its commits are dated
    a second apart, so past the first 30 of each minute they are a burst,
    held for an admin: 34 full minutes and 8 commits of a 35th count.
    """
    await add_ada(server)
    seeds = [str(i) for i in range(2048)]
    code, answer, _ = await post_github(server, github_payload(*seeds))
    assert code == 201
    assert len(answer["commits"]) == 2048
    assert len(answer["held"]) == 34 * 30
    _, player, _ = await call("GET", server + "/api/v1/people/ada")
    assert player["points"] == 34 * 30 + 8 + 10
    assert player["pending_points"] == 34 * 30


@pytest_twisted.async_yield_fixture
async def signed_server(store: Store, config: Config, queue: Queue) -> Any:
    """A Site whose webhooks need the signature of the secret 's3cret'."""
    site = build_site(store, attrs.evolve(config, webhook_secret="s3cret"), queue)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}"
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_signatures(signed_server: str) -> None:
    """With a secret, an unsigned or wrongly signed push is 401; a signed one lands."""
    data = body(github_payload("a"))
    code, answer, _ = await post_github(signed_server, data)
    assert code == 401 and "X-Hub-Signature-256" in answer["error"]
    code, _, _ = await post_github(
        signed_server, data, **{"X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    assert code == 401
    good = hmac.new(b"s3cret", data, hashlib.sha256).hexdigest()
    code, answer, _ = await post_github(
        signed_server, data, **{"X-Hub-Signature-256": "sha256=" + good}
    )
    assert (code, answer) == (201, {"commits": [sha("a")]})


@pytest_twisted.ensureDeferred
async def test_gitlab_token(signed_server: str) -> None:
    """GitLab's token header is checked against the secret."""
    payload = {
        "object_kind": "push",
        "ref": "refs/heads/main",
        "after": sha("g"),
        "project": {
            "name": "engine",
            "web_url": "https://gitlab.com/ada/engine",
            "path_with_namespace": "ada/engine",
            "description": "",
        },
        "commits": [
            {
                "id": sha("g"),
                "message": "fix",
                "timestamp": "2026-07-10T10:00:00+02:00",
                "url": "https://gitlab.com/ada/engine/-/commit/" + sha("g"),
                "author": {"name": "Ada", "email": "ada@example.com"},
                "added": [],
                "modified": ["a.py"],
                "removed": [],
            }
        ],
    }
    url = signed_server + "/api/v1/gitlab"
    code, _, _ = await call(
        "POST", url, data=body(payload), headers={**JSON, "X-Gitlab-Token": "nope"}
    )
    assert code == 401
    code, answer, _ = await call(
        "POST", url, data=body(payload), headers={**JSON, "X-Gitlab-Token": "s3cret"}
    )
    assert (code, answer) == (201, {"commits": [sha("g")]})


def _raw_exchange(url: str, request: bytes) -> bytes:
    parsed = urlparse(url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest_twisted.ensureDeferred
async def test_body_over_limit_refused_before_it_is_read(server: str) -> None:
    """
    A Content-Length over 25 MiB is answered 413 at once, though not one byte
    of the body was sent; the store is untouched.
    """
    request = (
        b"POST /api/v1/github HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: " + str(25 * 1024 * 1024 + 1).encode() + b"\r\n\r\n"
    )
    answer = await threads.deferToThread(_raw_exchange, server, request)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"over the limit" in answer
    _, commits, _ = await call("GET", server + "/api/v1/commits")
    assert commits["models"] == []


@pytest_twisted.ensureDeferred
async def test_chunked_body_over_limit_is_413(
    store: Store, config: Config, queue: Queue
) -> None:
    """A chunked body is cut off with 413 once it passes the limit."""
    site = build_site(store, attrs.evolve(config, webhook_max_body=1000), queue)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{port.getHost().port}"
        chunk = b"x" * 600
        request = (
            b"POST /api/v1/github HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n%s\r\n" % (len(chunk), chunk)
            + b"%x\r\n%s\r\n" % (len(chunk), chunk)
            + b"0\r\n\r\n"
        )
        answer = await threads.deferToThread(_raw_exchange, url, request)
    finally:
        await port.stopListening()
    assert answer.startswith(b"HTTP/1.1 413 ")


@pytest_twisted.ensureDeferred
async def test_cors_on_every_answer(server: str) -> None:
    """API answers, errors included, carry CORS headers."""
    for path in ("/api/v1/", "/api/v1/people", "/api/v1/people/nobody"):
        response = await treq.get(server + path)
        await response.content()
        assert response.headers.getRawHeaders("Access-Control-Allow-Origin") == ["*"]


@pytest_twisted.ensureDeferred
async def test_options_preflight(server: str) -> None:
    """OPTIONS answers with Allow and the preflight headers."""
    response = await treq.request("OPTIONS", server + "/api/v1/people")
    await response.content()
    assert response.code == 204
    allow = response.headers.getRawHeaders("Allow")[0]
    assert {"GET", "POST", "OPTIONS"} <= {m.strip() for m in allow.split(",")}
    assert response.headers.getRawHeaders("Access-Control-Allow-Methods")
    assert (
        "Authorization"
        in response.headers.getRawHeaders("Access-Control-Allow-Headers")[0]
    )
    assert response.headers.getRawHeaders("Access-Control-Max-Age") == ["86400"]
    missing = await treq.request("OPTIONS", server + "/api/v1/nothing-here")
    await missing.content()
    assert missing.code == 404


@pytest_twisted.ensureDeferred
async def test_create_player_auth_and_conflicts(server: str) -> None:
    """Creating a player needs the admin token; taken names are 409, bad ones 400."""
    player = json.dumps({"username": "ada", "emails": ["ada@example.com"]}).encode()
    url = server + "/api/v1/people"
    code, _, headers = await call("POST", url, data=player, headers=JSON)
    assert code == 401 and headers.getRawHeaders("WWW-Authenticate")
    code, _, _ = await call(
        "POST", url, data=player, headers={**JSON, "Authorization": "Bearer wrong"}
    )
    assert code == 403
    code, created, headers = await call("POST", url, data=player, headers=ADMIN)
    assert code == 201 and created["username"] == "ada"
    assert headers.getRawHeaders("Location") == ["/api/v1/people/ada"]
    code, _, _ = await call("POST", url, data=player, headers=ADMIN)
    assert code == 409
    other = json.dumps({"username": "bob", "emails": ["ADA@example.com"]}).encode()
    code, answer, _ = await call("POST", url, data=other, headers=ADMIN)
    assert code == 409 and "ada@example.com" in answer["error"]
    bad = json.dumps({"username": "b b", "emails": []}).encode()
    code, answer, _ = await call("POST", url, data=bad, headers=ADMIN)
    assert code == 400 and "username" in answer["error"]
    code, _, _ = await call("POST", url, data=b"[1]", headers=ADMIN)
    assert code == 400


@pytest_twisted.ensureDeferred
async def test_admin_token_guesses_meet_429(server: str, store: Store) -> None:
    """
    Guesses at the admin token on the REST API draw on the address's budget
    of failed credentials (10): past it, 429 with Retry-After (a status the
    OpenAPI document declares), and even the right token is not checked
    from there; no player is made.  A request without a token guesses
    nothing and spends nothing.
    """
    player = json.dumps({"username": "eve", "emails": []}).encode()
    url = server + "/api/v1/people"
    for _ in range(20):
        code, _, _ = await call("POST", url, data=player, headers=JSON)
        assert code == 401
    codes = []
    for n in range(700):
        wrong = {**JSON, "Authorization": f"Bearer guess-{n}"}
        code, answer, headers = await call("POST", url, data=player, headers=wrong)
        codes.append(code)
        if code == 429:
            break
    assert codes == [403] * 9 + [429]
    assert "retry" in answer["error"]
    assert int(headers.getRawHeaders("Retry-After")[0]) >= 1
    code, _, _ = await call("POST", url, data=player, headers=ADMIN)
    assert code == 429
    with pytest.raises(NotFound):
        await store.player("eve")
    _, document, _ = await call("GET", server + "/api/v1/openapi.json")
    assert "429" in document["paths"]["/people"]["post"]["responses"]


@pytest_twisted.ensureDeferred
async def test_created_players_emails_adopt_at_once(server: str, store: Store) -> None:
    """
    The e-mails an admin gives a new player are vouched for: the commits
    already made with them score at once, not at the next hourly sweep.
    An e-mail that is not text is refused, creating nobody.
    """
    await post_github(server, github_payload("a", "b"))
    bad = json.dumps({"username": "ada", "emails": [1]}).encode()
    code, answer, _ = await call(
        "POST", server + "/api/v1/people", data=bad, headers=ADMIN
    )
    assert code == 400 and "emails" in answer["error"]
    code, _, _ = await call("GET", server + "/api/v1/people/ada")
    assert code == 404
    await add_ada(server)
    assert await store.pending_emails("ada") == []
    for _ in range(200):
        _, player, _ = await call("GET", server + "/api/v1/people/ada")
        if player["points"] == 12:
            break
        await task.deferLater(reactor, 0.05, lambda: None)
    assert (player["points"], player["commits"]) == (12, 2)


@pytest_twisted.ensureDeferred
async def test_lists_and_cursors(server: str) -> None:
    """Lists page with limit and cursor; a bad limit is 400."""
    await add_ada(server)
    await post_github(server, github_payload(*(str(i) for i in range(5))))
    code, page, _ = await call("GET", server + "/api/v1/commits?limit=2")
    assert code == 200 and len(page["models"]) == 2 and page["next"]
    code, rest, _ = await call(
        "GET", server + f"/api/v1/commits?limit=10&cursor={page['next']}"
    )
    assert len(rest["models"]) == 3 and rest["next"] is None
    for kind in ("people", "projects", "locations", "languages", "teams"):
        code, board, _ = await call("GET", server + f"/api/v1/{kind}")
        assert code == 200 and "models" in board
    code, answer, _ = await call("GET", server + "/api/v1/people?limit=101")
    assert code == 400 and "limit" in answer["error"]
    code, answer, _ = await call("GET", server + "/api/v1/people?game=nope")
    assert code == 404
    code, games, _ = await call("GET", server + "/api/v1/games")
    assert any(g["slug"] == "julython-2026" and g["current"] for g in games["models"])


@pytest_twisted.ensureDeferred
async def test_unknown_objects_are_json_404(server: str) -> None:
    """Unknown objects and routes are 404 with a JSON error."""
    for path in (
        "/api/v1/people/nobody",
        "/api/v1/commits/" + "0" * 40,
        "/api/v1/nothing",
    ):
        code, answer, _ = await call("GET", server + path)
        assert code == 404 and answer["error"]


@pytest_twisted.ensureDeferred
async def test_wrong_method_is_405(server: str) -> None:
    """A verb a route does not take is 405 with Allow."""
    code, _, headers = await call("DELETE", server + "/api/v1/people")
    assert code == 405
    assert "GET" in headers.getRawHeaders("Allow")[0]


@pytest_twisted.ensureDeferred
async def test_a_route_redirect_says_where(server: str) -> None:
    """
    A path a route takes only with its trailing slash is redirected there:
    308 with a Location (it was a 308 with none, a redirect to nowhere).
    """
    response = await treq.get(server + "/api/v1", allow_redirects=False)
    assert response.code == 308
    assert response.headers.getRawHeaders("Location") == ["/api/v1/"]
    await response.content()
    code, answer, _ = await call("GET", server + "/api/v1")
    assert code == 200 and "links" in answer


@pytest_twisted.ensureDeferred
async def test_missing_credentials_and_redis_away_say_what_to_do(
    server: str, server_without_redis: str
) -> None:
    """
    A 401 carries the Bearer challenge; a 503 when Redis is away carries
    Retry-After, as at every door.
    """
    code, _, headers = await call("POST", server + "/api/v1/people", headers=JSON)
    assert code == 401
    assert headers.getRawHeaders("WWW-Authenticate") == ['Bearer realm="julython"']
    code, _, headers = await call("GET", server_without_redis + "/api/v1/people")
    assert (code, headers.getRawHeaders("Retry-After")) == (503, ["1"])


@pytest_twisted.ensureDeferred
async def test_healthz(server: str) -> None:
    """/healthz is 200 while Redis answers."""
    code, answer, _ = await call("GET", server + "/healthz")
    assert (code, answer) == (200, {"redis": "ok"})


@pytest_twisted.ensureDeferred
async def test_healthz_503_without_redis(server_without_redis: str) -> None:
    """/healthz is 503 when Redis does not answer, and so is a board."""
    code, answer, _ = await call("GET", server_without_redis + "/healthz")
    code2, answer2, _ = await call("GET", server_without_redis + "/api/v1/people")
    assert (code, answer) == (503, {"redis": "unavailable"})
    assert code2 == 503 and "Redis" in answer2["error"]


@pytest.mark.parametrize("path", ["/", "/api/v1/openapi.json"])
@pytest_twisted.ensureDeferred
async def test_pages_answer(server: str, path: str) -> None:
    """The home page and the OpenAPI document answer 200."""
    response = await treq.get(server + path)
    await response.content()
    assert response.code == 200


PAYLOADS = Path(__file__).parent.parent / "payloads"


def on_gitlab_com(path: Path) -> bytes:
    """
    A sample payload, GitLab's moved from the sites its documentation uses
    (example.com, localhost) to gitlab.com, the only GitLab site of a server
    with no --provider-url gitlab.
    """
    data = path.read_bytes()
    for site in (b"//example.com/", b"//localhost/"):
        data = data.replace(site, b"//gitlab.com/")
    return data


@pytest.mark.parametrize(
    ("service", "name", "headers"),
    [
        ("bitbucket", "bitbucket_push.json", {"X-Event-Key": "repo:push"}),
        ("bitbucket", "bitbucket_post.json", {}),
        ("gitlab", "gitlab_push.json", {"X-Gitlab-Event": "Push Hook"}),
        ("gitlab", "gitlab_push_legacy.json", {}),
        ("github", "github_push_2012.json", {"X-GitHub-Event": "push"}),
    ],
)
@pytest_twisted.ensureDeferred
async def test_each_service_format_lands(
    server: str, service: str, name: str, headers: dict[str, str]
) -> None:
    """Each format's sample push is 201 and its commits can be read back."""
    data = on_gitlab_com(PAYLOADS / name)
    code, answer, _ = await call(
        "POST",
        f"{server}/api/v1/{service}",
        data=data,
        headers={"Content-Type": "application/json", **headers},
    )
    assert code == 201, answer
    for h in answer["commits"]:
        code, stored, _ = await call("GET", f"{server}/api/v1/commits/{h}")
        assert code == 200 and stored["hash"] == h


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("bitbucket", "bitbucket_tag_push.json"),
        ("bitbucket", "bitbucket_branch_delete.json"),
        ("gitlab", "gitlab_tag_push.json"),
        ("github", "github_branch_delete.json"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_tags_and_deletions_store_nothing(
    server: str, service: str, name: str
) -> None:
    """Tag pushes and branch deletions are 200 with no commits, and store none."""
    code, answer, _ = await call(
        "POST",
        f"{server}/api/v1/{service}",
        data=on_gitlab_com(PAYLOADS / name),
        headers=JSON,
    )
    assert (code, answer) == (200, {"commits": []})
    _, commits, _ = await call("GET", server + "/api/v1/commits")
    assert commits["models"] == []


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize(
    "query",
    [
        "cursor=496554501053046051316204444090331",  # found by schemathesis: a 500
        "cursor=%C2%B2",  # a superscript two: isdigit() but not int()
        "cursor=%D9%A3",  # an Arabic-Indic three
        "cursor=-1",
        "limit=%C2%B9",
        "limit=0",
        "limit=101",
    ],
)
async def test_bad_paging_is_400(server: str, query: str) -> None:
    """Paging arguments are ASCII digits in range; anything else is a 400."""
    for kind in ("locations", "commits"):
        code, answer, _ = await call("GET", f"{server}/api/v1/{kind}?{query}")
        assert code == 400, (kind, answer)
        assert "cursor" in answer["error"] or "limit" in answer["error"]
