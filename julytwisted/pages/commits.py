# -*- test-case-name: tests.pages.test_review_pages -*-
"""
C{/commits/<hash>}: one commit's page: its message, where and when it was
made, the games it scored in, and its standing in review (held, accepted,
rejected and why) with the admins' decisions on it; and, for a signed-in
player, a short form to report it to the admins
(C{POST /commits/<hash>/report}, as C{julython.reportCommit}).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from klein import Klein
from twisted.web.iweb import IRequest
from twisted.web.template import tags

from julytwisted.auth.sessions import Sessions
from julytwisted.errors import JulythonError, SignInRequired
from julytwisted.models import Commit
from julytwisted.pages._html import Content, message, post_form, when
from julytwisted.pages._render import (
    Renderer,
    checked_form,
    error_status,
    install_error_pages,
    redirect,
)
from julytwisted.pages._review import log_table, reason_field, standing
from julytwisted.store import Store

#: The first segment of every path here.
SEGMENT = b"commits"


class CommitPages:
    """A commit's page and its report form, over the store and the sessions."""

    app = Klein()

    def __init__(self, store: Store, sessions: Sessions) -> None:
        self._store = store
        self.sessions = sessions
        self.renderer = Renderer(sessions)

    @app.handle_errors(SignInRequired)
    def sign_in_first(self, request: IRequest, failure: Any) -> bytes:
        return redirect(request, "/login")

    install_error_pages(app)

    @app.route("/commits/<hash>", methods=["GET"])
    async def commit(self, request: IRequest, hash: str) -> bytes:
        return await self._show(request, hash, None)

    @app.route("/commits/<hash>/report", methods=["POST"])
    async def report(self, request: IRequest, hash: str) -> bytes:
        form = checked_form(self.sessions, request)
        username = await self.sessions.player(request)
        try:
            await self._store.review.report(hash, username, form.get("reason", ""))
        except JulythonError as e:
            status = error_status(request, e)
            return await self._show(request, hash, message(e.message, True), status)
        done = message("Reported: the admins will look at this commit.")
        return await self._show(request, hash, done)

    async def _show(
        self, request: IRequest, hash: str, notice: Content | None, status: int = 200
    ) -> bytes:
        commit = await self._store.commit(hash)
        viewer = await self.sessions.viewer(request)
        decisions = await self._store.review.log(commit.hash, decisions=True)
        content: list[Content] = [notice or "", *_facts(commit), standing(commit)]
        if decisions:
            content.append(
                tags.section(
                    tags.h2("Decisions"), log_table(decisions, "Its review's log")
                )
            )
        if viewer.username is not None and commit.review != "rejected":
            content.append(_report_form(commit, self.sessions.csrf_token(request)))
        title = f"Commit {commit.hash[:12]}"
        return await self.renderer.page(
            request, title, content, status, cache=False, viewer=viewer
        )


def _facts(commit: Commit) -> list[Content]:
    who = (
        tags.a(commit.username, href=f"/people/{quote(commit.username)}")
        if commit.username
        else commit.author
    )
    games = ", ".join(commit.games) or "none"
    facts: list[Content] = [
        tags.pre(class_="message")(
            commit.message if isinstance(commit.message, str) else commit.summary
        ),
        tags.p(
            "By ",
            who,
            " in ",
            tags.a(commit.project, href=f"/projects/{quote(commit.project)}"),
            ", ",
            when(commit.timestamp),
            ".",
        ),
        tags.p(f"Scored in: {games}."),
    ]
    if commit.pending:
        facts.append(tags.p("Waiting for its host to confirm it."))
    if commit.rejected:
        facts.append(tags.p(f"Its host did not confirm it: {commit.rejected}."))
    if commit.url.startswith(("https://", "http://")):
        facts.append(tags.p(tags.a("See it at its host", href=commit.url)))
    return facts


def _report_form(commit: Commit, csrf: str) -> Content:
    return tags.section(
        tags.h2("Report this commit"),
        tags.p(
            "Tell the admins why it should not count (generated, copied, "
            "not yours...). They decide; you may report a commit once."
        ),
        post_form(
            f"/commits/{quote(commit.hash)}/report",
            csrf,
            [reason_field("f-reason")],
            "Report",
        ),
    )


__all__ = ["SEGMENT", "CommitPages"]
