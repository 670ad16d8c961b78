# -*- test-case-name: tests.rpc.test_rpc_registry -*-
"""
A method's Python annotations read as JSON types: C{str} is C{String},
C{int | None} a nullable C{Number}, C{Deferred[list[int]]} an C{Array}.

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

from twisted.internet.defer import Deferred


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
        )
    except Exception as e:
        where = getattr(target, "__module__", None) or "its module"
        name = getattr(target, "__qualname__", None) or repr(target)
        raise TypeError(
            f"cannot read the annotations of {name}: {e} (annotations are "
            f"resolved in {where}; define or import the name there)"
        ) from e


def json_type(hint: object) -> tuple[str, bool]:
    """
    @param hint: a resolved annotation.
    @return: its JSON type, one of L{TYPES<julytwisted.rpc._signature.TYPES>},
        and whether it admits C{None} besides.
    """
    if hint is None or hint is type(None):
        return "Nil", False
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        others = [a for a in typing.get_args(hint) if a is not type(None)]
        nullable = len(others) < len(typing.get_args(hint))
        if len(others) == 1:
            return json_type(others[0])[0], nullable
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


def result_hint(hint: object) -> object:
    """
    @param hint: a resolved return annotation.
    @return: the annotation of the result it gives a caller: the result of
        a L{Deferred}, an awaitable or a coroutine, else C{hint} itself.
    """
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Deferred or origin is collections.abc.Awaitable:
        return args[0] if args else Any
    if origin is collections.abc.Coroutine:
        return args[2] if len(args) == 3 else Any
    return hint


__all__ = ["json_type", "result_hint", "type_hints"]
