# -*- test-case-name: tests.rpc.test_rpc -*-
"""
A reusable JSON-RPC server for twisted.web, in the spirit of django-json-rpc:
versions 1.0, 1.1 and 2.0, batches, GET for safe methods, CORS, pluggable
authentication, deadlines, introspection (C{system.*}, OpenRPC) and a
service browser.  It knows nothing of the application it serves.

    registry = Registry()

    @registry.method("demo.add(a=Number, b=Number) -> Number", safe=True)
    def add(context: CallContext, a: float, b: float) -> float:
        "Add two numbers."
        return a + b

    @registry.method("demo.page")  # a bare name: the params are the function's
    def page(context: CallContext, offset: Annotated[int, Bounds(0, 99)] = 0):
        "A whole number from 0 to 99, checked before the call."

    root.putChild(b"json", JSONRPCResource(registry))

The implementation lives in the package's private modules; this module is
the public surface.
"""

from julytwisted.rpc._browser import BrowserLayout
from julytwisted.rpc._dispatch import CallContext, Translator
from julytwisted.rpc._errors import (
    AuthenticationError,
    InternalError,
    InvalidParams,
    InvalidRequest,
    JSONRPCError,
    MethodNotFound,
    ParseError,
    ServerError,
)
from julytwisted.rpc._method import Bounds, Method, Param
from julytwisted.rpc._proofs import Authenticator, Credentials
from julytwisted.rpc._registry import Registry, default_registry, jsonrpc_method
from julytwisted.rpc._resource import JSONRPCResource, header_credentials
from julytwisted.rpc._signature import TYPES

__all__ = [
    "TYPES",
    "AuthenticationError",
    "Authenticator",
    "Bounds",
    "BrowserLayout",
    "CallContext",
    "Credentials",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "JSONRPCError",
    "JSONRPCResource",
    "Method",
    "MethodNotFound",
    "Param",
    "ParseError",
    "Registry",
    "ServerError",
    "Translator",
    "default_registry",
    "header_credentials",
    "jsonrpc_method",
]
