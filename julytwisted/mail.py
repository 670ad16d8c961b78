# -*- test-case-name: tests.test_mail -*-
"""
Outgoing mail: confirmation links and password resets, sent through an SMTP
relay with C{twisted.mail}.

C{smtp://} relays are asked for STARTTLS where they offer it, and must offer
it when the mailer has credentials to send (a password never crosses the wire
in clear); C{smtps://} relays speak TLS from the first byte.  The mailer knows
nothing of the product: it sends a text message to one address.
"""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal, cast

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IOpenSSLClientConnectionCreator,
    IProtocolFactory,
    IReactorTCP,
)
from twisted.internet.protocol import ClientFactory
from twisted.internet.ssl import optionsForClientTLS
from twisted.mail.smtp import ESMTPSenderFactory
from twisted.protocols.tls import TLSMemoryBIOFactory

from julytwisted.errors import MailFailed

#: How the connection to the relay is secured.
Security = Literal["starttls", "tls"]


@attrs.frozen
class MailServer:
    """
    An SMTP relay, as C{--smtp} names it.

    @ivar host: the relay's host name (also the name its certificate must
        carry).
    @ivar port: its port: 587 for C{smtp://}, 465 for C{smtps://} unless
        given.
    @ivar security: C{"starttls"} (upgrade where offered; required with
        credentials) or C{"tls"} (implicit TLS).
    @ivar username: the login, if the relay wants one.
    @ivar password: its password.
    """

    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)


class Mailer:
    """
    Sends plain-text mail from one sender address through one relay.
    """

    def __init__(
        self,
        reactor: IReactorTCP,
        server: MailServer,
        sender: str,
        tls: IOpenSSLClientConnectionCreator | None = None,
        timeout: float = 30.0,
    ) -> None:
        """
        @param reactor: what connects to the relay.
        @param server: the relay.
        @param sender: the C{From} address, as C{--mail-from} gives it.
        @param tls: how to check the relay's certificate; by default against
            the system's trust roots, for C{server.host}.
        @param timeout: seconds the relay may take over one reply.
        """
        self._reactor = reactor
        self.server = server
        self.sender = sender
        self._tls = tls or optionsForClientTLS(server.host)
        self._timeout = timeout

    def message(self, to: str, subject: str, text: str) -> bytes:
        """
        @return: the message as it goes on the wire: UTF-8 text, with a
            C{Date} and a C{Message-ID} of its own.
        """
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(
            domain=parseaddr(self.sender)[1].rpartition("@")[2]
        )
        message.set_content(text)
        return message.as_bytes()

    async def send(self, to: str, subject: str, text: str) -> None:
        """
        Send one message to one address.

        @raise MailFailed: when the relay is unreachable, refuses the
            address, or offers no STARTTLS while the mailer has credentials.
        """
        server = self.server
        done: Deferred[object] = Deferred()
        credentials = server.username is not None and server.password is not None
        factory = ESMTPSenderFactory(
            server.username.encode() if credentials and server.username else None,
            server.password.encode() if credentials and server.password else None,
            parseaddr(self.sender)[1],
            [to],
            io.BytesIO(self.message(to, subject, text)),
            done,
            retries=0,
            timeout=self._timeout,
            contextFactory=self._tls if server.security == "starttls" else None,
            heloFallback=not credentials,
            requireAuthentication=credentials,
            requireTransportSecurity=credentials and server.security == "starttls",
            hostname=server.host,
        )
        # A connector, not an endpoint: the sender factory learns of a lost
        # or failed connection only through clientConnectionLost/Failed,
        # which endpoints never call (the send would wait forever).
        wrapped: IProtocolFactory = factory
        if server.security == "tls":
            wrapped = TLSMemoryBIOFactory(self._tls, True, factory)
        self._reactor.connectTCP(
            server.host, server.port, cast(ClientFactory, wrapped), self._timeout
        )
        try:
            await done
        except Exception as error:
            raise MailFailed(f"mail to {to} not sent: {error}") from error


__all__ = ["MailFailed", "MailServer", "Mailer", "Security"]
