# -*- test-case-name: tests.config.test_config -*-
"""
Outgoing mail's options: C{--smtp} (the relay's URL, parsed into a
L{MailRelay}), C{--mail-from} and C{--public-url}, which the mailed links
start with.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr
from typing import Literal
from urllib.parse import unquote, urlsplit

from twisted.python import usage

from julytwisted.config._settings import MailRelay

SMTP_FORMS = (
    "smtp://[USER[:PASSWORD]@]HOST[:PORT] or smtps://[USER[:PASSWORD]@]HOST[:PORT]"
)
"""The forms C{--smtp} accepts, as its help and its errors show them."""

#: The default port of each scheme: submission with STARTTLS, and SMTP over
#: TLS (RFC 8314).
_PORTS: dict[str, tuple[Literal["starttls", "tls"], int]] = {
    "smtp": ("starttls", 587),
    "smtps": ("tls", 465),
}


def parse_smtp_url(url: str, password: str | None = None) -> MailRelay:
    """
    Parse the C{--smtp} URL.

    @param url: C{smtp://[user[:password]@]host[:port]} (STARTTLS where the
        relay offers it, port 587 by default) or C{smtps://...} (TLS from
        the first byte, port 465); user and password percent-encoded.
    @param password: the password when the URL names a user but none (from
        the environment, which keeps it out of the process list).
    @return: the relay it names.
    @raise usage.UsageError: for another scheme, a missing host, a bad port,
        a path, query or fragment, a password without a user or a user
        without a password; the message never shows the password.
    """
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in _PORTS:
        raise usage.UsageError(
            f"--smtp {_redact(url)!r}: expected a URL of the form {SMTP_FORMS}"
        )
    security, default_port = _PORTS[scheme]
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise usage.UsageError("--smtp: the URL takes no path, query or fragment")
    if not parts.hostname:
        raise usage.UsageError(f"--smtp {_redact(url)!r}: the host is missing")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise usage.UsageError(f"--smtp {_redact(url)!r}: the port is not valid")
    user = unquote(parts.username) if parts.username else None
    if parts.password is not None:
        password = unquote(parts.password)
    if user is None and parts.password is not None:
        raise usage.UsageError("--smtp: a password needs a user name")
    if user is not None and not password:
        raise usage.UsageError(
            f"--smtp: the user {user!r} has no password: give it in the URL "
            "or the environment"
        )
    return MailRelay(
        host=parts.hostname,
        port=default_port if port is None else port,
        security=security,
        username=user,
        password=password if user is not None else None,
    )


def _redact(url: str) -> str:
    """The URL without its credentials, for an error message."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def parse_public_url(url: str) -> str:
    """
    Check C{--public-url}: the site's address as players reach it.

    @return: the URL without a trailing slash.
    @raise usage.UsageError: unless it is an absolute http(s) URL without a
        query or fragment.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise usage.UsageError(
            f"--public-url {url!r}: expected http(s)://HOST[:PORT][/PATH]"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise usage.UsageError(
            "--public-url: the URL takes no query, fragment or user name"
        )
    return url.strip().rstrip("/")


def parse_mail_from(text: str | None, public_url: str) -> str:
    """
    Check C{--mail-from}, or make the default: C{Julython
    <noreply@HOST>}, HOST being the public URL's.

    @return: the address, as a C{From} header carries it.
    @raise usage.UsageError: for text naming no address.
    """
    if text is None:
        host = urlsplit(public_url).hostname or "localhost"
        return formataddr(("Julython", f"noreply@{host}"))
    _, address = parseaddr(text)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(c in text for c in "\r\n"):
        raise usage.UsageError(f"--mail-from {text!r}: not an e-mail address")
    return text.strip()


__all__ = ["SMTP_FORMS", "parse_mail_from", "parse_public_url", "parse_smtp_url"]
