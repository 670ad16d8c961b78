# -*- test-case-name: tests.rpc.test_rpc_registry -*-
"""
A method's Python annotations read as JSON types: C{str} is C{String},
C{int | None} a nullable whole C{Number}, C{Deferred[list[int]]} an
C{Array}, C{Annotated[int, Bounds(0, 9)]} a whole C{Number} from 0 to 9.

Annotations are read with L{typing.get_type_hints}, resolved against the
function's module, so that a function whose annotations are strings
(C{from __future__ import annotations}) is described like any other; a name
that cannot be resolved is an error when the method is registered, not a
param quietly typed C{Any}.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet.defer import Deferred

from julytwisted.rpc._method import Bounds


def type_hints(function: Callable[..., object]) -> dict[str, object]:
    """
    The annotations of a function's params, and of its result under
    C{"return"}, resolved; the first param, the call context, is not read
    (a method defined in a function may annotate it with a name imported
    only there, which its module cannot resolve, and no JSON type needs it).

    @param function: a function or method, a L{functools.partial} of one,
        or an object with a C{__call__} method.
    @return: the resolved annotations by param name; a param without one is
        left out.
    @raise TypeError: an annotation cannot be resolved: it names something
        its module does not define, or is not a valid expression.
    """
    target: Any = function
    while isinstance(target, functools.partial):
        target = target.func
    if not inspect.isroutine(target):
        target = type(target).__call__
    context = next(iter(inspect.signature(function).parameters), None)
    wanted = {
        name: hint
        for name, hint in inspect.get_annotations(target).items()
        if name != context
    }
    inner = inspect.unwrap(target)
    try:
        return typing.get_type_hints(
            types.SimpleNamespace(__annotations__=wanted),
            globalns=getattr(inner, "__globals__", {}),
            include_extras=True,
        )
    except Exception as e:
        where = getattr(target, "__module__", None) or "its module"
        name = getattr(target, "__qualname__", None) or repr(target)
        raise TypeError(
            f"cannot read the annotations of {name}: {e} (annotations are "
            f"resolved in {where}; define or import the name there)"
        ) from e


@attrs.frozen
class Shape:
    """
    What an annotation says of a param's JSON value: see
    L{Param<julytwisted.rpc.Param>}, whose fields these are.
    """

    type: str
    nullable: bool = False
    integer: bool = False
    bounds: Bounds | None = None


def shape(hint: object) -> Shape:
    """
    @param hint: a resolved annotation, with its C{Annotated} extras.
    @return: its JSON type, one of L{TYPES<julytwisted.rpc._signature.TYPES>},
        whether it admits C{None} besides, whether it is a whole number,
        and the L{Bounds} it is annotated with.
    @raise TypeError: L{Bounds} annotate something other than a number.
    """
    if typing.get_origin(hint) is typing.Annotated:
        hint, *extras = typing.get_args(hint)
        found = shape(hint)
        bounds = next((e for e in extras if isinstance(e, Bounds)), None)
        if bounds is None:
            return found
        if found.type != "Number":
            raise TypeError(f"Bounds apply to numbers, not to {hint!r}")
        return attrs.evolve(found, bounds=bounds)
    if hint is None or hint is type(None):
        return Shape("Nil")
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        others = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable = len(others) < len(typing.get_args(hint))
        if len(others) == 1:
            return attrs.evolve(shape(others[0]), nullable=nullable)
        return Shape("Any")
    return Shape(_base_type(origin or hint), integer=(origin or hint) is int)


def _base_type(base: object) -> str:
    if base is bool:
        return "Boolean"
    if base in (int, float):
        return "Number"
    if base is str:
        return "String"
    if base in (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence):
        return "Array"
    if base in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        return "Object"
    return "Any"


def json_type(hint: object) -> tuple[str, bool]:
    """
    @param hint: a resolved annotation.
    @return: its JSON type, one of L{TYPES<julytwisted.rpc._signature.TYPES>},
        and whether it admits C{None} besides.
    """
    found = shape(hint)
    return found.type, found.nullable


def result_hint(hint: object) -> object:
    """
    @param hint: a resolved return annotation.
    @return: the annotation of the result it gives a caller: the result of
        a L{Deferred}, an awaitable or a coroutine, else C{hint} itself.
    """
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Deferred or origin is collections.abc.Awaitable:
        return args[0] if args else Any
    if origin is collections.abc.Coroutine:
        return args[2] if len(args) == 3 else Any
    return hint


__all__ = ["Shape", "json_type", "result_hint", "shape", "type_hints"]
