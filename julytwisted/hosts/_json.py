# -*- test-case-name: tests.hosts.test_json -*-
"""
Reading a code host's JSON answer as untrusted input: each complaint names
the answer and the path of the value it is about (C{"GitHub's GET /user:
id is not a whole number"}), and is a L{MalformedAnswer}, never a
C{KeyError} or a C{TypeError}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from julytwisted.errors import MalformedAnswer

_FULL_HASH = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Node:
    """
    A value inside an answer, with the answer's name and the value's path.

    @ivar value: the decoded JSON value.
    @ivar answer: which answer it comes from, such as C{"GitHub's GET /user"}.
    @ivar path: where it is inside that answer; empty for the whole of it.
    """

    value: object
    answer: str
    path: str = ""

    def fail(self, problem: str) -> NoReturn:
        """@raise MalformedAnswer: saying where C{problem} is."""
        where = f"{self.path} " if self.path else ""
        raise MalformedAnswer(f"{self.answer}: {where}{problem}")

    def _child(self, value: object, step: str) -> Node:
        return Node(value, self.answer, f"{self.path}{step}")

    def get(self, key: str) -> Node | None:
        """@return: member C{key} of this object; L{None} if absent or null."""
        if not isinstance(self.value, dict):
            self.fail("is not an object")
        value = self.value.get(key)
        step = f".{key}" if self.path else key
        return None if value is None else self._child(value, step)

    def __getitem__(self, key: str) -> Node:
        node = self.get(key)
        if node is None:
            self._child(None, f".{key}" if self.path else key).fail("is missing")
        return node

    def elements(self) -> list[Node]:
        """@return: the elements of this list."""
        if not isinstance(self.value, list):
            self.fail("is not a list")
        return [self._child(v, f"[{i}]") for i, v in enumerate(self.value)]

    def text(self) -> str:
        """@return: this string."""
        if not isinstance(self.value, str):
            self.fail("is not a string")
        return self.value

    def flag(self) -> bool:
        """@return: this boolean."""
        if not isinstance(self.value, bool):
            self.fail("is not true or false")
        return self.value

    def number(self) -> int:
        """@return: this whole number, zero or more."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail("is not a whole number")
        return value

    def ident(self) -> str:
        """@return: this id, a whole number or a non-empty string, as text."""
        if isinstance(self.value, str) and self.value.strip():
            return self.value.strip()
        return str(self.number())

    def time(self) -> datetime:
        """@return: this ISO 8601 time, aware, in UTC (no offset means UTC)."""
        text = self.text().strip()
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail("is not an ISO 8601 time")
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def full_hash(node: Node) -> str:
    """@return: this commit's whole hash, SHA-1 or SHA-256, lower-cased."""
    value = node.text().strip().lower()
    if not _FULL_HASH.fullmatch(value):
        node.fail("is not a commit's 40 or 64 hex digits")
    return value


def text_or(node: Node | None, key: str, default: str = "") -> str:
    """@return: the string member C{key} of C{node}, or C{default}."""
    if node is None:
        return default
    member = node.get(key)
    return default if member is None else member.text()


def flag_or(node: Node, key: str, default: bool) -> bool:
    """@return: the boolean member C{key} of C{node}, or C{default}."""
    member = node.get(key)
    return default if member is None else member.flag()


__all__ = ["Node", "flag_or", "full_hash", "text_or"]
