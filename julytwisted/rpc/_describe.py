# -*- test-case-name: tests.rpc.test_rpc_describe -*-
"""
Introspection: the C{system.*} methods, the JSON-RPC 1.1 service description
(C{system.describe}) and the OpenRPC document (C{rpc.discover}), built from
the L{Method}s a resource answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from julytwisted.rpc._dispatch import CallContext
from julytwisted.rpc._errors import InvalidParams
from julytwisted.rpc._method import Method, Param
from julytwisted.rpc._registry import Registry, make_method

#: The OpenRPC version of L{openrpc_document}.
OPENRPC_VERSION = "1.2.6"

# The type names of the JSON-RPC 1.1 working draft's service descriptions.
_SD_TYPES = {
    "String": "str",
    "Number": "num",
    "Boolean": "bit",
    "Array": "arr",
    "Object": "obj",
    "Nil": "nil",
    "Any": "any",
}

_SCHEMA_TYPES = {
    "String": "string",
    "Number": "number",
    "Boolean": "boolean",
    "Array": "array",
    "Object": "object",
    "Nil": "null",
}


def summary(method: Method) -> str:
    """The first line of the method's docstring."""
    return method.doc.strip().split("\n", 1)[0]


def json_schema(type: str, nullable: bool = False) -> dict[str, Any]:
    """@return: the JSON Schema of a signature's type name."""
    if type not in _SCHEMA_TYPES:
        return {}
    name = _SCHEMA_TYPES[type]
    return {"type": [name, "null"] if nullable and name != "null" else name}


def service_description(
    methods: Mapping[str, Method], title: str, url: str
) -> dict[str, Any]:
    """
    @return: the JSON-RPC 1.1 service description of C{methods}, served at
        C{url}.
    """
    procs = [
        {
            "name": method.name,
            "summary": summary(method),
            "help": method.doc,
            "idempotent": method.safe,
            "params": [
                {"name": p.name, "type": _SD_TYPES[p.type]} for p in _all_params(method)
            ],
            "return": {"type": _SD_TYPES[method.returns]},
        }
        for method in sorted(methods.values(), key=lambda m: m.name)
    ]
    return {
        "sdversion": "1.0",
        "name": title,
        "id": url,
        "summary": title,
        "address": url,
        "procs": procs,
    }


def _all_params(method: Method) -> list[Param]:
    if method.variadic is None:
        return list(method.params)
    return [*method.params, method.variadic]


def param_schema(param: Param) -> dict[str, Any]:
    """@return: the JSON Schema of a param: its type, whole or not, its range."""
    schema = json_schema(param.type, param.nullable)
    if param.integer:
        schema["type"] = ["integer", "null"] if param.nullable else "integer"
    if param.bounds is not None:
        for key in ("minimum", "maximum"):
            value = getattr(param.bounds, key)
            if value is not None:
                schema[key] = value
    return schema


def _descriptor(param: Param, variadic: bool = False) -> dict[str, Any]:
    described = {
        "name": param.name,
        "required": param.required,
        "schema": param_schema(param),
    }
    if variadic:
        # Any number of further positional params, each of this schema.
        described["x-variadic"] = True
    return described


def _openrpc_method(method: Method) -> dict[str, Any]:
    params = [_descriptor(p) for p in method.params]
    if method.variadic is not None:
        params.append(_descriptor(method.variadic, variadic=True))
    return {
        "name": method.name,
        "summary": summary(method),
        "description": method.doc,
        "params": params,
        "result": {"name": "result", "schema": json_schema(method.returns)},
        "paramStructure": "either" if method.variadic is None else "by-position",
        "x-safe": method.safe,
        "x-authenticated": method.authenticated,
    }


def openrpc_document(
    methods: Mapping[str, Method], title: str, version: str, url: str
) -> dict[str, Any]:
    """
    @return: the OpenRPC document of C{methods}, served at C{url}.
    @param version: the version of the service (not of OpenRPC).
    """
    described = [
        _openrpc_method(method)
        for method in sorted(methods.values(), key=lambda m: m.name)
    ]
    return {
        "openrpc": OPENRPC_VERSION,
        "info": {"title": title, "version": version},
        "servers": [{"name": title, "url": url}],
        "methods": described,
    }


def _endpoint(context: CallContext) -> str:
    url: bytes = context.request.prePathURL()
    return url.decode("utf-8", "replace").rstrip("/") + "/"


class _Introspection:
    """The introspection methods over whatever C{all_methods} returns."""

    def __init__(
        self, all_methods: Callable[[], Mapping[str, Method]], title: str, version: str
    ) -> None:
        self.all_methods = all_methods
        self.title = title
        self.version = version

    def _find(self, name: str) -> Method:
        method = self.all_methods().get(name)
        if method is None:
            raise InvalidParams(f"no method {name[:100]!r}")
        return method

    def list_methods(self, context: CallContext) -> list[str]:
        """The names of every method of this service, sorted."""
        return sorted(self.all_methods())

    def method_help(self, context: CallContext, name: str) -> str:
        """The documentation of the method called C{name}."""
        return self._find(name).doc

    def method_signature(self, context: CallContext, name: str) -> str:
        """The signature of the method called C{name}, in the form
        C{name(param=Type, ...) -> Type}."""
        return self._find(name).signature

    def describe(self, context: CallContext) -> dict[str, Any]:
        """This service's JSON-RPC 1.1 service description."""
        return service_description(self.all_methods(), self.title, _endpoint(context))

    def discover(self, context: CallContext) -> dict[str, Any]:
        """This service's OpenRPC document."""
        return openrpc_document(
            self.all_methods(), self.title, self.version, _endpoint(context)
        )


def system_registry(
    all_methods: Callable[[], Mapping[str, Method]], title: str, version: str
) -> Registry:
    """
    @param all_methods: every method of the service, the returned ones
        included, by name; asked anew on each call.
    @return: a registry of C{system.listMethods}, C{system.methodHelp},
        C{system.methodSignature}, C{system.describe} and C{rpc.discover}.
    """
    methods = _Introspection(all_methods, title, version)
    registry = Registry()
    signatures: list[tuple[Callable[..., object], str]] = [
        (methods.list_methods, "system.listMethods() -> Array"),
        (methods.method_help, "system.methodHelp(name=String) -> String"),
        (methods.method_signature, "system.methodSignature(name=String) -> String"),
        (methods.describe, "system.describe() -> Object"),
        (methods.discover, "rpc.discover() -> Object"),
    ]
    for function, signature in signatures:
        registry.add(make_method(function, signature, safe=True))
    return registry


__all__ = [
    "OPENRPC_VERSION",
    "json_schema",
    "openrpc_document",
    "param_schema",
    "service_description",
    "system_registry",
]
