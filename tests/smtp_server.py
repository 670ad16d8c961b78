"""
A real SMTP server for the tests, in a process of its own: aiosmtpd storing
every message it accepts in a Maildir.

    python tests/smtp_server.py MAILDIR [--starttls CERT KEY | --smtps CERT KEY]
                                        [--auth USER:PASSWORD]

Listens on 127.0.0.1, on a free port it prints as the first line of its
standard output once it accepts connections; runs until killed.
"""

from __future__ import annotations

import argparse
import mailbox
import signal
import socket
import ssl
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def _authenticator(user: str, password: str) -> Any:
    def check(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (
            data.login.decode(),
            data.password.decode(),
        ) == (user, password)
        return AuthResult(success=ok)

    return check


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("maildir")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", metavar="USER:PASSWORD")
    args = parser.parse_args()
    mailbox.Maildir(args.maildir, create=True)
    options: dict[str, Any] = {}
    pair = args.starttls or args.smtps
    if pair:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*pair)
        if args.smtps:
            options["ssl_context"] = context
        else:
            options["server_kwargs"] = {
                "tls_context": context,
                "require_starttls": True,
            }
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs = options.setdefault("server_kwargs", {})
        kwargs["authenticator"] = _authenticator(user, password)
        kwargs["auth_required"] = True
        # With implicit TLS the whole session is encrypted, but aiosmtpd only
        # counts STARTTLS as TLS when it decides whether to offer AUTH.
        kwargs["auth_require_tls"] = bool(args.starttls)
    # aiosmtpd checks that it is up by connecting to its port: give it one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        Mailbox(args.maildir),
        hostname="127.0.0.1",
        port=port,
        ready_timeout=10,
        **options,
    )
    controller.start()
    print(port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
