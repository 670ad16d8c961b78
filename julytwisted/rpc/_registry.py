# -*- test-case-name: tests.rpc.test_rpc_registry -*-
"""
The method registry: L{Registry}, the L{Method} each decorated function
becomes, signatures in django-json-rpc's form, and the binding of JSON params
to a function's arguments with their validation.
"""

from __future__ import annotations

import collections.abc
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
from twisted.internet.defer import Deferred

from julytwisted.rpc._doc import readable
from julytwisted.rpc._errors import InvalidParams

F = TypeVar("F", bound=Callable[..., object])

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

_EMPTY = inspect.Parameter.empty
_POSITIONAL = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
)


@attrs.frozen
class Param:
    """
    One parameter of a method as clients see it.

    @ivar name: its name, for params given by name.
    @ivar type: one of L{TYPES}.
    @ivar required: whether a call must give it.
    @ivar nullable: whether C{null} is accepted besides L{type}.
    """

    name: str
    type: str = "Any"
    required: bool = True
    nullable: bool = False


@attrs.frozen
class Method:
    """
    A registered method.

    @ivar name: the name clients call it by.
    @ivar function: the decorated function; its first parameter is the
        L{CallContext<julytwisted._rpc_protocol.CallContext>}.
    @ivar params: the params clients pass, in positional order.
    @ivar returns: the JSON type of the result, one of L{TYPES}.
    @ivar safe: whether it changes nothing, so that GET may call it.
    @ivar authenticated: whether a call needs credentials.
    @ivar validate: whether the params' types are checked before the call.
    @ivar doc: the function's docstring as plain text (epytext's markup
        unwrapped), or an empty string.
    @ivar variadic: the type of any further positional params, for a
        function with C{*args}; its name is that of C{*args}.
    """

    name: str
    function: Callable[..., object]
    params: tuple[Param, ...]
    returns: str = "Any"
    safe: bool = False
    authenticated: bool = False
    validate: bool = True
    doc: str = ""
    variadic: Param | None = None
    _call_signature: inspect.Signature = attrs.field(
        kw_only=True, repr=False, eq=False, alias="call_signature"
    )
    # Whether the function takes **kwargs, so unknown names are passed on.
    _open: bool = attrs.field(init=False, repr=False, eq=False)

    @_open.default
    def _takes_any_name(self) -> bool:
        kinds = {p.kind for p in self._call_signature.parameters.values()}
        return inspect.Parameter.VAR_KEYWORD in kinds

    @property
    def signature(self) -> str:
        """The method's signature in django-json-rpc's form."""
        params = [f"{p.name}={p.type}" for p in self.params]
        if self.variadic is not None:
            params.append(f"*{self.variadic.name}={self.variadic.type}")
        return f"{self.name}({', '.join(params)}) -> {self.returns}"

    def bind(
        self, args: list[Any], named: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """
        Match JSON params to the function's arguments, after its first.

        @param args: the params given by position.
        @param named: the params given by name.
        @return: the positional and keyword arguments to call the function
            with, after the call context.
        @raise InvalidParams: the params do not fit; the message names the
            param at fault.
        """
        values, extra_args, extra_named = self._match(args, named)
        for param in self.params:
            if param.name not in values:
                if param.required:
                    raise InvalidParams(f"missing required param {param.name!r}")
            elif self.validate:
                _check(param, values[param.name])
        if self.validate and self.variadic is not None:
            for index, value in enumerate(extra_args):
                _check(self.variadic, value, f"{self.variadic.name}[{index}]")
        return _arguments(self._call_signature, values, extra_args, extra_named)

    def _match(
        self, args: list[Any], named: dict[str, Any]
    ) -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
        if len(args) > len(self.params) and self.variadic is None:
            raise InvalidParams(
                f"{self.name} takes at most {len(self.params)} params, "
                f"{len(args)} given"
            )
        values = {p.name: v for p, v in zip(self.params, args, strict=False)}
        known = {p.name for p in self.params}
        extra_named: dict[str, Any] = {}
        for key, value in named.items():
            if key in values:
                raise InvalidParams(f"param {key!r} given twice")
            if key in known:
                values[key] = value
            elif self._open and key not in self._call_signature.parameters:
                extra_named[key] = value
            else:
                raise InvalidParams(f"unknown param {key!r}")
        return values, args[len(self.params) :], extra_named


def _arguments(
    signature: inspect.Signature,
    values: dict[str, Any],
    extra_args: list[Any],
    extra_named: dict[str, Any],
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    positional: list[Any] = []
    keywords: dict[str, Any] = dict(extra_named)
    pending: list[Any] = []
    for name, parameter in signature.parameters.items():
        if parameter.kind in _POSITIONAL and (
            parameter.kind is inspect.Parameter.POSITIONAL_ONLY or extra_args
        ):
            # Passed by position: an optional one left out before a given one
            # is filled with its default.
            if name in values:
                positional.extend(pending)
                pending = []
                positional.append(values[name])
            else:
                pending.append(parameter.default)
        elif name in values:
            keywords[name] = values[name]
    if extra_args:
        positional.extend(pending)
        positional.extend(extra_args)
    for name, value in values.items():
        if name not in signature.parameters:
            keywords[name] = value
    return tuple(positional), keywords


def _json_type_of(value: object) -> str:
    if value is None:
        return "Nil"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number"
    if isinstance(value, str):
        return "String"
    return "Array" if isinstance(value, list) else "Object"


def _check(param: Param, value: object, label: str | None = None) -> None:
    if param.type == "Any" or (value is None and param.nullable):
        return
    actual = _json_type_of(value)
    if actual != param.type:
        shown = label or param.name
        raise InvalidParams(f"param {shown!r} must be {param.type}, not {actual}")


def _hint_type(hint: object) -> tuple[str, bool]:
    """
    @return: the JSON type of a Python annotation, and whether it admits None.
    """
    if hint is None or hint is type(None):
        return "Nil", False
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        others = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable = len(others) < len(typing.get_args(hint))
        if len(others) == 1:
            return _hint_type(others[0])[0], nullable
        return "Any", False
    base = origin or hint
    if base is bool:
        return "Boolean", False
    if base in (int, float):
        return "Number", False
    if base is str:
        return "String", False
    if base in (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence):
        return "Array", False
    if base in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        return "Object", False
    return "Any", False


def _result_hint(hint: object) -> object:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Deferred or origin is collections.abc.Awaitable:
        return args[0] if args else Any
    if origin is collections.abc.Coroutine:
        return args[2] if len(args) == 3 else Any
    return hint


def _resolve(annotation: object, function: Callable[..., object]) -> object:
    if annotation is _EMPTY:
        return Any
    if isinstance(annotation, str):
        namespace = getattr(function, "__globals__", {})
        try:
            return eval(annotation, namespace)  # as typing.get_type_hints does
        except Exception:
            return Any
    return annotation


def _exposed(function: Callable[..., object]) -> inspect.Signature:
    """The function's signature without its first (context) parameter."""
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    if not parameters or parameters[0].kind not in _POSITIONAL:
        raise TypeError(
            f"{function!r} must take the call context as its first parameter"
        )
    return signature.replace(parameters=parameters[1:])


def _params_from_function(
    signature: inspect.Signature, function: Any
) -> tuple[list[Param], Param | None]:
    params = []
    variadic = None
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        kind, nullable = _hint_type(_resolve(parameter.annotation, function))
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            variadic = Param(name, kind, False, nullable)
        else:
            params.append(Param(name, kind, parameter.default is _EMPTY, nullable))
    return params, variadic


def _type_name(text: str, signature_text: str) -> str:
    try:
        return _ALIASES[text.lower()]
    except KeyError:
        raise ValueError(f"unknown type {text!r} in {signature_text!r}") from None


def parse_signature(text: str) -> tuple[str, list[Entry], str]:
    """
    Parse a signature in django-json-rpc's form, such as
    C{"julython.leaders(board=String, limit=Number) -> Array"} or
    C{"sum(Number, Number)"}.

    A last param written C{*name=Type} stands for any number of further
    positional params of that type.

    @return: the method name, the params as L{Entry}s, and the return type
        (C{Any} when not given).
    @raise ValueError: the text is not such a signature.
    """
    match = _SIGNATURE.match(text)
    if match is None:
        raise ValueError(f"not a method signature: {text!r}")
    entries: list[Entry] = []
    params = (match["params"] or "").strip()
    for part in params.split(",") if params else []:
        entry = _ENTRY.match(part)
        if entry is None or (entries and entries[-1][2]):
            raise ValueError(f"bad param {part.strip()!r} in {text!r}")
        kind = _type_name(entry["type"], text)
        entries.append((entry["name"], kind, bool(entry["star"])))
    returns = _type_name(match["returns"], text) if match["returns"] else "Any"
    return match["name"], entries, returns


def _variadic(entries: list[Entry], signature: inspect.Signature) -> Param | None:
    if not entries or not entries[-1][2]:
        return None
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return Param(name, entries[-1][1], required=False)
    raise ValueError("a *param needs a function that takes *args")


def _nullable(parameter: inspect.Parameter | None, kind: str, function: Any) -> bool:
    """Whether the annotation admits None besides the signature string's type."""
    if parameter is None:
        return False
    hinted, nullable = _hint_type(_resolve(parameter.annotation, function))
    return nullable and hinted in (kind, "Any")


def _params_from_text(
    entries: list[Entry], signature: inspect.Signature, text: str, function: Any
) -> tuple[list[Param], Param | None]:
    parameters = signature.parameters
    positional = [n for n, p in parameters.items() if p.kind in _POSITIONAL]
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
        nullable = _nullable(parameter, kind, function)
        params.append(Param(name, kind, required, nullable))
    named = {p.name for p in params}
    star = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    for name, parameter in parameters.items():
        required = parameter.kind not in star and parameter.default is _EMPTY
        if required and name not in named:
            raise ValueError(f"{text!r} leaves out the required param {name!r}")
    return params, variadic


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
    @raise TypeError: the function takes no call context.
    """
    exposed = _exposed(function)
    if signature is None:
        params, variadic = _params_from_function(exposed, function)
        hint = _result_hint(
            _resolve(inspect.signature(function).return_annotation, function)
        )
        returns = _hint_type(hint)[0]
        method_name = name or function.__name__
    else:
        method_name, entries, returns = parse_signature(signature)
        params, variadic = _params_from_text(entries, exposed, signature, function)
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
    "TYPES",
    "Entry",
    "Method",
    "Param",
    "Registry",
    "default_registry",
    "jsonrpc_method",
    "make_method",
    "parse_signature",
]
