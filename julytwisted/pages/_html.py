# -*- test-case-name: tests.pages.test_pages,tests.pages.test_commit_lists -*-
"""
The pieces every HTML page is built from, as twisted.web.template tags: the
layout, board tables, the pager, the game selector, forms.

Every string given to a tag is text, escaped when the page is flattened, so
user text (names, commit messages) can never become markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from twisted.web.template import Tag, flattenString, tags

from julytwisted.auth.sessions import CSRF_FIELD, Viewer
from julytwisted.models import Board, Commit, Group, ListedGame, Member, Player

#: A piece of a page: a tag, text, or a list of them.
Content = Any

#: Who a commit is by when no player owns it and it names no author.
UNKNOWN_AUTHOR = "an unnamed author"

#: The boards with their page titles and the title of one member.
BOARD_TITLES: dict[str, tuple[str, str]] = {
    Board.PEOPLE: ("People", "Player"),
    Board.PROJECTS: ("Projects", "Project"),
    Board.LOCATIONS: ("Locations", "Location"),
    Board.TEAMS: ("Teams", "Team"),
    Board.LANGUAGES: ("Languages", "Language"),
}

_NAV = (
    ("/", "Home"),
    ("/people/", "People"),
    ("/projects/", "Projects"),
    ("/locations/", "Locations"),
    ("/teams/", "Teams"),
    ("/languages/", "Languages"),
    ("/live/", "Live"),
    ("/help/", "Help"),
)


async def render(
    title: str,
    content: Content,
    viewer: Viewer,
    csrf: str | None,
    head: Sequence[Content] = (),
) -> bytes:
    """
    Flatten a whole page.

    @param title: the page's title and first heading.
    @param content: what goes in C{<main>} after the heading.
    @param viewer: who is signed in, for the account links.
    @param csrf: the token of the sign-out form, when someone is signed in.
    @param head: more of C{<head>}: the page's own scripts and style sheets.
    @return: the page, UTF-8, with its doctype.
    """
    page = tags.html(lang="en")(
        tags.head(
            tags.meta(charset="utf-8"),
            tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
            tags.title(f"{title} · Julython"),
            tags.link(rel="stylesheet", href="/static/site.css"),
            tags.script(src="/static/site.js", defer="defer"),
            *head,
        ),
        tags.body(
            tags.a("Skip to the content", href="#main", class_="skip"),
            _header(viewer, csrf),
            Tag("main", attributes={"id": "main"})(tags.h1(title), content),
            tags.footer(
                tags.p(
                    "Julython: a month of writing code in the open. ",
                    tags.a("How to take part", href="/help/"),
                    " · ",
                    tags.a("API", href="/api/v1/"),
                )
            ),
        ),
    )
    return b"<!DOCTYPE html>\n" + await flattenString(None, page)


def _header(viewer: Viewer, csrf: str | None) -> Tag:
    links = tags.ul(
        [tags.li(tags.a(label, href=href)) for href, label in _NAV],
        class_="nav",
    )
    if viewer.signed_in and csrf is not None:
        who = viewer.username or "admin"
        account: Content = [
            tags.a(who, href="/profile" if viewer.username else "/admin/"),
            " ",
            post_form("/logout", csrf, [], "Sign out", class_="inline"),
        ]
        if viewer.admin and viewer.username:
            account.insert(1, tags.a(" admin", href="/admin/"))
    else:
        account = [
            tags.a("Sign in", href="/login"),
            " ",
            tags.a("Sign up", href="/signup"),
        ]
    return tags.header(
        aria(tags.nav(links), label="Main"),
        tags.div(class_="account")(account),
    )


def aria(tag: Tag, **attributes: str) -> Tag:
    """Set C{aria-*} attributes, which keyword arguments cannot spell."""
    for name, value in attributes.items():
        tag.attributes["aria-" + name] = value
    return tag


def member_link(kind: str, model: Member | Group) -> Tag:
    """A link to a board member's own page (languages have none)."""
    key = model.username if isinstance(model, Player) else model.slug
    name = model.name or key
    if kind == Board.LANGUAGES:
        return tags.span(name)
    return tags.a(name, href=f"/{kind}/{quote(key)}")


