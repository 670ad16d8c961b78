# -*- test-case-name: tests.rpc.test_rpc_registry -*-
"""
Method signatures in django-json-rpc's form, such as
C{"julython.leaders(board=String, limit=Number) -> Array"}: the JSON types
they may name and the parser of their text.  Matching a parsed signature to
a function is L{julytwisted.rpc._registry}'s.
"""

from __future__ import annotations

import re

#: The JSON types a signature may name.
TYPES = ("String", "Number", "Boolean", "Array", "Object", "Nil", "Any")

_ALIASES = {
    **{name.lower(): name for name in TYPES},
    "str": "String",
    "int": "Number",
    "float": "Number",
    "bool": "Boolean",
    "list": "Array",
    "dict": "Object",
    "none": "Nil",
    "null": "Nil",
}

_SIGNATURE = re.compile(
    r"^\s*(?P<name>[\w.]+)\s*(?:\((?P<params>[^()]*)\))?"
    r"\s*(?:->\s*(?P<returns>\w+))?\s*$"
)
_ENTRY = re.compile(r"^\s*(?P<star>\*)?(?:(?P<name>\w+)\s*=\s*)?(?P<type>\w+)\s*$")

#: A param of a parsed signature: its name (or None), type, and whether it
#: stands for any number of further positional params.
Entry = tuple[str | None, str, bool]


def parse_signature(text: str) -> tuple[str, list[Entry] | None, str]:
    """
    Parse a signature in django-json-rpc's form, such as
    C{"julython.leaders(board=String, limit=Number) -> Array"},
    C{"sum(Number, Number)"} or a bare C{"app.sayHello"}.

    A last param written C{*name=Type} stands for any number of further
    positional params of that type.

    @return: the method name, the params as L{Entry}s (L{None} for a name
        without parentheses, whose params are the function's own), and the
        return type (C{Any} when not given).
    @raise ValueError: the text is not such a signature.
    """
    match = _SIGNATURE.match(text)
    if match is None:
        raise ValueError(f"not a method signature: {text!r}")
    returns = _type_name(match["returns"], text) if match["returns"] else "Any"
    if match["params"] is None:
        return match["name"], None, returns
    entries: list[Entry] = []
    params = match["params"].strip()
    for part in params.split(",") if params else []:
        entry = _ENTRY.match(part)
        if entry is None or (entries and entries[-1][2]):
            raise ValueError(f"bad param {part.strip()!r} in {text!r}")
        kind = _type_name(entry["type"], text)
        entries.append((entry["name"], kind, bool(entry["star"])))
    return match["name"], entries, returns


def _type_name(text: str, signature_text: str) -> str:
    try:
        return _ALIASES[text.lower()]
    except KeyError:
        raise ValueError(f"unknown type {text!r} in {signature_text!r}") from None


__all__ = ["TYPES", "Entry", "parse_signature"]
