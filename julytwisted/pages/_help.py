# -*- test-case-name: tests.pages.test_pages -*-
"""
The help page: the rules of the game, and how to point each code host's
push webhook at this server.
"""

from __future__ import annotations

from twisted.web.iweb import IRequest
from twisted.web.template import Tag, tags

from julytwisted.models import Host
from julytwisted.pages._html import Content


def help_page(request: IRequest) -> tuple[str, Content]:
    """
    @return: the help page's title and content, its webhook URLs on the
        host the visitor asked for.
    """
    base = _base_url(request)
    return "How to take part", [*_rules(), *_webhooks(base), *_then()]


def _base_url(request: IRequest) -> str:
    host = (request.getHeader(b"host") or b"localhost").decode("latin-1")
    scheme = "https" if request.isSecure() else "http"
    return f"{scheme}://{host}"


def _rules() -> list[Tag]:
    return [
        tags.h2("The rules"),
        tags.ul(
            tags.li(
                "Games run through July (Julython) and January (J(an)ulython)."
                " Midnight is yours: the window opens 12 hours early and"
                " closes 12 hours late, for every time zone."
            ),
            tags.li("Each new commit inside a game earns you 1 point."),
            tags.li("The first commit you make to a project in a game earns 10 more."),
            tags.li(
                "Commits are yours when their author e-mail is one of the"
                " e-mails on your profile. Add an e-mail later and your"
                " earlier commits are counted for you."
            ),
            tags.li(
                "Your location and team score with you; a new team scores"
                " once an organiser approves it."
            ),
        ),
    ]


def _webhooks(base: str) -> list[Tag]:
    """Where each host's webhook settings are, and what to enter there."""
    hooks = {s: f"{base}/api/v1/{s}" for s in Host}
    return [
        tags.h2("Add the webhook"),
        tags.p("Point a push webhook of each repository you work on at this server:"),
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
        tags.p(
            "If the organisers gave you a webhook secret, enter it as the"
            " secret (GitHub, Bitbucket) or the secret token (GitLab)."
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
