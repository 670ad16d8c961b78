# -*- test-case-name: tests.rpc.test_rpc_registry -*-
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

from julytwisted.rpc._annotations import json_type, result_hint, type_hints
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
    authenticated: bool = False,
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
    if signature is None:
        params, variadic = _params_from_function(exposed, hints)
        returns = json_type(result_hint(hints.get("return", Any)))[0]
        method_name = name or function.__name__
    else:
        method_name, entries, returns = parse_signature(signature)
        params, variadic = _params_from_text(entries, exposed, signature, hints)
        method_name = name or method_name
    return Method(
        name=method_name,
        function=function,
        params=tuple(params),
        returns=returns,
        safe=safe,
        authenticated=authenticated,
        validate=validate,
        doc=readable(function.__doc__),
        variadic=variadic,
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
        kind, nullable = json_type(hints.get(name, Any))
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            variadic = Param(name, kind, False, nullable)
        else:
            params.append(Param(name, kind, parameter.default is _EMPTY, nullable))
    return params, variadic


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
        params.append(Param(name, kind, required, _nullable(hint, kind)))
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


def _nullable(hint: object, kind: str) -> bool:
    """Whether the annotation admits None besides the signature string's type."""
    hinted, nullable = json_type(hint)
    return nullable and hinted in (kind, "Any")


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
        authenticated: bool = False,
        validate: bool = True,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """
        Register the decorated function as a method; the function is returned
        unchanged.

        @param signature: C{"name(param=Type, ...) -> Type"} or
            C{"name(Type, ...)"}, in django-json-rpc's form; without it the
            name is C{name} or the function's, and the params and their types
            come from the function's signature and annotations.
        @param safe: the method changes nothing, so HTTP GET may call it.
        @param authenticated: calls need credentials; without an
            C{Authorization} header, a call's first two params (or its
            C{username} and C{password} params) are taken as credentials.
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
    authenticated: bool = False,
    validate: bool = True,
    name: str | None = None,
) -> Callable[[F], F]:
    """
    Register the decorated function on L{default_registry}, as
    django-json-rpc's decorator of the same name does; the parameters are
    those of L{Registry.method}.
    """
    return default_registry.method(
        signature, safe=safe, authenticated=authenticated, validate=validate, name=name
    )


__all__ = [
    "Registry",
    "default_registry",
    "jsonrpc_method",
    "make_method",
]
