# -*- test-case-name: tests.pages.test_accounts,tests.pages.test_fair_days -*-
"""
Sections of the profile page, rendered from what the routes of
L{julytwisted.pages.accounts} read: the time zone, the picture, the API
tokens, the password, and the player's sessions on other browsers.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.web.template import Tag, tags

from julytwisted.game.days import time_zones
from julytwisted.pages._html import Content, aria, field, post_form, upload_form


def time_zone_section(current: str | None, typed: str | None, csrf: str) -> Tag:
    """
    The time zone the player's days follow, and its form: a text box that
    suggests every IANA name as the player types.

    @param current: the zone chosen, L{None} for none.
    @param typed: what the player sent, shown again when it was refused.
    """
    now = (
        f"Your days follow {current}."
        if current
        else "Your days follow the UTC offset each commit carries."
    )
    box = tags.input(
        type="text",
        name="time_zone",
        id="f-time_zone",
        value=(current or "") if typed is None else typed,
        autocomplete="off",
        list="time-zones",
    )
    hint = (
        "An IANA name such as Europe/Paris or America/Los_Angeles; "
        "empty to follow each commit's own UTC offset."
    )
    labelled = tags.p(class_="field")(
        tags.label("Time zone", for_="f-time_zone"),
        aria(box, describedby="f-time_zone-hint"),
        tags.small(hint, id="f-time_zone-hint"),
    )
    names = tags.datalist(id="time-zones")(
        [tags.option(value=n) for n in sorted(time_zones().values())]
    )
    return tags.section(
        tags.h2("Time zone"),
        tags.p(
            now,
            " Streaks, the calendar and daily badges count each commit on "
            "the day it was made there.",
            class_="time-zone",
        ),
        post_form(
            "/profile/time-zone",
            csrf,
            [labelled, names],
            "Save",
        ),
    )


def picture_section(picture_url: str | None, csrf: str) -> Tag:
    """The avatar, and its form, which comes back here once it is stored."""
    shown: Content = (
        tags.img(src=picture_url, alt="Your picture", class_="avatar", width="96")
        if picture_url
        else tags.p("No picture yet.")
    )
    form = upload_form(
        csrf,
        {"kind": "avatar", "next": "/profile?saved=picture"},
        "Picture (PNG, JPEG, GIF or WebP)",
        "f-picture",
    )
    return tags.section(tags.h2("Picture"), shown, form)


def tokens_section(token_ids: Sequence[str], csrf: str) -> Tag:
    """The player's API tokens by id, each with a Revoke button."""
    return tags.section(
        tags.h2("API tokens"),
        tags.p(
            "A token lets scripts call the API as you "
            "(Authorization: Bearer TOKEN). It is shown once."
        ),
        tags.ul(class_="tokens")(
            [
                tags.li(
                    tags.code(ident),
                    " ",
                    post_form(
                        "/profile/revoke-token",
                        csrf,
                        [tags.input(type="hidden", name="token", value=ident)],
                        "Revoke",
                        class_="inline",
                    ),
                )
                for ident in token_ids
            ]
        ),
        post_form("/profile/token", csrf, [], "Make a new token"),
    )


def password_section(csrf: str) -> Tag:
    """The form that changes the password, which needs the current one."""
    return tags.section(
        tags.h2("Password"),
        post_form(
            "/profile/password",
            csrf,
            [
                field(
                    "Current password",
                    "current_password",
                    type="password",
                    autocomplete="current-password",
                    required=True,
                ),
                field(
                    "New password",
                    "new_password",
                    type="password",
                    autocomplete="new-password",
                    required=True,
                    hint="8 characters or more. Every other browser you are "
                    "signed in on is signed out.",
                ),
            ],
            "Change password",
        ),
    )


def sessions_section(others: int, csrf: str) -> Tag:
    """
    How many other browsers the player is signed in on, and the button that
    signs them all out, this one staying signed in.
    """
    if others == 0:
        text = "You are signed in on this browser only."
    else:
        plural = "s" * (others != 1)
        text = f"You are also signed in on {others} other browser{plural}."
    return tags.section(
        tags.h2("Sessions"),
        tags.p(text, class_="sessions"),
        post_form("/profile/end-sessions", csrf, [], "Sign out everywhere else"),
    )


__all__ = [
    "password_section",
    "picture_section",
    "sessions_section",
    "time_zone_section",
    "tokens_section",
]
