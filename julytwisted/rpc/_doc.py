# -*- test-case-name: tests.rpc.test_rpc_registry -*-
"""
Method documentation as its readers get it: an epytext docstring (Twisted's
convention, which methods written for this server follow) turned into plain
text for C{system.methodHelp}, the service descriptions, the browser and the
shell's C{help()}.
"""

from __future__ import annotations

import inspect
import re

#: Inline markup: C{code}, L{link}, I{italic}, B{bold}, U{url}, M{math}.
_INLINE = re.compile(r"[BCILMU]\{")

_FIELDS = {"return": "Returns", "returns": "Returns", "raise": "Raises"}


def _unwrap(text: str) -> str:
    """Drop inline markup, keeping what it marks (braces may nest in it)."""
    out: list[str] = []
    i = 0
    while (found := _INLINE.search(text, i)) is not None:
        out.append(text[i : found.start()])
        depth, j = 1, found.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        if depth:  # unbalanced: leave the rest as it is
            out.append(text[found.start() :])
            return "".join(out)
        out.append(_unwrap(text[found.end() : j - 1]))
        i = j
    out.append(text[i:])
    return "".join(out)


def _field(line: str) -> str:
    """C{@param name: text} as C{name: text}, C{@return: text} as C{Returns: ...}."""
    tag, _, rest = line[1:].partition(":")
    kind, _, name = tag.partition(" ")
    if kind in ("param", "keyword", "ivar"):
        return f"{name}: {rest.strip()}"
    label = _FIELDS.get(kind, kind.title())
    return f"{label}{' ' + name if name else ''}: {rest.strip()}"


def readable(docstring: str | None) -> str:
    """
    @param docstring: a function's C{__doc__}, in epytext or plain.
    @return: plain text: inline markup unwrapped, each field on a line of its
        own spelled out, and every paragraph or field joined into one line.
    """
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", inspect.cleandoc(docstring or "")):
        lines: list[str] = []
        for raw in paragraph.splitlines():
            line = raw.strip()
            if line.startswith("@"):
                lines.append(_field(line))
            elif lines:
                lines[-1] = f"{lines[-1]} {line}".strip()
            else:
                lines.append(line)
        if lines:
            blocks.append("\n".join(lines))
    return _unwrap("\n\n".join(blocks))


__all__ = ["readable"]
