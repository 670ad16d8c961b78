"""
The product's JSON-RPC methods at /json/, over real HTTP against a real
redis-server: reads, sign-up and sign-in in each form, the player's own
methods and the admin's.
"""

from __future__ import annotations

import base64
import itertools
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import deferLater

from julytwisted.auth.hashing import PasswordHasher
from julytwisted.config import Config, Limit
from julytwisted.store import Store
from tests.builders import body, github_payload
from tests.conftest import MailSite
from tests.mailboxes import link_in
from tests.pages.test_accounts import Visitor, until
from tests.pages.test_mail_links import open_and_press
from tests.test_metrics import samples, value

_ids = itertools.count(1)


async def rpc(
    server: str, method: str, params: Any = None, auth: str | None = None
) -> tuple[int, dict[str, Any]]:
    """One JSON-RPC 2.0 call; returns the HTTP status and the response object."""
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    request = {"jsonrpc": "2.0", "method": method, "id": next(_ids)}
    if params is not None:
        request["params"] = params
    response = await treq.post(
        server + "/json/", data=json.dumps(request).encode(), headers=headers
    )
    return response.code, json.loads(await response.content())


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


ADMIN = "Bearer admin-secret"


async def finished(server: str, job: str) -> dict[str, Any]:
    """Follow a job with jobs.status until it is done; return its status."""
    for _ in range(200):
        _, answer = await rpc(server, "jobs.status", [job])
        if answer["result"]["state"] in ("done", "failed"):
            assert answer["result"]["state"] == "done", answer
            return answer["result"]  # type: ignore[no-any-return]
        await deferLater(reactor, 0.05, lambda: None)
    raise AssertionError("the job never finished")


async def push(server: str, *seeds: str, email: str = "ada@example.com") -> None:
    response = await treq.post(
        server + "/api/v1/github",
        data=body(github_payload(*seeds, email=email)),
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push"},
    )
    assert response.code in (200, 201), await response.content()


async def signup(server: str, vouch: bool = True) -> None:
    """
    Ada signs up; her e-mail is pending until confirmed, so unless told
    otherwise the admin vouches for it, and its adoption job has run.
    """
    code, answer = await rpc(
        server,
        "julython.signup",
        {"username": "ada", "password": "correct horse", "email": "ada@example.com"},
    )
    assert code == 200 and answer["result"]["username"] == "ada", answer
    if vouch:
        _, answer = await rpc(
            server, "admin.addEmail", ["ada", "ada@example.com"], auth=ADMIN
        )
        await finished(server, answer["result"]["job"])


@pytest_twisted.ensureDeferred
async def test_leaders_after_a_push(server: str) -> None:
    """julython.leaders shows the board the push scored on."""
    await signup(server)
    await push(server, "a", "b")
    _, answer = await rpc(server, "julython.leaders", {"board": "people"})
    assert [(m["username"], m["points"]) for m in answer["result"]] == [("ada", 12)]
    _, answer = await rpc(server, "julython.leaders", ["projects", None, 5])
    assert answer["result"][0]["slug"] == "gh-ada-engine"


@pytest_twisted.ensureDeferred
async def test_safe_method_by_get(server: str) -> None:
    """A safe method answers GET /json/<method>?params."""
    await signup(server)
    response = await treq.get(server + "/json/julython.player?username=ada")
    answer = json.loads(await response.content())
    assert response.code == 200 and answer["result"]["username"] == "ada"


@pytest_twisted.ensureDeferred
async def test_reads_and_their_errors(server: str) -> None:
    """Unknown objects are 404 errors; bad params are -32602."""
    await signup(server)
    await push(server, "a")
    _, answer = await rpc(server, "julython.project", {"slug": "gh-ada-engine"})
    assert answer["result"]["commits"] == 1
    _, answer = await rpc(server, "julython.commits", {"username": "ada"})
    assert len(answer["result"]["models"]) == 1
    _, answer = await rpc(server, "julython.games")
    assert any(g["current"] for g in answer["result"])
    _, answer = await rpc(server, "julython.player", {"username": "nobody"})
    assert answer["error"]["code"] == 404
    _, answer = await rpc(server, "julython.leaders", {"board": "cats"})
    assert answer["error"]["code"] == -32602 and "board" in answer["error"]["message"]


@pytest_twisted.ensureDeferred
async def test_signup_refusals(server: str) -> None:
    """A taken username is 409, a short password -32602; nothing is created."""
    await signup(server)
    _, answer = await rpc(
        server, "julython.signup", ["ada", "long enough", "other@example.com"]
    )
    assert answer["error"]["code"] == 409
    _, answer = await rpc(
        server, "julython.signup", ["bob", "short", "bob@example.com"]
    )
    assert answer["error"]["code"] == -32602
    _, answer = await rpc(server, "julython.player", {"username": "bob"})
    assert answer["error"]["code"] == 404


