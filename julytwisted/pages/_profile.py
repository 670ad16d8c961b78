# -*- test-case-name: tests.pages.test_accounts,tests.pages.test_sessions -*-
"""
Sections of the profile page, rendered from what the routes of
L{julytwisted.pages.accounts} read: the picture, the API tokens, the
password, and the player's sessions on other browsers.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.web.template import Tag, tags

from julytwisted.pages._html import Content, field, post_form, upload_form


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
    "tokens_section",
]
