"""
The mailer against a real SMTP server (aiosmtpd in a process of its own):
plain relays, STARTTLS, implicit TLS, logins, and the failures a sender must
see rather than lose.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_twisted
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from twisted.internet import reactor
from twisted.internet.ssl import Certificate, optionsForClientTLS

from julytwisted.mail import Mailer, MailFailed, MailServer
from tests.mailboxes import SMTP, start_smtp


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for C{localhost} and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def trust(certificate: tuple[Path, Path]) -> object:
    """Client TLS options that trust only the test certificate."""
    root = Certificate.loadPEM(certificate[0].read_bytes())
    return optionsForClientTLS("localhost", trustRoot=root)


@pytest.fixture
def plain_smtp(tmp_path: Path) -> Iterator[SMTP]:
    yield from start_smtp(tmp_path)


@pytest.fixture
def starttls_smtp(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[SMTP]:
    yield from start_smtp(
        tmp_path, "--starttls", *map(str, certificate), "--auth", "relay:s3cret"
    )


@pytest.fixture
def smtps_smtp(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[SMTP]:
    yield from start_smtp(
        tmp_path, "--smtps", *map(str, certificate), "--auth", "relay:s3cret"
    )


@pytest_twisted.ensureDeferred
async def test_plain_relay_delivers_utf8_text(plain_smtp: SMTP) -> None:
    """
    A relay without TLS or login takes the message: sender, recipient,
    subject and a UTF-8 body arrive as written, with a Date and Message-ID.
    """
    server = MailServer("127.0.0.1", plain_smtp.port)
    mailer = Mailer(reactor, server, "Julython <noreply@julython.test>")
    await mailer.send("ada@example.com", "Confirm ada@example.com", "Grüße, Ada\n")
    [message] = plain_smtp.messages()
    assert message["From"] == "Julython <noreply@julython.test>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Confirm ada@example.com"
    assert message["Message-ID"].endswith("@julython.test>")
    assert message["Date"]
    assert message.get_content() == "Grüße, Ada\n"


@pytest_twisted.ensureDeferred
async def test_starttls_with_a_login(starttls_smtp: SMTP, trust: object) -> None:
    """With credentials, the mailer upgrades to TLS, logs in, and delivers."""
    server = MailServer("localhost", starttls_smtp.port, "starttls", "relay", "s3cret")
    mailer = Mailer(reactor, server, "noreply@julython.test", tls=trust)  # type: ignore[arg-type]
    await mailer.send("ada@example.com", "Hello", "over STARTTLS\n")
    [message] = starttls_smtp.messages()
    assert message.get_content() == "over STARTTLS\n"


@pytest_twisted.ensureDeferred
async def test_implicit_tls_with_a_login(smtps_smtp: SMTP, trust: object) -> None:
    """C{smtps://}: TLS from the first byte, then the login, then the message."""
    server = MailServer("localhost", smtps_smtp.port, "tls", "relay", "s3cret")
    mailer = Mailer(reactor, server, "noreply@julython.test", tls=trust)  # type: ignore[arg-type]
    await mailer.send("ada@example.com", "Hello", "over TLS\n")
    [message] = smtps_smtp.messages()
    assert message.get_content() == "over TLS\n"


@pytest_twisted.ensureDeferred
async def test_wrong_password_is_a_failure(starttls_smtp: SMTP, trust: object) -> None:
    """A login the relay refuses fails the send; nothing is delivered."""
    server = MailServer("localhost", starttls_smtp.port, "starttls", "relay", "wrong")
    mailer = Mailer(reactor, server, "noreply@julython.test", tls=trust)  # type: ignore[arg-type]
    with pytest.raises(MailFailed):
        await mailer.send("ada@example.com", "Hello", "never\n")
    assert starttls_smtp.messages() == []


@pytest_twisted.ensureDeferred
async def test_credentials_never_cross_in_clear(plain_smtp: SMTP) -> None:
    """
    A relay that offers no STARTTLS never sees the password: with
    credentials, the send fails instead of logging in over plain text.
    """
    server = MailServer("127.0.0.1", plain_smtp.port, "starttls", "relay", "s3cret")
    mailer = Mailer(reactor, server, "noreply@julython.test")
    with pytest.raises(MailFailed):
        await mailer.send("ada@example.com", "Hello", "never\n")
    assert plain_smtp.messages() == []


@pytest_twisted.ensureDeferred
async def test_untrusted_certificate_is_a_failure(starttls_smtp: SMTP) -> None:
    """A relay whose certificate the system does not trust gets nothing."""
    server = MailServer("localhost", starttls_smtp.port, "starttls", "relay", "s3cret")
    mailer = Mailer(reactor, server, "noreply@julython.test")
    with pytest.raises(MailFailed):
        await mailer.send("ada@example.com", "Hello", "never\n")
    assert starttls_smtp.messages() == []


@pytest_twisted.ensureDeferred
async def test_unreachable_relay_is_a_failure(tmp_path: Path) -> None:
    """Nothing listening: the send fails with the reason, at once."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailer = Mailer(reactor, MailServer("127.0.0.1", port), "noreply@julython.test")
    with pytest.raises(MailFailed, match="not sent"):
        await mailer.send("ada@example.com", "Hello", "never\n")