@pytest_twisted.ensureDeferred
async def test_basic_auth_and_bad_password(server: str) -> None:
    """whoami with the right password answers; a wrong one is 401 (and HTTP 401)."""
    await signup(server)
    code, answer = await rpc(
        server, "julython.whoami", auth=basic("ada", "correct horse")
    )
    assert code == 200
    assert answer["result"]["emails"] == ["ada@example.com"]
    code, answer = await rpc(
        server, "julython.whoami", auth=basic("ada", "wrong horse")
    )
    assert code == 401 and answer["error"]["code"] == 401
    code, answer = await rpc(server, "julython.whoami")
    assert code == 401 and answer["error"]["code"] == 401


@pytest_twisted.ensureDeferred
async def test_password_as_leading_params(server: str) -> None:
    """django-json-rpc's form: username and password as the first params."""
    await signup(server)
    code, answer = await rpc(server, "julython.whoami", ["ada", "correct horse"])
    assert code == 200 and answer["result"]["username"] == "ada"


@pytest_twisted.ensureDeferred
async def test_api_token(server: str) -> None:
    """A token made with createToken signs in as Bearer; a made-up one does not."""
    await signup(server)
    _, answer = await rpc(
        server, "julython.createToken", auth=basic("ada", "correct horse")
    )
    token = answer["result"]
    code, answer = await rpc(server, "julython.whoami", auth=f"Bearer {token}")
    assert code == 200 and answer["result"]["username"] == "ada"
    code, _ = await rpc(server, "julython.whoami", auth="Bearer made-up")
    assert code == 401


@pytest_twisted.ensureDeferred
async def test_add_email_adopts_orphans(mail_server: MailSite) -> None:
    """
    Commits made with an e-mail before it was added score once it is
    confirmed through the link mailed to it; adding it again changes nothing.
    """
    server = mail_server.url
    await signup(server)
    await push(server, "w1", "w2", email="ada@work.example")
    auth = basic("ada", "correct horse")
    _, answer = await rpc(server, "julython.addEmail", ["ada@work.example"], auth=auth)
    assert answer["result"]["emails"] == ["ada@example.com", "ada@work.example"]
    assert answer["result"]["pending"] == ["ada@work.example"]
    status = await finished(server, answer["result"]["job"])
    assert status["result"] == {"sent": True}
    _, answer = await rpc(server, "julython.whoami", auth=auth)
    assert answer["result"]["points"] == 0
    link = link_in(await mail_server.smtp.wait_for("ada@work.example"))
    await open_and_press(Visitor(server), mail_server, link)
    await until(lambda: _points(server, auth, 12))
    _, answer = await rpc(server, "julython.addEmail", ["ada@work.example"], auth=auth)
    assert answer["result"]["job"] is None and answer["result"]["pending"] == []
    assert await _points(server, auth, 12)


async def _points(server: str, auth: str, points: int) -> bool:
    _, answer = await rpc(server, "julython.whoami", auth=auth)
    return bool(answer["result"]["points"] == points)


@pytest_twisted.ensureDeferred
async def test_claiming_someone_elses_email_scores_nothing(
    server: str, store: Store
) -> None:
    """
    Mallory signs up with Ada's verified e-mail and adds an orphan one of
    Ada's: neither is refused (nothing tells her they are Ada's), and
    neither scores for her, at a push or when adoption runs.
    """
    await signup(server)
    await push(server, "w1", email="ada@work.example")
    _, answer = await rpc(
        server, "julython.signup", ["mallory", "long enough", "ada@example.com"]
    )
    assert answer["result"]["username"] == "mallory"
    auth = basic("mallory", "long enough")
    _, answer = await rpc(server, "julython.addEmail", ["ada@work.example"], auth=auth)
    assert answer["result"]["pending"] == ["ada@example.com", "ada@work.example"]
    assert answer["result"]["job"] is None
    await store.adopt_all_orphans()
    await push(server, "a1")
    await push(server, "w2", email="ada@work.example")
    assert await _points(server, auth, 0)
    assert await _points(server, basic("ada", "correct horse"), 11)
    _, answer = await rpc(server, "julython.leaders", {"board": "people"})
    assert [m["username"] for m in answer["result"]] == ["ada"]


