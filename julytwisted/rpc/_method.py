# -*- test-case-name: tests.rpc.test_rpc_registry -*-
"""
The records of a registered method, L{Method} and its L{Param}s, and the
binding of a call's JSON params to the function's arguments, with the
params' JSON types checked.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import attrs

from julytwisted.rpc._errors import InvalidParams

#: The kinds of parameter a value may be passed to by position.
POSITIONAL = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
)


@attrs.frozen
class Bounds:
    """
    The range of a number param, given in its annotation:
    C{limit: Annotated[int, Bounds(1, 100)]}.  A call outside it is refused
    with -32602 before the method runs, and the OpenRPC document shows it.

    @ivar minimum: the least value taken, or L{None} for no least.
    @ivar maximum: the greatest value taken, or L{None} for no greatest.
    """

    minimum: int | float | None = None
    maximum: int | float | None = None


@attrs.frozen
class Param:
    """
    One parameter of a method as clients see it.

    @ivar name: its name, for params given by name.
    @ivar type: one of L{TYPES<julytwisted.rpc._signature.TYPES>}.
    @ivar required: whether a call must give it.
    @ivar nullable: whether C{null} is accepted besides L{type}.
    @ivar integer: whether a C{Number} must be a whole number (its
        annotation is C{int}); C{2.0} is passed on as C{2}.
    @ivar bounds: the range of a C{Number}, or L{None} for any.
    """

    name: str
    type: str = "Any"
    required: bool = True
    nullable: bool = False
    integer: bool = False
    bounds: Bounds | None = None


@attrs.frozen
class Method:
    """
    A registered method.

    @ivar name: the name clients call it by.
    @ivar function: the decorated function; its first parameter is the
        L{CallContext<julytwisted.rpc.CallContext>}.
    @ivar params: the params clients pass, in positional order.
    @ivar returns: the JSON type of the result, one of
        L{TYPES<julytwisted.rpc._signature.TYPES>}.
    @ivar safe: whether it changes nothing, so that GET may call it.
    @ivar authenticated: whether a call needs credentials.
    @ivar authenticator: C{authenticator(username=..., password=...)}: the
        user the leading C{username, password} params of a call prove, or
        L{None} (or a Deferred or coroutine of either), instead of the
        resource's C{authenticate}, as django-json-rpc's
        C{authenticated=function}; L{None} for the resource's.
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
    authenticator: Callable[..., object] | None = None
    _call_signature: inspect.Signature = attrs.field(
        kw_only=True, repr=False, eq=False, alias="call_signature"
    )
    # Whether the function takes **kwargs, so unknown names are passed on.
    _open: bool = attrs.field(init=False, repr=False, eq=False)

    @_open.default
    def _takes_any_name(self) -> bool:
        kinds = {p.kind for p in self._call_signature.parameters.values()}
        return inspect.Parameter.VAR_KEYWORD in kinds

    # The method's own authenticator in the resource's form, made once: the
    # proofs of a request are keyed by the authenticator that made them.
    _prover: Callable[[object, Any], object] | None = attrs.field(
        init=False, repr=False, eq=False
    )

    @_prover.default
    def _make_prover(self) -> Callable[[object, Any], object] | None:
        if self.authenticator is None:
            return None
        return functools.partial(_prove, self.authenticator)

    @property
    def prover(self) -> Callable[[object, Any], object] | None:
        """
        L{authenticator} as an authenticator of the resource's form,
        C{(request, credentials)}, the same object at every call; L{None}
        without one.
        """
        return self._prover

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
                values[param.name] = _check(param, values[param.name])
        if self.validate and self.variadic is not None:
            extra_args = [
                _check(self.variadic, value, f"{self.variadic.name}[{index}]")
                for index, value in enumerate(extra_args)
            ]
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


def _prove(
    authenticator: Callable[..., object], request: object, credentials: Any
) -> object:
    return authenticator(username=credentials.username, password=credentials.password)


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
        if parameter.kind in POSITIONAL and (
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


def _check(param: Param, value: Any, label: str | None = None) -> Any:
    """
    @return: C{value}, a whole C{float} as an C{int} for an integer param.
    @raise InvalidParams: it is not of the param's type or range.
    """
    if param.type == "Any" or (value is None and param.nullable):
        return value
    shown = label or param.name
    actual = _json_type_of(value)
    if actual != param.type:
        raise InvalidParams(f"param {shown!r} must be {param.type}, not {actual}")
    if actual != "Number":
        return value
    if param.integer:
        if isinstance(value, float) and not value.is_integer():
            raise InvalidParams(f"param {shown!r} must be a whole number")
        value = int(value)
    bounds = param.bounds
    if bounds is not None:
        if bounds.minimum is not None and value < bounds.minimum:
            raise InvalidParams(f"param {shown!r} must be at least {bounds.minimum}")
        if bounds.maximum is not None and value > bounds.maximum:
            raise InvalidParams(f"param {shown!r} must be at most {bounds.maximum}")
    return value


__all__ = ["POSITIONAL", "Bounds", "Method", "Param"]
