# -*- test-case-name: tests.pages.test_mail_links -*-
"""
The mail of accounts: the link that confirms a pending e-mail (24 hours)
and the link that resets a password (an hour), each signed
(L{julytwisted.auth.links}) and good once (a nonce the store keeps).  The
mail jobs (L{julytwisted.jobs.product}) call L{AccountMailer}; the pages
that open the links are L{julytwisted.pages.mail_links}'.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from julytwisted.auth.links import CONFIRM_EMAIL, RESET_PASSWORD, SignedLinks
from julytwisted.store import RESET_SECONDS, Store

#: How long a confirmation link works, in seconds.
CONFIRM_SECONDS = 24 * 3600

#: Where each link leads, under the site's public URL.
CONFIRM_PATH = "/confirm-email/"
RESET_PATH = "/password-reset/"

#: What sends one plain-text message: L{julytwisted.mail.Mailer.send}.
Send = Callable[[str, str, str], Awaitable[None]]

_CONFIRM_TEXT = """\
Someone, probably you, said that {email} is a commit e-mail of the Julython
player {username}. Its commits score for {username} once you confirm it:

  {url}

The link opens a page with a button. It works once, for 24 hours.

If this was not you, ignore this mail: nothing changes.
"""

_RESET_TEXT = """\
Someone asked to reset the password of the Julython player {username}.
To choose a new one, open:

  {url}

The link works once, for an hour.

If this was not you, ignore this mail: your password stays as it is.
"""


class AccountMailer:
    """
    Makes the accounts' links and mails them.
    """

    def __init__(
        self, store: Store, links: SignedLinks, send: Send, public_url: str
    ) -> None:
        """
        @param links: signs the links (with the session secret).
        @param send: sends one message: C{(to, subject, text)}.
        @param public_url: the site's address as players reach it, which the
            links start with (C{--public-url}, never a request's C{Host}).
        """
        self._store = store
        self._links = links
        self._send = send
        self._public_url = public_url.rstrip("/")

    async def send_confirmation(self, username: str, email: str) -> bool:
        """
        Mail a pending e-mail a new link confirming it (the claim's earlier
        links stop working).

        @return: C{False} when the claim is gone, and nothing was sent.
        @raise MailFailed: when the relay does not take the message.
        """
        nonce = await self._store.claim_nonce(username, email)
        if nonce is None:
            return False
        fields = {"u": username, "e": email, "n": nonce}
        token = self._links.sign(CONFIRM_EMAIL, fields, CONFIRM_SECONDS)
        text = _CONFIRM_TEXT.format(
            email=email, username=username, url=self._url(CONFIRM_PATH, token)
        )
        await self._send(email, f"Confirm {email} for Julython", text)
        return True

    async def send_password_reset(self, login: str) -> int:
        """
        Mail the player a login names a new password reset link (their
        earlier ones stop working), to each of their verified e-mails, or
        only the one the login is.

        @param login: a username or an e-mail.
        @return: the messages sent: none when the login names no player
            with a verified e-mail.
        @raise MailFailed: when the relay does not take a message.
        """
        found = await self._store.mail_to(login)
        if found is None:
            return 0
        username, addresses = found
        nonce = await self._store.reset_nonce(username)
        token = self._links.sign(
            RESET_PASSWORD, {"u": username, "n": nonce}, RESET_SECONDS
        )
        text = _RESET_TEXT.format(username=username, url=self._url(RESET_PATH, token))
        for address in addresses:
            await self._send(address, "Reset your Julython password", text)
        return len(addresses)

    def _url(self, path: str, token: str) -> str:
        return f"{self._public_url}{path}{token}"


__all__ = ["CONFIRM_PATH", "CONFIRM_SECONDS", "RESET_PATH", "AccountMailer", "Send"]