@pytest_twisted.ensureDeferred
async def test_admin_vouches_for_an_email(server: str) -> None:
    """
    admin.addEmail verifies an e-mail at once and adopts its commits; a
    player may not vouch, and another's verified e-mail is refused.
    """
    await signup(server, vouch=False)
    await push(server, "a1", "a2")
    auth = basic("ada", "correct horse")
    _, answer = await rpc(server, "julython.whoami", auth=auth)
    assert answer["result"]["pending"] == ["ada@example.com"]
    assert answer["result"]["points"] == 0
    code, answer = await rpc(
        server, "admin.addEmail", ["ada", "ada@example.com"], auth=auth
    )
    assert code == 403
    _, answer = await rpc(
        server, "admin.addEmail", ["ada", "ada@example.com"], auth=ADMIN
    )
    assert answer["result"]["pending"] == []
    status = await finished(server, answer["result"]["job"])
    assert status["result"]["adopted"] == 2
    assert await _points(server, auth, 12)
    _, answer = await rpc(
        server,
        "admin.createPlayer",
        {"username": "bob", "emails": ["ada@example.com"]},
        auth=ADMIN,
    )
    assert answer["error"]["code"] == 409


@pytest_twisted.ensureDeferred
async def test_set_name(server: str) -> None:
    """
    julython.setName changes the signed-in player's display name, as the
    profile does; a bad name is -32602 and the old name stays; it needs a
    player.
    """
    await signup(server, vouch=False)
    auth = basic("ada", "correct horse")
    _, answer = await rpc(server, "julython.setName", ["Ada Lovelace"], auth=auth)
    assert answer["result"]["name"] == "Ada Lovelace"
    _, answer = await rpc(server, "julython.setName", ["x" * 101], auth=auth)
    assert answer["error"]["code"] == -32602
    _, player = await rpc(server, "julython.player", ["ada"])
    assert player["result"]["name"] == "Ada Lovelace"
    _, answer = await rpc(server, "julython.setName", ["Nobody"])
    assert answer["error"]["code"] == 401


@pytest_twisted.ensureDeferred
async def test_set_location_and_team(server: str) -> None:
    """Location and team moves take the points along; a new team waits for approval."""
    await signup(server)
    await push(server, "a")
    auth = basic("ada", "correct horse")
    _, answer = await rpc(server, "julython.setLocation", ["Berlin"], auth=auth)
    await finished(server, answer["result"]["job"])
    _, answer = await rpc(server, "julython.whoami", auth=auth)
    assert answer["result"]["location"] == "berlin"
    _, answer = await rpc(server, "julython.leaders", {"board": "locations"})
    assert [(m["slug"], m["points"]) for m in answer["result"]] == [("berlin", 11)]
    _, answer = await rpc(server, "julython.setTeam", ["Snakes"], auth=auth)
    await finished(server, answer["result"]["job"])
    _, answer = await rpc(server, "julython.leaders", {"board": "teams"})
    assert answer["result"] == []
    _, answer = await rpc(server, "admin.approveTeam", ["snakes"], auth=ADMIN)
    assert answer["result"]["points"] == 11 and answer["result"]["approved"] is True


@pytest_twisted.ensureDeferred
async def test_admin_methods_need_the_admin(server: str) -> None:
    """A player may not use admin methods; the admin token may."""
    await signup(server)
    await push(server, "a")
    code, answer = await rpc(
        server,
        "admin.deactivateProject",
        ["gh-ada-engine"],
        auth=basic("ada", "correct horse"),
    )
    assert code == 403 and answer["error"]["code"] == 403
    _, answer = await rpc(
        server, "admin.deactivateProject", ["gh-ada-engine"], auth=ADMIN
    )
    assert answer["result"]["active"] is False
    response = await treq.post(
        server + "/api/v1/github",
        data=body(github_payload("b")),
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push"},
    )
    assert response.code == 202
    await response.content()
    _, answer = await rpc(
        server,
        "admin.createPlayer",
        {"username": "bob", "emails": ["bob@example.com"], "team": "Owls"},
        auth=ADMIN,
    )
    assert answer["result"]["team"] == "owls"
    _, answer = await rpc(server, "julython.whoami", auth=ADMIN)
    assert answer["error"]["code"] == 403


@pytest_twisted.ensureDeferred
async def test_bad_location_refused_before_any_job(server: str) -> None:
    """A name with no letter or digit is refused at once; no job is queued."""
    await signup(server)
    auth = basic("ada", "correct horse")
    _, answer = await rpc(server, "julython.setLocation", ["!!!"], auth=auth)
    assert answer["error"]["code"] == -32602
    _, answer = await rpc(server, "admin.jobs", auth=ADMIN)
    assert answer["result"]["queued"] == 0 and answer["result"]["dead"] == 0


