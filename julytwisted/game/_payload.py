# -*- test-case-name: tests.game.test_hooks,tests.game.test_hooks_limits -*-
"""
Reading untrusted JSON: a field reader whose every complaint names the path of
the value it is about (C{commits[3].author.email}), and the readers of the
values payloads carry (hashes, times, URLs, slugs, e-mails).

Private to L{julytwisted.hooks}; raises only L{InvalidPayload}.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn
from urllib.parse import urlsplit

from julytwisted.errors import InvalidPayload

#: A full commit id: SHA-1 (40 hex digits) or SHA-256 (64).
#: The longest text each kind of value keeps (see L{cut}, L{cut_message}).
NAME_LENGTH = 100
DESCRIPTION_LENGTH = 1000
AUTHOR_LENGTH = 200
EMAIL_LENGTH = 254
URL_LENGTH = 2048
MESSAGE_BYTES = 64 * 1024
#: The largest watcher or fork count kept; more is taken as this.
MAX_COUNT = 10**9

HASH = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
#: A 40-digit id with 24 zeros before it looks like a SHA-256 one; no real
#: SHA-256 id starts with 96 zero bits.
_PADDED = "0" * 24
NOT_SLUG = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Field:
    """
    A value inside a payload together with the path that names it, so that
    every complaint about it says where it is (C{commits[3].author.email}).
    """

    value: object
    path: str

    def fail(self, problem: str) -> NoReturn:
        raise InvalidPayload(f"{self.path or 'payload'} {problem}")

    def _join(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Field | None:
        """The member C{key} of this object, or L{None} when absent or null."""
        if not isinstance(self.value, dict):
            self.fail("is not an object")
        value = self.value.get(key)
        return None if value is None else Field(value, self._join(key))

    def __getitem__(self, key: str) -> Field:
        field = self.get(key)
        if field is None:
            raise InvalidPayload(f"{self._join(key)} is missing")
        return field

    def elements(self) -> list[Field]:
        if not isinstance(self.value, list):
            self.fail("is not a list")
        return [Field(v, f"{self.path}[{i}]") for i, v in enumerate(self.value)]

    def text(self) -> str:
        if not isinstance(self.value, str):
            self.fail("is not a string")
        try:
            self.value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("is not valid Unicode")
        return self.value

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail("is not true or false")
        return self.value

    def count(self) -> int:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail("is not a whole number")
        return value


def text_or(node: Field, key: str, default: str = "") -> str:
    field = node.get(key)
    return default if field is None else field.text()


def flag_or(node: Field, key: str, default: bool) -> bool:
    field = node.get(key)
    return default if field is None else field.flag()


def first_count(node: Field, *keys: str) -> int:
    """The first of C{keys} present, a whole number up to L{MAX_COUNT}."""
    for key in keys:
        field = node.get(key)
        if field is not None:
            return min(field.count(), MAX_COUNT)
    return 0


def cut(text: str, length: int) -> str:
    """C{text}, blanks around it dropped, in at most C{length} characters."""
    return text.strip()[:length].strip()


def cut_message(text: str) -> str:
    """
    A commit message in its first L{MESSAGE_BYTES} bytes of UTF-8, never
    cutting a character in two.
    """
    data = text.encode("utf-8")
    if len(data) <= MESSAGE_BYTES:
        return text
    return data[:MESSAGE_BYTES].decode("utf-8", "ignore")


def repository_id(field: Field | None) -> str:
    """A host's repository id as text: a whole number or a C{{uuid}}."""
    if field is None:
        return ""
    value = field.value
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable():
        return value.strip().lower()
    field.fail("is not a repository id")


def elements_or_none(node: Field, key: str) -> list[Field]:
    field = node.get(key)
    return [] if field is None else field.elements()


def commit_hash(field: Field) -> str:
    """
    A commit's full id, lower-cased: an abbreviation would let one commit
    count once per length, so only 40 (SHA-1) or 64 (SHA-256) hex digits
    are taken, and no 40-digit id padded with zeros to 64.
    """
    value = field.text().strip().lower()
    if not HASH.fullmatch(value) or (len(value) == 64 and value.startswith(_PADDED)):
        field.fail("is not a full commit hash of 40 or 64 hex digits")
    return value


def utc_time(field: Field) -> datetime:
    """An ISO 8601 time as an aware UTC datetime; no offset means UTC."""
    text = field.text().strip()
    try:
        when = datetime.fromisoformat(text)
        if when.tzinfo is None:
            return when.replace(tzinfo=UTC)
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        field.fail("is not an ISO 8601 time")


def web_url(field: Field) -> str:
    """
    A URL that is safe to link to: http or https, with a host, in at most
    L{URL_LENGTH} characters.
    """
    url = field.text().strip()
    if len(url) > URL_LENGTH:
        field.fail(f"is longer than {URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        field.fail("is not an http(s) URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        field.fail("is not an http(s) URL")
    return url


def make_slug(prefix: str, parts: Sequence[str]) -> str:
    """C{prefix-part-part}, lower-cased, other runs than [a-z0-9._-] as C{-}."""
    cleaned = (NOT_SLUG.sub("-", part.lower()).strip("-") for part in parts)
    return "-".join([prefix, *(part for part in cleaned if part)])


def clean_email(text: str) -> str:
    """
    An author e-mail, lower-cased; empty when it cannot be an address (no
    C{@}, or longer than L{EMAIL_LENGTH}), as no player can own it.
    """
    email = text.strip().lower()
    return email if "@" in email and len(email) <= EMAIL_LENGTH else ""


def raw_author(field: Field | None, fallback: str) -> tuple[str, str]:
    """Split Bitbucket's C{"Name <email>"} into a name and an e-mail."""
    text = "" if field is None else field.text().strip()
    if text.endswith(">") and "<" in text:
        name, _, email = text[:-1].rpartition("<")
        shown = name.strip() or fallback
        return cut(shown, AUTHOR_LENGTH), clean_email(email)
    return cut(text or fallback, AUTHOR_LENGTH), ""


def is_zero_sha(sha: str) -> bool:
    """Whether C{sha} is the all-zero id that marks a deleted ref."""
    return bool(sha) and not sha.strip("0")
