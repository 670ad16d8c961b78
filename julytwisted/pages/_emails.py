# -*- test-case-name: tests.pages.test_mail_links -*-
"""
The profile's commit e-mails: the verified ones, the pending ones (each
with its link sent again on request), a form to add one, and what becomes
of an e-mail typed on a site that sends no mail.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.web.template import Tag, tags

from julytwisted.pages._html import Content, field, post_form

#: What a saved e-mail change says, by the profile's C{saved} argument.
SAVED = {
    "email": "E-mail added. It scores once you open the link we mailed to it "
    "and confirm; then its commits already made count too.",
    "email-unmailed": "E-mail added, pending: this site sends no mail, so it "
    "scores once an organiser vouches for it.",
    "resend-email": "We mailed the link again: it works once, for 24 hours.",
    "remove-email": "E-mail removed. Its later commits will not be yours.",
}

#: Said on the profile of a site without C{--smtp}.
NO_MAIL = (
    "This site sends no mail, so e-mails typed here cannot be verified: they "
    "stay pending, scoring nothing, until an organiser vouches for them."
)


def _remove(email: str, csrf: str) -> Tag:
    return post_form(
        "/profile/remove-email",
        csrf,
        [tags.input(type="hidden", name="email", value=email)],
        "Remove",
        class_="inline",
    )


def _resend(email: str, csrf: str) -> Tag:
    return post_form(
        "/profile/resend-email",
        csrf,
        [tags.input(type="hidden", name="email", value=email)],
        "Send the link again",
        class_="inline",
    )


def emails_section(
    emails: Sequence[str], pending: Sequence[str], csrf: str, typed: str, mail: bool
) -> Tag:
    """
    The player's e-mails, each with a Remove button (but the last), the
    pending ones marked, and a form to add one.

    @param emails: all the player's e-mails; C{pending} those not verified.
    @param typed: what the add form shows (an e-mail refused, kept).
    @param mail: whether this site mails confirmation links.
    """
    waiting = set(pending)
    items = []
    for email in emails:
        parts: list[Content] = [email, " "]
        if email in waiting:
            parts.append(tags.strong("pending", class_="pending"))
            parts.append(": open the link we mailed to it. " if mail else " ")
            if mail:
                parts.append(_resend(email, csrf))
        else:
            parts.append(tags.span("verified", class_="verified"))
        if len(emails) > 1:
            parts.append(_remove(email, csrf))
        items.append(tags.li(parts))
    hint = (
        "We mail it a link; its commits become yours once you confirm."
        if mail
        else "It stays pending until an organiser vouches for it."
    )
    return tags.section(
        tags.h2("Commit e-mails"),
        tags.p(
            "Only verified e-mails score: confirmed through the link mailed to "
            "them, or vouched for by an organiser."
        ),
        "" if mail else tags.p(NO_MAIL, class_="notice", role="status"),
        tags.ul(class_="emails")(items),
        post_form(
            "/profile/email",
            csrf,
            [field("Another e-mail", "email", typed, type="email", hint=hint)],
            "Add",
        ),
    )


__all__ = ["NO_MAIL", "SAVED", "emails_section"]