@pytest_twisted.ensureDeferred
async def test_admin_recount_and_job_status_over_rest(server: str) -> None:
    """admin.recount queues a recount; its status reads done over REST too."""
    await signup(server)
    await push(server, "a")
    _, answer = await rpc(server, "admin.recount", [], auth=ADMIN)
    job = answer["result"]["job"]
    status = await finished(server, job)
    assert status["result"] == {"commits": 1, "repaired": [], "added": 0}
    response = await treq.get(f"{server}/api/v1/jobs/{job}")
    assert json.loads(await response.content())["state"] == "done"
    response = await treq.get(f"{server}/api/v1/jobs/{'0' * 32}")
    assert response.code == 404
    await response.content()


# Every door limited: the JSON-RPC door (issue 15)


async def guess_until_refused(
    server: str, tries: int, guess: Callable[[int], Awaitable[tuple[int, Any]]]
) -> int:
    """
    Make up to C{tries} wrong guesses; none may succeed.

    @return: how many were answered 401 before the first 429.
    """
    for n in range(tries):
        code, answer = await guess(n)
        if code == 429 or answer.get("error", {}).get("code") == 429:
            assert answer["error"]["data"]["retry_after"] > 0
            return n
        assert code == 401 and answer["error"]["code"] == 401, answer
    raise AssertionError(f"{tries} wrong guesses met no 429")


@pytest_twisted.ensureDeferred
async def test_basic_guesses_meet_429_within_the_budget(server: str) -> None:
    """
    Of 700 HTTP Basic guesses at one player's password, the ones past the
    address's budget (10 failures) are 429 with Retry-After, and then even
    the right password is not checked.  Before, 700 guesses took 14 s and
    met no 429.
    """
    await signup(server)

    async def guess(n: int) -> tuple[int, Any]:
        return await rpc(server, "julython.whoami", auth=basic("ada", f"guess {n}"))

    assert await guess_until_refused(server, 700, guess) < 10
    code, answer = await rpc(
        server, "julython.whoami", auth=basic("ada", "correct horse")
    )
    assert code == 429 and "result" not in answer
    scrape = samples(await (await treq.get(server + "/metrics")).text())
    assert value(scrape, "julython_rate_limited_total", limit="credentials") == 2


@pytest_twisted.ensureDeferred
async def test_params_guesses_meet_429_within_the_budget(server: str) -> None:
    """The leading username and password params draw on the same budget."""
    await signup(server)

    async def guess(n: int) -> tuple[int, Any]:
        return await rpc(server, "julython.whoami", ["ada", f"guess {n}"])

    assert await guess_until_refused(server, 700, guess) < 10


@pytest_twisted.ensureDeferred
async def test_token_guesses_meet_429_within_the_budget(server: str) -> None:
    """
    Made-up bearer tokens, whether guessing a player's API token or the
    admin token, draw on the address's budget too; past it the admin token
    itself is not checked.
    """

    async def guess(n: int) -> tuple[int, Any]:
        return await rpc(server, "admin.jobs", auth=f"Bearer guess-{n}")

    assert await guess_until_refused(server, 700, guess) < 10
    code, answer = await rpc(server, "admin.jobs", auth=ADMIN)
    assert code == 429 and "result" not in answer


@pytest_twisted.ensureDeferred
async def test_a_batch_of_guesses_checks_one(
    server: str, hasher: PasswordHasher
) -> None:
    """
    One POST holding 1000 julython.whoami calls, each with another password
    as params (the right one among them), checks one: the first call's
    failure answers every other call, the right password is never tried,
    and scrypt runs once.  Before, the batch found the password.
    """
    await signup(server)
    runs = hasher.runs
    guesses = [f"guess {n}" for n in range(1000)]
    guesses[500] = "correct horse"
    batch = [
        {"jsonrpc": "2.0", "id": n, "method": "julython.whoami", "params": ["ada", p]}
        for n, p in enumerate(guesses)
    ]
    response = await treq.post(
        server + "/json/",
        data=json.dumps(batch).encode(),
        headers={"Content-Type": "application/json"},
    )
    answers = json.loads(await response.content())
    assert not [a for a in answers if "result" in a]
    assert {a["error"]["code"] for a in answers} == {401}
    assert len(answers) == 1000
    assert hasher.runs - runs <= 1


