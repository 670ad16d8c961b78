# -*- test-case-name: tests.pages.test_review_pages -*-
"""
What the review of commits looks like in pages: a commit's standing (held,
accepted, rejected and why), the audit log, and the admins' queue with its
accept and reject forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from twisted.web.template import Tag, tags

from julytwisted.game.review import MAX_REASON
from julytwisted.models import Commit
from julytwisted.pages._html import Content, post_form, when
from julytwisted.store.review import QueuedCommit, ReviewEntry

#: What each flag means, for people.
FLAG_TEXT = {
    "burst": "one of a burst of commits by its author in a minute",
    "stale": "dated more than a week before it was pushed",
    "empty": "it changes no file",
    "history": "pushed with history from before the game",
}

#: What each action of the log says.
ACTION_TEXT = {
    "report": "reported",
    "accept": "accepted",
    "release": "counted after its review days",
    "reject": "rejected",
}


def standing(commit: Commit) -> Content:
    """
    A commit's standing in review, in words, as a section of its page;
    nothing for one that scores as any other.
    """
    parts = standing_lines(commit)
    return tags.section(class_="review")(tags.h2("Review"), parts) if parts else ""


def standing_lines(commit: Commit) -> list[Content]:
    """A commit's standing in review, as paragraphs; none for most."""
    parts: list[Content] = []
    if commit.review == "held":
        text = "Held for review: its points are pending"
        if commit.review_until:
            parts.append(tags.p(text, " until ", when(commit.review_until), "."))
        else:
            parts.append(tags.p(text, " until an admin decides."))
    elif commit.review == "rejected":
        parts.append(
            tags.p(
                tags.strong("Rejected"),
                " by an admin: ",
                commit.review_reason or "no reason given",
                ". It scores nothing.",
                class_="rejected",
            )
        )
    elif commit.review == "accepted":
        parts.append(tags.p("Reviewed and accepted: it counts."))
    if commit.review_flags:
        flags = [FLAG_TEXT.get(f, f) for f in commit.review_flags]
        parts.append(tags.p("Flagged: ", "; ".join(flags), "."))
    return parts


def log_table(entries: Sequence[ReviewEntry], caption: str) -> Content:
    """The audit log: who decided what, when, and why."""
    if not entries:
        return tags.p("Nothing decided yet.")
    return tags.table(
        tags.caption(caption),
        tags.thead(
            tags.tr(
                tags.th("When", scope="col"),
                tags.th("Commit", scope="col"),
                tags.th("What", scope="col"),
                tags.th("Who", scope="col"),
                tags.th("Why", scope="col"),
            )
        ),
        tags.tbody(
            [
                tags.tr(
                    tags.td(when(e.at)),
                    tags.td(tags.a(e.hash[:12], href=commit_path(e.hash))),
                    tags.td(ACTION_TEXT.get(e.action, e.action)),
                    tags.td(e.by),
                    tags.td(e.reason or ""),
                )
                for e in entries
            ]
        ),
    )


def reason_field(ident: str, label: str = "Reason") -> Tag:
    """A bounded, required reason."""
    return tags.span(
        tags.label(label, for_=ident),
        tags.input(
            type="text",
            name="reason",
            id=ident,
            maxlength=str(MAX_REASON),
            required="required",
            autocomplete="off",
        ),
    )


def queue_list(queued: Sequence[QueuedCommit], csrf: str) -> Content:
    """The commits waiting for an admin, each with its accept and reject forms."""
    if not queued:
        return tags.p("No commit is waiting for review.")
    return tags.ol(class_="queue")([_queued(q, csrf) for q in queued])


def _queued(queued: QueuedCommit, csrf: str) -> Tag:
    c = queued.commit
    short = c.hash[:12]
    hidden = tags.input(type="hidden", name="hash", value=c.hash)
    why = [
        tags.li(f"{r.by}: {r.reason}") for r in queued.reports if r.reason is not None
    ]
    return tags.li(class_="queued")(
        tags.p(
            tags.a(short, href=commit_path(c.hash)),
            " ",
            c.summary or "(no message)",
            " by ",
            c.username or c.author,
            " in ",
            c.project,
        ),
        standing_lines(c),
        tags.ul(why) if why else "",
        post_form("/admin/accept-commit", csrf, [hidden], "Accept", class_="inline"),
        post_form(
            "/admin/reject-commit",
            csrf,
            [hidden, reason_field(f"r-{short}", f"Reason to reject {short}")],
            "Reject",
            class_="inline",
        ),
    )


def commit_path(hash: str) -> str:
    """The address of a commit's page."""
    return f"/commits/{quote(hash)}"


__all__ = [
    "ACTION_TEXT",
    "FLAG_TEXT",
    "commit_path",
    "log_table",
    "queue_list",
    "reason_field",
    "standing",
    "standing_lines",
]
