# -*- test-case-name: tests.rpc.test_rpc_registry,tests.rpc.test_rpc_django -*-
"""
The method registry: L{Registry}, filled by its L{method<Registry.method>}
decorator, and L{make_method}, which describes a function as a L{Method}
from a signature string or from the function's own signature and
annotations.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from julytwisted.rpc._annotations import (
    Shape,
    json_type,
    result_hint,
    shape,
    type_hints,
)
from julytwisted.rpc._doc import readable
from julytwisted.rpc._method import POSITIONAL, Method, Param
from julytwisted.rpc._signature import Entry, parse_signature

F = TypeVar("F", bound=Callable[..., object])

_EMPTY = inspect.Parameter.empty


def make_method(
    function: Callable[..., object],
    signature: str | None = None,
    *,
    safe: bool = False,
    authenticated: bool | Callable[..., object] = False,
    validate: bool = True,
    name: str | None = None,
) -> Method:
    """
    Describe C{function} as a L{Method}: see L{Registry.method}.

    @raise ValueError: the signature does not fit the function.
    @raise TypeError: the function takes no call context, or one of its
        annotations names something its module does not define.
    """
    exposed = _exposed(function)
    hints = type_hints(function)
    method_name, entries, returns = name, None, None
    if signature is not None:
        method_name, entries, returns = parse_signature(signature)
    if entries is None:
        # No params written (no signature, or a bare name as django-json-rpc
        # users write): the function's own, typed by its annotations.
        params, variadic = _params_from_function(exposed, hints)
    else:
        params, variadic = _params_from_text(entries, exposed, signature or "", hints)
    if returns is None or (entries is None and returns == "Any"):
        returns = json_type(result_hint(hints.get("return", Any)))[0]
    return Method(
        name=name or method_name or function.__name__,
        function=function,
        params=tuple(params),
        returns=returns,
        safe=safe,
        authenticated=bool(authenticated),
        validate=validate,
        doc=readable(function.__doc__),
        variadic=variadic,
        authenticator=None if isinstance(authenticated, bool) else authenticated,
        call_signature=exposed,
    )


def _exposed(function: Callable[..., object]) -> inspect.Signature:
    """The function's signature without its first (context) parameter."""
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    if not parameters or parameters[0].kind not in POSITIONAL:
        raise TypeError(
            f"{function!r} must take the call context as its first parameter"
        )
    return signature.replace(parameters=parameters[1:])


def _params_from_function(
    signature: inspect.Signature, hints: Mapping[str, object]
) -> tuple[list[Param], Param | None]:
    params = []
    variadic = None
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        found = shape(hints.get(name, Any))
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            variadic = _param(name, found.type, False, found)
        else:
            params.append(_param(name, found.type, parameter.default is _EMPTY, found))
    return params, variadic


def _param(name: str, kind: str, required: bool, found: Shape) -> Param:
    """
    A param of JSON type C{kind} (the signature string's, or the
    annotation's), refined by what its annotation says where that agrees.
    """
    agrees = found.type in (kind, "Any")
    number = kind == "Number" and found.type == "Number"
    return Param(
        name,
        kind,
        required,
        nullable=found.nullable and agrees,
        integer=number and found.integer,
        bounds=found.bounds if number else None,
    )


def _params_from_text(
    entries: list[Entry],
    signature: inspect.Signature,
    text: str,
    hints: Mapping[str, object],
) -> tuple[list[Param], Param | None]:
    parameters = signature.parameters
    positional = [n for n, p in parameters.items() if p.kind in POSITIONAL]
    varkw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    variadic = _variadic(entries, signature)
    params = []
    for index, (name, kind, _) in enumerate(entries[: len(entries) - bool(variadic)]):
        if name is None:
            if index >= len(positional):
                raise ValueError(f"{text!r} has more params than the function")
            name = positional[index]
        elif name not in parameters and not varkw:
            raise ValueError(f"the function takes no param {name!r} of {text!r}")
        parameter = parameters.get(name)
        required = parameter is None or parameter.default is _EMPTY
        hint = Any if parameter is None else hints.get(name, Any)
        params.append(_param(name, kind, required, shape(hint)))
    named = {p.name for p in params}
    star = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    for name, parameter in parameters.items():
        required = parameter.kind not in star and parameter.default is _EMPTY
        if required and name not in named:
            raise ValueError(f"{text!r} leaves out the required param {name!r}")
    return params, variadic


def _variadic(entries: list[Entry], signature: inspect.Signature) -> Param | None:
    if not entries or not entries[-1][2]:
        return None
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return Param(name, entries[-1][1], required=False)
    raise ValueError("a *param needs a function that takes *args")


class Registry:
    """
    A set of methods by name, filled by the L{method} decorator.
    """

    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}

    @property
    def methods(self) -> Mapping[str, Method]:
        """The registered methods by name, read-only."""
        return types.MappingProxyType(self._methods)

    def add(self, method: Method) -> None:
        """
        Register C{method}.

        @raise ValueError: a method of that name is registered already.
        """
        if method.name in self._methods:
            raise ValueError(f"method {method.name!r} is registered already")
        self._methods[method.name] = method

    def method(
        self,
        signature: str | None = None,
        *,
        safe: bool = False,
        authenticated: bool | Callable[..., object] = False,
        validate: bool = True,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """
        Register the decorated function as a method; the function is returned
        unchanged.

        @param signature: C{"name(param=Type, ...) -> Type"},
            C{"name(Type, ...)"} or a bare C{"name"}, in django-json-rpc's
            form; without it the name is C{name} or the function's.  Without
            it, or with a bare name, the params and their types come from
            the function's signature and annotations.
        @param safe: the method changes nothing, so HTTP GET may call it.
        @param authenticated: calls need credentials; without an
            C{Authorization} header, a call's first two params (or its
            C{username} and C{password} params) are taken as credentials.
            A function given here proves those instead of the resource's
            C{authenticate}: called as C{f(username=..., password=...)}, it
            returns the user or L{None} (or a Deferred or coroutine of one).
        @param validate: check the params' JSON types before calling.
        @param name: the method's name, overriding the signature's.
        @return: the decorator, which raises what L{make_method} raises when
            the function does not fit.
        """

        def register(function: F) -> F:
            self.add(
                make_method(
                    function,
                    signature,
                    safe=safe,
                    authenticated=authenticated,
                    validate=validate,
                    name=name,
                )
            )
            return function

        return register


#: The registry L{jsonrpc_method} adds to.
default_registry = Registry()


def jsonrpc_method(
    signature: str | None = None,
    *,
    safe: bool = False,
    authenticated: bool | Callable[..., object] = False,
    validate: bool = True,
    name: str | None = None,
    site: Registry | None = None,
) -> Callable[[F], F]:
    """
    Register the decorated function on C{site} (by default
    L{default_registry}), as django-json-rpc's decorator of the same name
    does; the other parameters are those of L{Registry.method}.
    """
    return (site or default_registry).method(
        signature, safe=safe, authenticated=authenticated, validate=validate, name=name
    )


__all__ = [
    "Registry",
    "default_registry",
    "jsonrpc_method",
    "make_method",
]