def board_table(
    kind: str, models: Sequence[Member], caption: str, offset: int = 0
) -> Tag:
    """A table of a board's rows, highest first."""
    projects = kind == Board.PEOPLE
    head = tags.tr(
        tags.th("Rank", scope="col"),
        tags.th(BOARD_TITLES[kind][1], scope="col"),
        tags.th("Points", scope="col", class_="num"),
        tags.th("Commits", scope="col", class_="num"),
        tags.th("Projects", scope="col", class_="num") if projects else "",
    )
    rows = [
        tags.tr(
            tags.td(str(m.rank or offset + i + 1), class_="num"),
            tags.th(member_link(kind, m), scope="row"),
            tags.td(str(m.points), _pending(m), class_="num"),
            tags.td(str(m.commits), class_="num"),
            tags.td(str(m.projects), class_="num")
            if projects and isinstance(m, Player)
            else "",
        )
        for i, m in enumerate(models)
    ]
    if not rows:
        return tags.p("Nobody has scored here yet.", class_="empty")
    return tags.table(class_="board")(
        tags.caption(caption), tags.thead(head), tags.tbody(rows)
    )


def _pending(model: Member) -> Tag | str:
    """
    "N pending" beside the points of a player or project whose commits wait
    for their host's word (C{--verify-commits}).
    """
    waiting = getattr(model, "pending_points", 0)
    if not waiting:
        return ""
    return tags.small(
        f" {waiting} pending",
        class_="pending",
        title="points of commits waiting for their host to confirm them",
    )


def pager(path: str, query: dict[str, str], page: int, more: bool) -> Tag:
    """
    Links to the previous and next pages of a board.

    @param query: the arguments every page keeps (the game, the size).
    """

    def href(n: int) -> str:
        return path + "?" + urlencode({**query, "page": str(n)})

    items = []
    if page > 1:
        items.append(tags.li(tags.a("Previous page", href=href(page - 1), rel="prev")))
    items.append(tags.li(f"Page {page}"))
    if more:
        items.append(tags.li(tags.a("Next page", href=href(page + 1), rel="next")))
    return aria(tags.nav(class_="pager")(tags.ul(items)), label="Pages")


def game_selector(
    path: str,
    games: Iterable[ListedGame],
    chosen: str,
    keep: dict[str, str] | None = None,
) -> Tag:
    """
    A GET form choosing the game a board shows.  It has a button rather than
    submitting on change, so moving through the options by keyboard does not
    leave the page.
    """
    options = [
        tags.option(g.name, value=g.slug, selected="selected")
        if g.slug == chosen
        else tags.option(g.name, value=g.slug)
        for g in games
    ]
    return tags.form(method="get", action=path, class_="games")(
        [tags.input(type="hidden", name=k, value=v) for k, v in (keep or {}).items()],
        tags.label("Game ", for_="game"),
        tags.select(name="game", id="game")(options),
        " ",
        tags.button("Show", type="submit"),
    )


def when(instant: str, text: str | None = None) -> Tag:
    """A C{<time>} of an ISO 8601 instant, shown as its date and UTC time."""
    try:
        shown = datetime.fromisoformat(instant.replace("Z", "+00:00"))
        label = text or shown.strftime("%d %b %Y %H:%M UTC")
    except ValueError:
        label = text or instant
    return tags.time(label, datetime=instant)


def commit_list(
    commits: Sequence[Commit], empty: str, projects: Mapping[str, str]
) -> Tag:
    """
    Commits, newest first, each as the live feed's script draws one
    (C{julytwisted/live/page/live.js}): its message's first line (as text),
    then who (their page, or the author's name when no player owns the
    commit), where (the project's page, by its name), when, and the commit
    itself.

    @param projects: the projects' names by slug, as
        L{Store.project_names <julytwisted.store.Store.project_names>} reads
        them.
    """
    if not commits:
        return tags.p(empty, class_="empty")
    return tags.ol(class_="commits")([_commit_item(c, projects) for c in commits])


def _commit_item(c: Commit, projects: Mapping[str, str]) -> Tag:
    who = (
        tags.a(c.username, href=f"/people/{quote(c.username)}")
        if c.username
        else tags.span(c.author or UNKNOWN_AUTHOR)
    )
    meta: list[Content] = [
        who,
        " in ",
        tags.a(
            projects.get(c.project) or c.project, href=f"/projects/{quote(c.project)}"
        ),
        " · ",
        when(c.timestamp),
    ]
    if c.url.startswith(("https://", "http://")):
        meta += [" · ", tags.a(c.hash[:8], href=c.url)]
    meta += [" · ", tags.a("details", href=f"/commits/{quote(c.hash)}")]
    if c.review in ("held", "rejected"):
        # Its points are provisional, or gone: the commit's page says why.
        meta += [" · ", tags.strong(c.review, class_=f"review-{c.review}")]
    item = tags.li(
        tags.p(class_="message")(c.summary or "(no message)"),
        tags.p(class_="meta")(meta),
        class_="commit",
    )
    # The live feed's script skips commits the page shows already.
    item.attributes["data-hash"] = c.hash
    return item


