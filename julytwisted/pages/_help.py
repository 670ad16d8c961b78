# -*- test-case-name: tests.pages.test_pages,tests.pages.test_help_page -*-
"""
The help page: the games this site knows, the rules, whose days a commit
counts for (the player's time zone, else the commit's own offset), which
points are pending (the review days, the flags that hold a commit for an
organiser) and how to report a commit, which commit e-mails count, how a
player adds their repositories (the webhook made for them, or pasted with a
secret of its own), which hosts' pushes score languages, and in an open
event how to point any repository's webhook at this server.  It never
shows the site-wide secret: in an open event the organisers give it out.
Bitbucket Data Center is told of only where one is configured
(C{--provider-url bitbucket-server=URL}): elsewhere its pushes are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from twisted.web.iweb import IRequest
from twisted.web.template import Tag, tags

from julytwisted.game.review import BURST_LIMIT, STALE_AGE
from julytwisted.models import Host, ListedGame
from julytwisted.pages._html import Content, when


def help_page(
    request: IRequest,
    games: Sequence[ListedGame],
    open_repositories: bool = False,
    data_center: str | None = None,
    review_days: int = 0,
    burst_limit: int = BURST_LIMIT,
) -> tuple[str, Content]:
    """
    @param games: the games this site knows, latest start first.
    @param open_repositories: whether repositories nobody added are
        accepted (an open event), which the page then explains too.
    @param data_center: the web address of the Bitbucket Data Center this
        site takes pushes from; L{None} when none is configured.
    @param review_days: how many days new points stay pending
        (C{--review-days}); 0 when they count at once.
    @param burst_limit: the commits by one author dated in one minute past
        which each waits for an organiser (C{--burst-limit}).
    @return: the help page's title and content, its webhook URLs on the
        host the visitor asked for.
    """
    base = _base_url(request)
    parts: list[Content] = [
        *_games(games),
        *_rules(),
        *_days(),
        *_pending(review_days, burst_limit),
        *_emails(),
        *_adding(),
    ]
    if data_center:
        parts += _data_center(data_center, base)
    parts += _languages(bool(data_center))
    if open_repositories:
        parts += _webhooks(base, data_center)
    return "How to take part", [*parts, *_then()]


def _base_url(request: IRequest) -> str:
    host = (request.getHeader(b"host") or b"localhost").decode("latin-1")
    scheme = "https" if request.isSecure() else "http"
    return f"{scheme}://{host}"


def _games(games: Sequence[ListedGame]) -> list[Content]:
    """The games: the yearly two, and every game this site knows."""
    rows = [
        tags.tr(
            tags.th(tags.a(g.name, href=f"/people/?game={quote(g.slug)}"), scope="row"),
            tags.td(when(g.start)),
            tags.td(when(g.end)),
            tags.td("now" if g.current else ""),
        )
        for g in games
    ]
    return [
        tags.h2("The games"),
        tags.p(
            "Julython runs through July and J(an)ulython through January,"
            " every year. Midnight is yours: their windows open 12 hours"
            " early and close 12 hours late, for every time zone."
            " Other games run between the instants their organisers set."
        ),
        tags.table(class_="board")(
            tags.caption("The games of this site"),
            tags.thead(
                tags.tr(
                    tags.th("Game", scope="col"),
                    tags.th("Starts", scope="col"),
                    tags.th("Ends", scope="col"),
                    tags.th("Current", scope="col"),
                )
            ),
            tags.tbody(rows),
        )
        if rows
        else "",
    ]


def _rules() -> list[Tag]:
    return [
        tags.h2("The rules"),
        tags.ul(
            tags.li("Each new commit inside a game earns you 1 point."),
            tags.li("The first commit you make to a project in a game earns 10 more."),
            tags.li(
                "Commits are yours when their author e-mail is one of the"
                " verified e-mails on your profile. Verify an e-mail later"
                " and your earlier commits are counted for you."
            ),
            tags.li(
                "Your location and team score with you; a new team scores"
                " once an organiser approves it."
            ),
        ),
    ]


def _days() -> list[Tag]:
    """Whose days a commit counts for: fair days."""
    return [
        tags.h2("Your days"),
        tags.p(
            "Streaks, the calendar and the daily badges on your page count"
            " each of your commits on exactly one day: yours, not UTC's."
            " Choose a time zone on your ",
            tags.a("profile", href="/profile"),
            " and each commit counts on the date it was made there. Until"
            " you do, it counts on its date in the UTC offset its push gave"
            " its time in (UTC when the push gave none). Changing your time"
            " zone moves every day at once.",
        ),
    ]


def _pending(review_days: int, burst_limit: int) -> list[Tag]:
    """Pending points: the review days, the flags, and reporting a commit."""
    if review_days > 0:
        days = "day" if review_days == 1 else f"{review_days} days"
        new = (
            f"Here new points are pending for {days} after their push"
            " arrives: your page shows them apart, and the boards count"
            " them once that time is up, unless an organiser rejected the"
            " commit meanwhile."
        )
    else:
        new = "Here new points count as soon as their push arrives."
    return [
        tags.h2("Pending points"),
        tags.p(new),
        tags.p(
            "Some commits wait for an organiser whatever the days: more than"
            f" {burst_limit} commits by one author dated in the same minute,"
            f" a commit dated more than {STALE_AGE.days} days before its push"
            " arrived, a commit from GitHub or GitLab touching no file, and a push"
            " that also carries commits from before the game. Their points"
            " stay pending until an organiser accepts them.",
        ),
        tags.p(
            "Think a commit should not count? Sign in, open the commit's"
            " page from any list of commits, and report it with a short"
            " reason. An organiser accepts it, or rejects it with a reason:"
            " a rejected commit's points leave every board, and its page"
            " shows why.",
        ),
    ]


def _emails() -> list[Tag]:
    """Which e-mails count as verified, and how."""
    return [
        tags.h2("Your commit e-mails"),
        tags.p(
            "An e-mail you add on your profile counts once you follow the"
            " link mailed to it. Signing in with a code host brings the"
            " e-mails it has verified for you, already verified."
        ),
        tags.p(
            "Signing in with GitHub also brings both forms of your GitHub"
            " noreply address, which GitHub puts on the commits you make on"
            " its web site or while you keep your e-mail private: ",
            tags.code("ID+LOGIN@users.noreply.github.com"),
            " and ",
            tags.code("LOGIN@users.noreply.github.com"),
            " (ID being your GitHub account's number, LOGIN your username;"
            " on GitHub Enterprise, users.noreply. and its host name).",
        ),
    ]


def _adding() -> list[Tag]:
    """How a player adds a repository they administer."""
    return [
        tags.h2("Add your repositories"),
        tags.ol(
            tags.li(
                tags.a("Sign in", href="/login"),
                " with the code host of your repository (GitHub, GitLab or"
                " Bitbucket), granting webhook access when asked.",
            ),
            tags.li(
                "Add each repository you administer at ",
                tags.a("Add a repository", href="/projects/add"),
                ": the webhook is made for you, with a secret of its own.",
            ),
            tags.li(
                "Without webhook access, that page shows the payload URL and"
                " the repository's secret to paste in its webhook settings;"
                " the first push signed with it proves the repository is yours.",
            ),
        ),
        tags.p(
            "Pushes of a repository nobody added are refused, and each"
            " repository's pushes must carry its own secret."
        ),
    ]


def _data_center(web_url: str, base: str) -> list[Tag]:
    """How a repository of the configured Bitbucket Data Center is added."""
    return [
        tags.h3("Bitbucket Data Center"),
        tags.p(
            "This site also takes the pushes of the Bitbucket Data Center at ",
            tags.code(web_url),
            ". Its repositories are added by hand: paste any page of one at ",
            tags.a("Add a repository", href="/projects/add"),
            ", then create its webhook (Repository settings → Webhooks →"
            " Create webhook, the Repository Push event) with the URL ",
            tags.code(f"{base}/api/v1/bitbucket-server"),
            " and the secret shown there. Its pushes carry no commits: this"
            " site reads them from the server, anonymously for a public"
            " repository. For a private one, give an HTTP access token with"
            " repository read permission when adding it; it is checked with"
            " the server, kept encrypted, never shown again, and replaced on"
            " the same page.",
        ),
    ]


def _languages(data_center: bool) -> list[Tag]:
    """Which hosts' pushes say what files each commit touched."""
    hosts = (
        "Bitbucket Cloud's and Bitbucket Data Center's"
        if data_center
        else ("Bitbucket Cloud's")
    )
    return [
        tags.h2("Languages"),
        tags.p(
            "A commit scores for the languages of the files it adds,"
            " modifies or removes, as its push lists them. GitHub's and"
            f" GitLab's pushes list each commit's files; {hosts}"
            " do not, so commits pushed from Bitbucket score for you and"
            " your project but for no language."
        ),
    ]


