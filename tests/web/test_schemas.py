"""
Deriving JSON Schemas from records: each rule of L{julytwisted.web._schemas}
on small records of the test's own, then a derived schema judging real data.
"""

from __future__ import annotations

from typing import Literal

import attrs
import pytest
from jsonschema import Draft202012Validator

from julytwisted.models import JSON, UNSET, Unset, schema, to_json
from julytwisted.web._schemas import page_schema, record_schema


@attrs.frozen
class Inner:
    """An inner record."""

    value: int = attrs.field(metadata=schema(minimum=1))


@attrs.frozen
class Outer:
    """
    An outer record.

    @ivar kind: not in the description.
    """

    kind: Literal["a", "b"]
    ratio: float | None
    inner: Inner
    tags: tuple[str, ...] = attrs.field(metadata=schema(items={"maxLength": 3}))
    anything: JSON | Unset = UNSET
    note: str | Unset = attrs.field(default=UNSET, metadata=schema("Sometimes."))


NAMES = {Inner: "Inner"}


def test_each_type_has_its_schema() -> None:
    """Literals are enums, None is null, tuples are arrays, records refs."""
    found = record_schema(Outer, NAMES)
    assert found["properties"] == {
        "kind": {"enum": ["a", "b"]},
        "ratio": {"type": ["number", "null"]},
        "inner": {"$ref": "#/components/schemas/Inner"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}},
        "anything": {},
        "note": {"type": "string", "description": "Sometimes."},
    }
    assert found["description"] == "An outer record."


def test_unset_fields_are_not_required() -> None:
    """Only the fields a record may leave out are optional."""
    assert record_schema(Outer, NAMES)["required"] == ["kind", "ratio", "inner", "tags"]


def test_the_metadata_constrains() -> None:
    """A field's constraints join its type's schema."""
    assert record_schema(Inner, NAMES)["properties"]["value"] == {
        "type": "integer",
        "minimum": 1,
    }


def test_a_type_without_a_schema_is_refused() -> None:
    """A record referring to one the document does not name fails loudly."""
    with pytest.raises(TypeError):
        record_schema(Outer, {})


def test_derived_schemas_judge_encoded_records() -> None:
    """What L{to_json} makes of a record is what its schema accepts, no more."""
    full = record_schema(Outer, NAMES)
    components = {"Inner": record_schema(Inner, NAMES), "Outer": full}
    document = {
        "components": {"schemas": components},
        "$ref": "#/components/schemas/Outer",
    }
    validator = Draft202012Validator(document)
    record = Outer("a", None, Inner(2), ("x",))
    assert validator.is_valid(to_json(record))
    assert validator.is_valid(to_json(attrs.evolve(record, anything=[1], note="n")))
    assert not validator.is_valid(to_json(attrs.evolve(record, inner=Inner(0))))
    assert not validator.is_valid({**to_json(record), "extra": 1})  # type: ignore[dict-item]
    assert not validator.is_valid(to_json(attrs.evolve(record, tags=("long",))))


def test_a_page_is_models_and_next() -> None:
    """A page's schema refers to its model and keeps its total off the wire."""
    page = page_schema("Inner")
    assert page["required"] == ["models", "next"]
    assert page["properties"]["models"]["items"] == {
        "$ref": "#/components/schemas/Inner"
    }
