# -*- test-case-name: tests.game.test_hooks -*-
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

HASH = re.compile(r"[0-9a-f]{7,64}")
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
    for key in keys:
        field = node.get(key)
        if field is not None:
            return field.count()
    return 0


def elements_or_none(node: Field, key: str) -> list[Field]:
    field = node.get(key)
    return [] if field is None else field.elements()


def commit_hash(field: Field) -> str:
    value = field.text().strip().lower()
    if not HASH.fullmatch(value):
        field.fail("is not a commit hash of 7 to 64 hex digits")
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
    """A URL that is safe to link to: http or https, with a host."""
    url = field.text().strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        field.fail("is not an http(s) URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        field.fail("is not an http(s) URL")
    return url


def repository_page(field: Field) -> str:
    """A repository's page, the project's identity: no trailing slash."""
    return web_url(field).rstrip("/")


def make_slug(prefix: str, parts: Sequence[str]) -> str:
    """C{prefix-part-part}, lower-cased, other runs than [a-z0-9._-] as C{-}."""
    cleaned = (NOT_SLUG.sub("-", part.lower()).strip("-") for part in parts)
    return "-".join([prefix, *(part for part in cleaned if part)])


def clean_email(text: str) -> str:
    """An author e-mail, lower-cased; empty when it cannot be an address."""
    email = text.strip().lower()
    return email if "@" in email else ""


def raw_author(field: Field | None, fallback: str) -> tuple[str, str]:
    """Split Bitbucket's C{"Name <email>"} into a name and an e-mail."""
    text = "" if field is None else field.text().strip()
    if text.endswith(">") and "<" in text:
        name, _, email = text[:-1].rpartition("<")
        return name.strip() or fallback.strip(), clean_email(email)
    return text or fallback.strip(), ""


def is_zero_sha(sha: str) -> bool:
    """Whether C{sha} is the all-zero id that marks a deleted ref."""
    return bool(sha) and not sha.strip("0")
