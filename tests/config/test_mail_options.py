"""
Tests for outgoing mail's options: C{--smtp} (L{parse_smtp_url}),
C{--mail-from} and C{--public-url}, and the password from the environment.
"""

from __future__ import annotations

import pytest
from twisted.python.usage import UsageError

from julytwisted.config import MailRelay, parse_smtp_url
from tests.config.test_config import parse, refused

PUBLIC = ["--public-url", "https://julython.example/"]


def test_no_smtp_by_default() -> None:
    """Without --smtp nothing is mailed: no relay, no sender."""
    config = parse([])
    assert (config.smtp, config.mail_from, config.public_url) == (None, None, None)


@pytest.mark.parametrize(
    ("url", "relay"),
    [
        ("smtp://mail.example", MailRelay("mail.example", 587)),
        ("SMTP://mail.example:25/", MailRelay("mail.example", 25)),
        ("smtps://mail.example", MailRelay("mail.example", 465, "tls")),
        (
            "smtp://relay%40x:p%3Ass@[::1]:2525",
            MailRelay("::1", 2525, "starttls", "relay@x", "p:ss"),
        ),
    ],
)
def test_smtp_url_forms(url: str, relay: MailRelay) -> None:
    """Both schemes, their default ports, and percent-encoded credentials."""
    assert parse_smtp_url(url) == relay


def test_smtp_password_given_apart() -> None:
    """A user without a password in the URL takes the one given apart."""
    relay = parse_smtp_url("smtps://relay@mail.example", "pw")
    assert relay == MailRelay("mail.example", 465, "tls", "relay", "pw")
    assert parse_smtp_url("smtp://mail.example", "pw").password is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mail.example", "expected a URL"),
        ("http://mail.example", "expected a URL"),
        ("smtp://", "host is missing"),
        ("smtp://mail.example:99999", "port is not valid"),
        ("smtp://mail.example:0", "port is not valid"),
        ("smtp://mail.example/box", "no path"),
        ("smtp://mail.example?tls=1", "no path, query"),
        ("smtp://:s3cret@mail.example", "needs a user name"),
        ("smtp://relay@mail.example", "has no password"),
    ],
)
def test_smtp_url_refused(url: str, reason: str) -> None:
    """A malformed --smtp is refused with the reason, before anything runs."""
    with pytest.raises(UsageError, match=reason):
        parse_smtp_url(url)


def test_smtp_errors_hide_the_password() -> None:
    """No refusal, and no repr of the relay, shows the password."""
    message = refused(["--smtp", "ftp://relay:hunter2@mail.example", *PUBLIC])
    assert "hunter2" not in message
    message = refused(["--smtp", "smtp://relay:hunter2@mail.example:x", *PUBLIC])
    assert "hunter2" not in message
    assert "hunter2" not in repr(parse_smtp_url("smtp://relay:hunter2@m.example"))


def test_smtp_with_everything() -> None:
    """--smtp, --mail-from and --public-url land in the configuration."""
    config = parse(
        [
            "--smtp",
            "smtp://relay:s3cret@mail.example",
            "--mail-from",
            "Julython <hello@julython.example>",
            *PUBLIC,
        ]
    )
    assert config.smtp == MailRelay("mail.example", 587, "starttls", "relay", "s3cret")
    assert config.mail_from == "Julython <hello@julython.example>"
    assert config.public_url == "https://julython.example"


def test_smtp_password_from_the_environment() -> None:
    """A user without a password in the URL takes $JULYTHON_SMTP_PASSWORD."""
    environ = {"JULYTHON_SMTP_PASSWORD": "from-env"}
    config = parse(["--smtp", "smtp://relay@mail.example", *PUBLIC], environ)
    assert config.smtp is not None and config.smtp.password == "from-env"
    config = parse(["--smtp", "smtp://relay:cli@mail.example", *PUBLIC], environ)
    assert config.smtp is not None and config.smtp.password == "cli"
    config = parse(["--smtp", "smtp://mail.example", *PUBLIC], environ)
    assert config.smtp is not None and config.smtp.password is None
    assert "has no password" in refused(["--smtp", "smtp://relay@m.example", *PUBLIC])


def test_default_sender_names_the_public_host() -> None:
    """Without --mail-from the mail comes from noreply at the public host."""
    config = parse(["--smtp", "smtp://mail.example", *PUBLIC])
    assert config.mail_from == "Julython <noreply@julython.example>"


def test_smtp_needs_the_public_url() -> None:
    """The links mailed must point somewhere: --smtp alone is refused."""
    assert "--public-url" in refused(["--smtp", "smtp://mail.example"])


@pytest.mark.parametrize(
    "args",
    [
        ["--mail-from", "a@b.example"],
        ["--smtp", "smtp://m.example", "--mail-from", "nobody", *PUBLIC],
        ["--smtp", "smtp://m.example", "--mail-from", "a@b.example\r\nBcc: x", *PUBLIC],
        ["--public-url", "julython.example"],
        ["--public-url", "ftp://julython.example"],
        ["--public-url", "https://julython.example/?x=1"],
    ],
)
def test_mail_options_refused(args: list[str]) -> None:
    """A sender without a relay, a bad sender or a bad public URL is refused."""
    refused(args)