def _webhooks(base: str, data_center: str | None) -> list[Tag]:
    """
    Where each host's webhook settings are, and what to enter there; the
    Data Center's only when one is configured.
    """
    hooks = {s: f"{base}/api/v1/{s}" for s in Host}
    server: list[Tag] = []
    if data_center:
        server = [
            tags.h3("Bitbucket Data Center"),
            tags.ol(
                tags.li("Repository settings → Webhooks → Create webhook."),
                tags.li("URL: ", tags.code(hooks[Host.BITBUCKET_SERVER])),
                tags.li("Event: Repository Push."),
            ),
        ]
    return [
        tags.h2("This is an open event"),
        tags.p(
            "Repositories nobody added are accepted too: point a push webhook"
            " of each repository you work on at this server:"
        ),
        tags.h3("GitHub"),
        tags.ol(
            tags.li("Settings → Webhooks → Add webhook."),
            tags.li("Payload URL: ", tags.code(hooks[Host.GITHUB])),
            tags.li("Content type: application/json; events: just the push event."),
        ),
        tags.h3("Bitbucket"),
        tags.ol(
            tags.li("Repository settings → Webhooks → Add webhook."),
            tags.li("URL: ", tags.code(hooks[Host.BITBUCKET])),
            tags.li("Triggers: repository push."),
        ),
        tags.h3("GitLab"),
        tags.ol(
            tags.li("Settings → Webhooks → Add new webhook."),
            tags.li("URL: ", tags.code(hooks[Host.GITLAB])),
            tags.li("Trigger: push events."),
        ),
        *server,
        tags.p(
            "If the organisers gave you the event's webhook secret, enter it"
            " as the secret (GitHub, Bitbucket) or the secret token (GitLab)."
            " A repository someone added takes only its own secret."
        ),
    ]


def _then() -> list[Tag]:
    return [
        tags.h2("Then"),
        tags.p(
            tags.a("Sign up", href="/signup"),
            " with the e-mail your commits carry, push, and watch the ",
            tags.a("boards", href="/people/"),
            ".",
        ),
    ]


__all__ = ["help_page"]
