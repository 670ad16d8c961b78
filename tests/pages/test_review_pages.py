"""
The review's pages over a real listening Site and Redis: a commit's page
(its standing, the reason it was rejected, the admins' decisions, and the
report form for a signed-in player), the lists' marks, and the admin's
queue at C{/admin/} (accept, reject with a reason, the audit log); then the
queue and the commit pages in headless Chromium, with axe-core finding
nothing and a rejection made by pressing its button.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet.threads import deferToThread

from julytwisted.store import Store
from tests.builders import IN_JULY, commit, ingest, push, sha
from tests.htmlcheck import check_page
from tests.pages.axe import NoNpm, install
from tests.pages.test_accounts import Visitor
from tests.pages.test_browser_pages import violations
from tests.pages.test_browser_site import fill


@pytest.fixture(scope="module")
def axe() -> str:
    """axe-core's script, installed with npm once (as the other pages' tests)."""
    try:
        return install().read_text("utf-8")
    except NoNpm as e:
        if os.environ.get("JULYTHON_REQUIRE_BROWSER"):
            pytest.fail(str(e))
        pytest.skip(str(e))


async def seeded(store: Store) -> None:
    """Ada's two commits counted, and a stale one held for an admin."""
    await store.create_player("ada", "Ada", ["ada@example.com"], "Lyon")
    old = commit("old", when=IN_JULY - timedelta(days=9), message="imported")
    await ingest(store, push(commit("a1"), commit("a2"), old))


async def admin(server: str) -> Visitor:
    visitor = Visitor(server)
    code, body, _ = await visitor.post("/admin/login", {"token": "admin-secret"})
    assert code == 303, body
    return visitor


@pytest_twisted.ensureDeferred
async def test_a_commit_page_and_its_report_form(server: str, store: Store) -> None:
    """
    A commit's page shows its message and standing; an anonymous visitor
    gets no report form, a signed-in player does, and a report lands in the
    admin's queue with its reason.  A second report is refused, 409.
    """
    await seeded(store)
    answer = await treq.get(f"{server}/commits/{sha('old')}")
    page = (await answer.content()).decode()
    check_page(page.encode())
    assert "Held for review" in page and "dated more than a week" in page
    assert "Report this commit" not in page
    assert (await treq.get(f"{server}/commits/{'0' * 40}")).code == 404

    bea = Visitor(server)
    await bea.sign_up("bea")
    code, body, _ = await bea.get(f"/commits/{sha('a1')}")
    assert code == 200 and b"Report this commit" in body
    path = f"/commits/{sha('a1')}/report"
    code, body, _ = await bea.post(path, {"reason": "copied from cy"})
    assert code == 200 and b"Reported" in body, body
    code, body, _ = await bea.post(path, {"reason": "again"})
    assert code == 409 and b"reported this commit already" in body
    code, body, _ = await bea.post(f"/commits/{sha('a2')}/report", {"reason": " "})
    assert code == 400

    root = await admin(server)
    _, body, _ = await root.get("/admin/")
    queue = body.decode()
    assert "Review queue" in queue and "bea: copied from cy" in queue
    assert sha("a1")[:12] in queue and sha("old")[:12] in queue


@pytest_twisted.ensureDeferred
async def test_the_admin_rejects_and_accepts(server: str, store: Store) -> None:
    """
    From the queue the admin accepts the held commit (it scores) and rejects
    a counted one with a reason: its points leave the boards through the
    recount, its page and the lists say so, and the log says who did what.
    A visitor who is no admin is refused.
    """
    await seeded(store)
    assert (await store.player("ada")).points == 12
    bea = Visitor(server)
    await bea.sign_up("bea")
    code, _, _ = await bea.post("/admin/accept-commit", {"hash": sha("old")})
    assert code == 403

    root = await admin(server)
    code, body, _ = await root.post("/admin/accept-commit", {"hash": sha("old")})
    assert code == 200 and b"accepted" in body
    assert (await store.player("ada")).points == 13
    code, body, _ = await root.post(
        "/admin/reject-commit", {"hash": sha("a2"), "reason": "generated"}
    )
    assert code == 200 and b"being recounted" in body, body
    await store.recount("julython-2026")
    assert (await store.player("ada")).points == 12
    code, body, _ = await root.post(
        "/admin/reject-commit", {"hash": sha("a1"), "reason": ""}
    )
    assert code == 400

    page = (await (await treq.get(f"{server}/commits/{sha('a2')}")).content()).decode()
    assert "Rejected" in page and "generated" in page and "Decisions" in page
    listed = (await (await treq.get(f"{server}/people/ada")).content()).decode()
    assert "review-rejected" in listed
    _, body, _ = await root.get("/admin/")
    assert b"Review log" in body and b"generated" in body


@pytest_twisted.ensureDeferred
async def test_the_queue_in_a_browser(
    server: str, browser: Any, store: Store, axe: str
) -> None:
    """
    In Chromium an admin signs in at /admin/, axe finds nothing on the
    queue nor on a held or rejected commit's page, and pressing Reject
    with a reason takes the held commit off the queue.
    """
    await seeded(store)
    await deferToThread(browser.set_script_timeout, 30)
    await deferToThread(browser.delete_all_cookies)
    found = {}
    await deferToThread(
        fill,
        browser,
        server + "/admin/",
        {"token": "admin-secret"},
        "Sign in as admin",
        "/admin/",
    )
    await store.review.report(sha("a1"), "bea", "looks generated")
    found["/admin/"] = await deferToThread(violations, browser, server + "/admin/", axe)
    await deferToThread(
        fill,
        browser,
        server + "/admin/",
        {"reason": "copied history"},
        "Reject",
        "/admin/reject-commit",
    )
    assert (await store.commit(sha("a1"))).review == "rejected"
    for path in (f"/commits/{sha('a1')}", f"/commits/{sha('old')}"):
        found[path] = await deferToThread(violations, browser, server + path, axe)
    assert {path: v for path, v in found.items() if v} == {}
