# -*- test-case-name: tests.web.test_openapi -*-
"""
The building blocks of the OpenAPI document: small schemas, parameters,
responses and operations, each spelled once so that every operation of
L{julytwisted.web._operations} says the same thing the same way.
"""

from __future__ import annotations

from typing import Any

from julytwisted.web._schemas import Schema, ref

#: The component name of each response header: its name, type, meaning.
HEADERS = {
    "AllowOrigin": ("Access-Control-Allow-Origin", "string", "Always *."),
    "RetryAfter": ("Retry-After", "integer", "Seconds to wait before a retry."),
    "WWWAuthenticate": ("WWW-Authenticate", "string", 'Bearer realm="julython".'),
    "Location": ("Location", "string", "The new object's path."),
    "Allow": ("Allow", "string", "The methods the path takes."),
    "AllowMethods": ("Access-Control-Allow-Methods", "string", "As Allow."),
    "AllowHeaders": ("Access-Control-Allow-Headers", "string", "Headers read."),
    "MaxAge": ("Access-Control-Max-Age", "integer", "Seconds to cache: 86400."),
    "ETag": ("ETag", "string", "The representation's tag, for If-None-Match."),
    "CacheControl": ("Cache-Control", "string", "How long the answer may be kept."),
}

#: The security of an operation anyone may call.
PUBLIC: list[Schema] = []


def schema(name: str) -> Schema:
    """@return: a reference to the component schema C{name}."""
    return ref("schemas", name)


def string(description: str | None = None, **extra: Any) -> Schema:
    """A string schema, with C{extra} keywords (pattern, maxLength...)."""
    found: Schema = {"type": "string", **extra}
    if description:
        found["description"] = description
    return found


def array(items: Schema, description: str | None = None) -> Schema:
    """An array of C{items}."""
    found: Schema = {"type": "array", "items": items}
    if description:
        found["description"] = description
    return found


def nullable(kind: str, description: str, **extra: Any) -> Schema:
    """A value of JSON type C{kind}, or null."""
    return {"type": [kind, "null"], "description": description, **extra}


def group(description: str) -> Schema:
    """A location or team name: empty or null for none, else one with an
    ASCII letter or digit (its slug's), at most 100 characters."""
    return nullable("string", description, maxLength=100, pattern="^$|[A-Za-z0-9]")


def closed(
    properties: Schema,
    required: list[str] | None = None,
    shut: bool = True,
    description: str | None = None,
) -> Schema:
    """
    An object schema, every property required unless C{required} says
    otherwise; C{shut} forbids the properties the code never adds.
    """
    found: Schema = {"type": "object", "properties": properties}
    found["required"] = list(properties) if required is None else required
    if shut:
        found["additionalProperties"] = False
    if description:
        found["description"] = description
    return found


def json_response(description: str, body: Schema, *headers: str) -> Schema:
    """A JSON response carrying CORS and the named component C{headers}."""
    return {
        "description": description,
        "headers": {
            HEADERS[n][0]: ref("headers", n) for n in ("AllowOrigin", *headers)
        },
        "content": {"application/json": {"schema": body}},
    }


def errors(**by_code: str) -> Schema:
    """
    Error responses with the shared Error body, C{by_code} giving the
    meaning of each code spelled C{_400}; C{_503} stands for the shared
    Redis-unavailable response.
    """
    return {
        code.lstrip("_"): (
            ref("responses", "Unavailable")
            if code == "_503"
            else json_response(text, schema("Error"))
        )
        for code, text in by_code.items()
    }


def parameter(where: str, name: str, text: str, kind: Schema | None = None) -> Schema:
    """A parameter C{in} the query, the path or a header; a string by default."""
    found = {"name": name, "in": where, "description": text}
    return found | {"schema": kind or string(), "required": where == "path"}


def operation(
    tag: str,
    summary: str,
    description: str,
    responses: Schema,
    security: list[Schema] = PUBLIC,
    **extra: Any,
) -> Schema:
    """
    An operation; L{julytwisted.web._operations} names it after its method
    and path, and gives it the shared 413 when it has no 413 of its own.

    @param security: the requirements of which one must be met; none (any
        caller) by default.
    """
    return {
        "tags": [tag],
        "summary": summary,
        "description": description,
        "security": list(security),
        "responses": responses,
        **extra,
    }


__all__ = [
    "HEADERS",
    "PUBLIC",
    "array",
    "closed",
    "errors",
    "group",
    "json_response",
    "nullable",
    "operation",
    "parameter",
    "schema",
    "string",
]
