# -*- test-case-name: tests.pages.test_accounts,tests.pages.test_review_pages -*-
"""
The admin pages at C{/admin/}: for players named by C{--admin-player}, or
anyone who signs in there with the admin token (a session bound to that
token: it ends when the token changes).  Approve the teams waiting,
deactivate or activate a project, run dead jobs again, make, change and
end games, and work the review queue (accept a held or reported commit, or
reject it with a reason; the audit log below it).  A klein app of its
own, mounted by L{julytwisted.site.Root} at C{/admin}.  An admin may also
vouch for a player's commit e-mail: verified at once, its commits adopted.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Sequence

from klein import Klein
from twisted.web.iweb import IRequest
from twisted.web.template import tags

from julytwisted.auth.accounts import vouch_for_email
from julytwisted.auth.authenticator import Authenticator
from julytwisted.auth.sessions import Sessions, Viewer
from julytwisted.errors import Forbidden, InvalidInput, JulythonError, RateLimited
from julytwisted.game.games import parse_instant
from julytwisted.jobs.game_edits import GameSaved, create_game, end_game, update_game
from julytwisted.jobs.product import reject_commit
from julytwisted.jobs.queue import Queue
from julytwisted.models import UNSET, JobStatus, WaitingTeam
from julytwisted.pages._game import admin_games, form_instant, form_points
from julytwisted.pages._html import Content, field, message, post_form
from julytwisted.pages._render import (
    Renderer,
    checked_form,
    error_status,
    install_error_pages,
    redirect,
)
from julytwisted.pages._review import log_table, queue_list
from julytwisted.store import Store


class Admin:
    """
    The admin pages, bound to a store and the job queue.

    @cvar segment: the first path segment they answer under.
    """

    app = Klein()
    segment = b"admin"

    def __init__(
        self,
        store: Store,
        queue: Queue,
        sessions: Sessions,
        admin_token: str | None,
        authenticator: Authenticator,
    ) -> None:
        """
        @param admin_token: the token that signs a browser in as admin; none
            when L{None} (then only admin players are admins).  C{sessions}
            must be given the same, since it binds admin sessions to it.
        @param authenticator: checks a token typed in, within the budget of
            failed credentials every door shares.
        """
        self.store = store
        self.queue = queue
        self.sessions = sessions
        self.renderer = Renderer(sessions)
        self._admin_token = admin_token
        self._authenticator = authenticator

    install_error_pages(app)

    def _form(self, request: IRequest) -> dict[str, str]:
        return checked_form(self.sessions, request)

    async def _show(
        self, request: IRequest, title: str, content: Content, status: int = 200
    ) -> bytes:
        return await self.renderer.page(request, title, content, status, cache=False)

    async def _admin(self, request: IRequest) -> bool:
        return (await self.sessions.viewer(request)).admin

    async def _admin_form(self, request: IRequest) -> tuple[dict[str, str], str]:
        """
        @return: an admin's checked form and the name their decisions are
            logged under.
        @raise Forbidden: for anyone else.
        """
        form = self._form(request)
        viewer = await self.sessions.viewer(request)
        if not viewer.admin:
            raise Forbidden("sign in as admin first")
        return form, viewer.username or "admin"

    @app.route("/admin/", methods=["GET"])
    async def admin(self, request: IRequest) -> bytes:
        if not await self._admin(request):
            return await self._show(request, "Admin", self._admin_login(request))
        return await self._show(request, "Admin", await self._admin_page(request))

    def _admin_login(self, request: IRequest) -> Content:
        if not self._admin_token:
            return message("The admin pages are off: start with --admin-token.")
        return post_form(
            "/admin/login",
            self.sessions.csrf_token(request),
            [field("Admin token", "token", type="password", required=True)],
            "Sign in as admin",
        )

    @app.route("/admin/login", methods=["POST"])
    async def admin_login(self, request: IRequest) -> bytes:
        form = self._form(request)
        try:
            ok = await self._authenticator.check_admin_token(
                request, form.get("token", "")
            )
        except RateLimited as e:
            minutes = max(1, math.ceil(e.retry_after / 60))
            text = (
                "Too many wrong tokens from your address: try again in "
                f"{minutes} minute{'s' * (minutes != 1)}."
            )
            content = [message(text, error=True), self._admin_login(request)]
            return await self._show(request, "Admin", content, error_status(request, e))
        if ok:
            viewer = await self.sessions.viewer(request)
            await self.sessions.start(request, Viewer(viewer.username, admin=True))
            return redirect(request, "/admin/")
        content = [
            message("That is not the admin token.", error=True),
            self._admin_login(request),
        ]
        return await self._show(request, "Admin", content, 403)

    async def _admin_page(self, request: IRequest) -> Content:
        csrf = self.sessions.csrf_token(request)
        stats = await self.queue.stats()
        dead = await self.queue.dead(50)
        waiting = await self.store.teams_waiting()
        return [
            tags.section(
                tags.h2("Review queue"),
                tags.p(
                    "Commits held (new points with --review-days, or flagged) "
                    "and commits players reported. Accept to let one count; "
                    "reject, with a reason its page shows, to take its points "
                    "off every board."
                ),
                queue_list(await self.store.review.queue(), csrf),
                log_table(await self.store.review.log(), "Review log"),
            ),
            tags.section(
                tags.h2("Teams waiting for approval"),
                _waiting_teams(waiting, csrf),
                post_form(
                    "/admin/approve-team",
                    csrf,
                    [field("Team slug", "slug", required=True, ident="f-team")],
                    "Approve",
                ),
            ),
            tags.section(
                tags.h2("Deactivate a project"),
                tags.p("Its pushes are refused as abuse until it is activated."),
                post_form(
                    "/admin/deactivate-project",
                    csrf,
                    [field("Project slug", "slug", required=True, ident="f-off")],
                    "Deactivate",
                ),
                post_form(
                    "/admin/activate-project",
                    csrf,
                    [field("Project slug", "slug", required=True, ident="f-on")],
                    "Activate",
                ),
            ),
            tags.section(
                tags.h2("Vouch for a commit e-mail"),
                tags.p(
                    "The e-mail is the player's at once, verified without a "
                    "mailed link, and its commits already made score for them."
                ),
                post_form(
                    "/admin/vouch-email",
                    csrf,
                    [
                        field("Username", "username", required=True, ident="f-who"),
                        field("E-mail", "email", type="email", required=True),
                    ],
                    "Vouch",
                ),
            ),
            admin_games(await self.store.games.changeable(), csrf),
            tags.section(
                tags.h2("Jobs"),
                tags.p(", ".join(f"{k}: {v}" for k, v in sorted(stats.items()))),
                _dead_jobs(dead, csrf),
            ),
        ]

    @app.route(
        "/admin/<any('approve-team','deactivate-project','activate-project',"
        "'requeue-job'):action>",
        methods=["POST"],
    )
    async def admin_action(self, request: IRequest, action: str) -> bytes:
        form, _ = await self._admin_form(request)
        key = form.get("slug", "").strip().lower() or form.get("id", "").strip()

        async def act() -> str:
            if action == "approve-team":
                await self.store.approve_team(key)
            elif action == "requeue-job":
                await self.queue.requeue(key)
            else:
                await self.store.set_project_active(key, action == "activate-project")
            return {
                "approve-team": f"Team {key} approved.",
                "deactivate-project": f"Project {key} deactivated.",
                "activate-project": f"Project {key} activated.",
                "requeue-job": f"Job {key} queued again.",
            }[action]

        return await self._after(request, act())

    @app.route("/admin/<any('accept-commit','reject-commit'):action>", methods=["POST"])
    async def review_action(self, request: IRequest, action: str) -> bytes:
        form, by = await self._admin_form(request)
        hash = form.get("hash", "").strip().lower()

        async def act() -> str:
            if action == "accept-commit":
                await self.store.review.accept(hash, by)
                return f"Commit {hash[:12]} accepted: it counts."
            jobs = await reject_commit(
                self.store, self.queue, hash, by, form.get("reason", "")
            )
            done = f"Commit {hash[:12]} rejected."
            if jobs:
                done += f" Its games are being recounted ({', '.join(jobs)})."
            return done

        return await self._after(request, act())

    @app.route("/admin/vouch-email", methods=["POST"])
    async def vouch_email(self, request: IRequest) -> bytes:
        form, _ = await self._admin_form(request)
        username = form.get("username", "").strip().lower()
        email = form.get("email", "").strip().lower()

        async def act() -> str:
            await vouch_for_email(self.store, self.queue, username, email)
            return f"{email} is a verified e-mail of {username} now."

        return await self._after(request, act())

    @app.route(
        "/admin/<any('create-game','update-game','end-game'):action>",
        methods=["POST"],
    )
    async def game_action(self, request: IRequest, action: str) -> bytes:
        form, by = await self._admin_form(request)

        async def act() -> str:
            saved = await self._game_action(action, form, by)
            done = {
                "create-game": f"Game {saved.game.slug} made.",
                "update-game": f"Game {saved.game.slug} changed.",
                "end-game": f"Game {saved.game.slug} ended.",
            }[action]
            if saved.recount:
                done += f" Its boards are being recounted (job {saved.recount})."
            return done

        return await self._after(request, act())

    async def _after(self, request: IRequest, work: Awaitable[str]) -> bytes:
        """
        The admin page, told what an action did, or why it did nothing; a
        L{Forbidden} goes on to the error pages.

        @param work: the action, giving what it did.
        """
        try:
            done = await work
        except Forbidden:
            raise
        except JulythonError as e:
            page = [message(e.message, error=True), await self._admin_page(request)]
            return await self._show(request, "Admin", page, error_status(request, e))
        page = [message(done), await self._admin_page(request)]
        return await self._show(request, "Admin", page)

    async def _game_action(
        self, action: str, form: dict[str, str], by: str
    ) -> GameSaved:
        slug = form.get("slug", "").strip().lower()
        if action == "end-game":
            return await end_game(self.store, self.queue, by, slug)
        start = form_instant("start", form.get("start", ""))
        end = form_instant("end", form.get("end", ""))
        points = {
            name: form_points(name, form.get(name, ""))
            for name in ("commit_points", "first_bonus")
        }
        if action == "create-game":
            if start is None or end is None:
                raise InvalidInput("a new game needs its start and its end")
            return await create_game(
                self.store,
                by,
                form.get("name", "").strip(),
                parse_instant("start", start),
                parse_instant("end", end),
                **points,
            )
        fields: dict[str, object] = {k: v for k, v in points.items() if v is not None}
        for name, value in (("start", start), ("end", end)):
            if value is not None:
                fields[name] = parse_instant(name, value)
        return await update_game(self.store, self.queue, by, slug, **fields)


def _waiting_teams(teams: Sequence[WaitingTeam], csrf: str) -> Content:
    if not teams:
        return tags.p("No team is waiting.")
    return tags.ul(class_="waiting")(
        [
            tags.li(
                tags.a(t.name, href=f"/teams/{t.slug}"),
                " ",
                post_form(
                    "/admin/approve-team",
                    csrf,
                    [tags.input(type="hidden", name="slug", value=t.slug)],
                    "Approve",
                    class_="inline",
                ),
            )
            for t in teams
        ]
    )


def _dead_jobs(dead: Sequence[JobStatus], csrf: str) -> Content:
    if not dead:
        return tags.p("No dead jobs.")
    return tags.table(
        tags.caption("Dead jobs"),
        tags.thead(
            tags.tr(
                tags.th("Job", scope="col"),
                tags.th("Error", scope="col"),
                tags.th("", scope="col"),
            )
        ),
        tags.tbody(
            [
                tags.tr(
                    tags.td(f"{job.name} {job.id}"),
                    tags.td("" if job.error is UNSET else job.error),
                    tags.td(
                        post_form(
                            "/admin/requeue-job",
                            csrf,
                            [
                                tags.input(
                                    type="hidden",
                                    name="id",
                                    value=job.id,
                                )
                            ],
                            "Run again",
                            class_="inline",
                        )
                    ),
                )
                for job in dead
            ]
        ),
    )


__all__ = ["Admin"]
