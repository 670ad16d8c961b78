"""
A real SMTP server for the tests (C{tests/smtp_server.py}: aiosmtpd in a
process of its own, delivering to a Maildir), and reading what it received.
"""

from __future__ import annotations

import mailbox
import re
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import attrs
from twisted.internet import reactor
from twisted.internet.task import deferLater

SERVER = Path(__file__).with_name("smtp_server.py")

_LINK = re.compile(r"https?://\S+")
#: A Maildir file's name starts with when it arrived: seconds, then
#: microseconds (not zero-padded, so names do not sort by time).
_ARRIVED = re.compile(r"([0-9]+)\.M([0-9]+)P")


def _arrival(key: str) -> tuple[int, int]:
    found = _ARRIVED.match(key)
    return (int(found[1]), int(found[2])) if found else (0, 0)


@attrs.frozen
class SMTP:
    """A running SMTP server: its port and the Maildir it delivers to."""

    port: int
    maildir: Path

    def messages(self) -> list[EmailMessage]:
        """@return: every message delivered, oldest first."""
        box = mailbox.Maildir(self.maildir, create=False)
        return [
            message_from_bytes(box.get_bytes(key), policy=policy.default)  # type: ignore[misc]
            for key in sorted(box.keys(), key=_arrival)
        ]

    def to(self, address: str) -> list[EmailMessage]:
        """@return: the messages delivered to C{address}, oldest first."""
        return [m for m in self.messages() if m["To"] == address]

    async def wait_for(
        self, address: str, count: int = 1, seconds: float = 10
    ) -> EmailMessage:
        """
        Wait until C{count} messages have reached C{address}.

        @return: the latest.
        """
        for _ in range(int(seconds / 0.05)):
            found = self.to(address)
            if len(found) >= count:
                return found[-1]
            await deferLater(reactor, 0.05, lambda: None)
        raise AssertionError(f"no message {count} to {address} arrived")


def link_in(message: EmailMessage) -> str:
    """@return: the one link a message's text carries."""
    [link] = _LINK.findall(message.get_content())
    return str(link)


def start_smtp(directory: Path, *options: str) -> Iterator[SMTP]:
    """Run C{tests/smtp_server.py} until the test ends."""
    maildir = directory / "maildir"
    process = subprocess.Popen(
        [sys.executable, str(SERVER), str(maildir), *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield SMTP(int(process.stdout.readline()), maildir)
    finally:
        process.terminate()
        process.wait(10)


__all__ = ["SMTP", "link_in", "start_smtp"]
