# -*- test-case-name: tests.web.test_schemas,tests.web.test_openapi -*-
"""
JSON Schemas derived from the records of L{julytwisted.models}, so that the
OpenAPI document and the answers cannot drift apart.

A field's type (read with C{typing.get_type_hints}) gives its schema; the
constraints its metadata carries (L{julytwisted.models.schema}) are added
to it; a field that may be L{julytwisted.models.UNSET} is not required; a
record's description is the first line of its docstring.  Every object is
closed (C{additionalProperties: false}): a record sends its fields only.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union

from julytwisted.models import SCHEMA, Page, Unset, wire_fields

Schema = dict[str, Any]
"""A JSON object of the document: a schema, an operation, a response."""

_PRIMITIVES: dict[object, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
}


def ref(kind: str, name: str) -> Schema:
    """@return: a reference to the component C{name} of C{kind}."""
    return {"$ref": f"#/components/{kind}/{name}"}


def _describe(record: type) -> str | None:
    doc = (record.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else None


def _of_type(hint: object, names: Mapping[Any, str]) -> tuple[Schema, bool]:
    """
    @param names: the component name of each record (or type variable) a
        field may refer to.
    @return: the schema of C{hint}, and whether the field may be left out.
    """
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        members = typing.get_args(hint)
        present = [m for m in members if m is not Unset]
        optional = len(present) < len(members)
        nullable = type(None) in present
        present = [m for m in present if m is not type(None)]
        if len(present) != 1:
            # Any JSON at all (a job's result).
            return {}, optional
        schema, _ = _of_type(present[0], names)
        if nullable:
            schema["type"] = [schema["type"], "null"]
        return schema, optional
    if origin is Literal:
        return {"enum": list(typing.get_args(hint))}, False
    if origin in (tuple, list):
        item = typing.get_args(hint)[0]
        return {"type": "array", "items": _of_type(item, names)[0]}, False
    if hint in _PRIMITIVES:
        return {"type": _PRIMITIVES[hint]}, False
    if hint in names:
        return ref("schemas", names[hint]), False
    raise TypeError(f"no JSON Schema for {hint!r}")


def record_schema(
    record: type,
    names: Mapping[Any, str],
    description: str | None = None,
    hints: Mapping[str, object] | None = None,
) -> Schema:
    """
    The schema of a record's JSON.

    @param record: an attrs class of L{julytwisted.models}.
    @param names: the component name of every record it refers to.
    @param description: instead of the docstring's first line.
    @param hints: its fields' types, when not its own annotations.
    """
    hints = hints or typing.get_type_hints(record)
    properties: Schema = {}
    required = []
    for field in wire_fields(record):
        schema, optional = _of_type(hints[field.name], names)
        extra = dict(field.metadata.get(SCHEMA, {}))
        if "items" in extra:
            schema["items"] = {**schema["items"], **extra.pop("items")}
        properties[field.name] = {**schema, **extra}
        if not optional:
            required.append(field.name)
    found: Schema = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    description = description or _describe(record)
    if description:
        found["description"] = description
    return found


def page_schema(model: str) -> Schema:
    """The schema of one L{Page} of a listing of C{model}s."""
    hints = typing.get_type_hints(Page)
    item = typing.get_args(hints["models"])[0]
    assert isinstance(item, TypeVar)
    return record_schema(
        Page,
        {item: model},
        f"A page of {model} models; next is null on the last.",
        hints,
    )


__all__ = ["Schema", "page_schema", "record_schema", "ref"]