def live_panel(
    commits: Sequence[Commit],
    projects: Mapping[str, str],
    since: str | None,
    channel: str,
    refresh: Sequence[str] = (),
) -> Tag:
    """
    The latest commits, rendered now so the page works without JavaScript,
    which the live feed's script (C{julytwisted/live/page/live.js}) keeps
    live: it listens on the channel C{data-channel} names from the entry
    C{data-since} names (the newest of the channel when the list was read),
    and prepends to the section's C{ol.commits}, skipping the commits shown.

    @param channel: the live feed's channel the list follows.
    @param refresh: the ids of elements of this page that the site's script
        (C{site.js}) reads again from the page, and puts in place, when a
        commit comes in (C{data-refresh}).
    """
    section = tags.section(id="live-feed", class_="live")(
        tags.h2("Latest commits", id="live-feed-title"),
        commit_list(commits, "No commits yet.", projects),
        # The list the feed prepends to is there even before the first commit.
        "" if commits else tags.ol(class_="commits"),
        tags.script(src="/live/live.js", defer="defer"),
    )
    section.attributes["data-channel"] = channel
    if since is not None:
        section.attributes["data-since"] = since
    if refresh:
        section.attributes["data-refresh"] = " ".join(refresh)
    return aria(section, labelledby="live-feed-title", live="polite")


def post_form(
    action: str, csrf: str, fields: Sequence[Content], submit: str, class_: str = ""
) -> Tag:
    """A POST form carrying its CSRF token."""
    return tags.form(method="post", action=action, class_=class_ or "form")(
        tags.input(type="hidden", name=CSRF_FIELD, value=csrf),
        *fields,
        tags.button(submit, type="submit"),
    )


def upload_form(
    csrf: str, fields: dict[str, str], label: str, ident: str, submit: str = "Upload"
) -> Tag:
    """
    An image form posting multipart straight to the upload service, which
    takes the session with the CSRF token in its address (the body is judged
    only as it streams in) and sends the browser on to the C{next} field.

    @param fields: hidden fields: C{kind}, C{next}, and C{project} for a
        screenshot.
    @param ident: the file input's id, unique in the page.
    """
    return tags.form(
        method="post",
        action="/upload/?" + urlencode({CSRF_FIELD: csrf}),
        enctype="multipart/form-data",
        class_="form",
    )(
        [tags.input(type="hidden", name=k, value=v) for k, v in fields.items()],
        tags.label(label, for_=ident),
        tags.input(type="file", name="file", id=ident, accept="image/*"),
        tags.button(submit, type="submit"),
    )


def field(
    label: str,
    name: str,
    value: str = "",
    type: str = "text",
    autocomplete: str = "off",
    hint: str = "",
    required: bool = False,
    ident: str | None = None,
) -> Tag:
    """
    A labelled input, with a hint tied to it for screen readers.

    @param ident: its id, unique in the page; C{f-NAME} by default.
    """
    ident = ident or "f-" + name
    box = tags.input(
        type=type, name=name, id=ident, value=value, autocomplete=autocomplete
    )
    if required:
        box.attributes["required"] = "required"
    parts: list[Content] = [tags.label(label, for_=ident), box]
    if hint:
        aria(box, describedby=ident + "-hint")
        parts.append(tags.small(hint, id=ident + "-hint"))
    return tags.p(class_="field")(parts)


def message(text: str, error: bool = False) -> Tag:
    """A notice at the top of a page; errors are announced at once."""
    if error:
        return tags.p(text, class_="notice error", role="alert")
    return tags.p(text, class_="notice", role="status")


__all__ = [
    "BOARD_TITLES",
    "Content",
    "aria",
    "board_table",
    "commit_list",
    "field",
    "game_selector",
    "live_panel",
    "member_link",
    "message",
    "pager",
    "post_form",
    "render",
    "upload_form",
    "when",
]