@pytest_twisted.ensureDeferred
async def test_a_batch_with_one_password_checks_it_once(
    server: str, hasher: PasswordHasher
) -> None:
    """An honest batch of calls carrying the same password checks it once."""
    await signup(server)
    runs = hasher.runs
    batch = [
        {
            "jsonrpc": "2.0",
            "id": n,
            "method": "julython.whoami",
            "params": ["ada", "correct horse"],
        }
        for n in range(20)
    ]
    response = await treq.post(
        server + "/json/",
        data=json.dumps(batch).encode(),
        headers={"Content-Type": "application/json"},
    )
    answers = json.loads(await response.content())
    assert [a["result"]["username"] for a in answers] == ["ada"] * 20
    assert hasher.runs - runs == 1


@pytest_twisted.ensureDeferred
async def test_sign_ups_meet_429(server: str, store: Store) -> None:
    """
    Of 50 sign-ups over JSON-RPC from one address, those past the sign-up
    limit (20) are 429 with Retry-After and make no account.  Before, 30
    accounts took 1.1 s.
    """
    codes = []
    for n in range(50):
        code, answer = await rpc(
            server, "julython.signup", [f"p{n}", "correct horse", f"p{n}@example.com"]
        )
        codes.append(answer["error"]["code"] if "error" in answer else code)
        if code == 429:
            assert answer["error"]["data"]["retry_after"] > 0
    assert codes == [200] * 20 + [429] * 30
    assert (await store.board("people", None, 0, 100)).models == ()
    _, answer = await rpc(server, "julython.player", {"username": "p20"})
    assert answer["error"]["code"] == 404


@pytest_twisted.ensureDeferred
async def test_a_batch_of_sign_ups_makes_at_most_the_limit(
    server: str, store: Store
) -> None:
    """
    A batch of 50 sign-ups makes at most the limit's 20 accounts; every
    other call is refused, each answer saying why (429, or 503 when the
    password pool is full), and those make nothing.  Before, it made 50.
    """
    batch = [
        {
            "jsonrpc": "2.0",
            "id": n,
            "method": "julython.signup",
            "params": [f"p{n}", "correct horse", f"p{n}@example.com"],
        }
        for n in range(50)
    ]
    response = await treq.post(
        server + "/json/",
        data=json.dumps(batch).encode(),
        headers={"Content-Type": "application/json"},
    )
    answers = json.loads(await response.content())
    made = {a["result"]["username"] for a in answers if "result" in a}
    assert 1 <= len(made) <= 20
    assert {a["error"]["code"] for a in answers if "error" in a} <= {429, 503}
    for n in range(50):
        _, answer = await rpc(server, "julython.player", {"username": f"p{n}"})
        assert ("result" in answer) == (f"p{n}" in made)


@pytest_twisted.ensureDeferred
async def test_a_taken_email_is_not_told(server: str, store: Store) -> None:
    """
    Signing up with an e-mail another player has answers as with a free
    one: the account is made with a pending claim that scores nothing, and
    the e-mail stays its owner's.  A taken username may be said.  Before,
    the answer said the e-mail was taken.
    """
    await signup(server)
    code, answer = await rpc(
        server, "julython.signup", ["eve", "correct horse", "ada@example.com"]
    )
    assert code == 200 and answer["result"]["username"] == "eve"
    code, free = await rpc(
        server, "julython.signup", ["fay", "correct horse", "fay@example.com"]
    )
    assert answer["result"].keys() == free["result"].keys()
    assert await store.emails("ada") == ["ada@example.com"]
    assert await store.pending_emails("ada") == []
    assert await store.pending_emails("eve") == ["ada@example.com"]
    _, answer = await rpc(
        server, "julython.signup", ["ada", "correct horse", "new@example.com"]
    )
    assert answer["error"]["code"] == 409 and "username" in answer["error"]["message"]
    assert "ada@example.com" not in json.dumps(answer)


@pytest_twisted.ensureDeferred
async def test_unknown_usernames_cost_as_much_as_known_ones(
    server_with: Callable[[Config], str], config: Config
) -> None:
    """
    A wrong password for a username nobody has takes as long as for one
    that exists (compared loosely, by medians).  Before, an unknown
    username answered in 1 ms and a known one in 30.
    """
    generous = Limit(1000, 60.0)
    limits = {**config.rate_limits, "credentials": generous}
    server = server_with(
        attrs.evolve(config, rate_limits={**limits, "credentials-user": generous})
    )
    await signup(server, vouch=False)

    async def timed(username: str) -> float:
        start = time.perf_counter()
        code, _ = await rpc(
            server, "julython.whoami", auth=basic(username, "guess guess")
        )
        assert code == 401
        return time.perf_counter() - start

    await timed("nobody")
    known = statistics.median([await timed("ada") for _ in range(5)])
    unknown = statistics.median([await timed("nobody") for _ in range(5)])
    assert unknown > known / 3
