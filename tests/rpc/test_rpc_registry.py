"""
The registry, signatures, params binding and the error classes: pure code,
tested without a reactor.
"""

from __future__ import annotations

import collections.abc
import functools
from typing import Annotated, Any, Optional, Union

import pytest
from twisted.internet.defer import Deferred

from julytwisted.rpc import (
    AuthenticationError,
    Bounds,
    CallContext,
    InternalError,
    InvalidParams,
    InvalidRequest,
    JSONRPCError,
    Method,
    MethodNotFound,
    Param,
    ParseError,
    Registry,
    ServerError,
    default_registry,
    jsonrpc_method,
)
from julytwisted.rpc._registry import make_method
from julytwisted.rpc._signature import parse_signature


def method_of(function: Any, signature: str | None = None, **options: Any) -> Method:
    return make_method(function, signature, **options)


# Signatures


def test_parse_named_signature() -> None:
    """Named params with types, and the return type."""
    name, entries, returns = parse_signature(
        "julython.leaders(board=String, game=String, limit=Number) -> Array"
    )
    assert name == "julython.leaders"
    assert entries == [
        ("board", "String", False),
        ("game", "String", False),
        ("limit", "Number", False),
    ]
    assert returns == "Array"


def test_parse_positional_signature() -> None:
    """
    Types alone, aliases, no return type (Any); no parens at all is no params
    written (None: the function's own), unlike empty parens.
    """
    assert parse_signature("sum(Number, number, int)") == (
        "sum",
        [(None, "Number", False)] * 3,
        "Any",
    )
    assert parse_signature("ping") == ("ping", None, "Any")
    assert parse_signature("ping()") == ("ping", [], "Any")
    assert parse_signature("ping -> Nil") == ("ping", None, "Nil")
    assert parse_signature("f(*rest=str) -> nil") == (
        "f",
        [("rest", "String", True)],
        "Nil",
    )


@pytest.mark.parametrize(
    "text",
    ["", "f(", "f(a=)", "f(a=Strin)", "f() -> Thing", "f(*a=Any, b=Any)", "a b()"],
)
def test_bad_signatures(text: str) -> None:
    """Malformed signatures and unknown types are refused at registration."""
    with pytest.raises(ValueError):
        parse_signature(text)


def test_signature_string_names_function_params() -> None:
    """Positional types take the function's param names; defaults make optional."""

    def leaders(ctx: CallContext, board: str, limit: int = 10) -> list[Any]:
        return []

    method = method_of(leaders, "julython.leaders(String, Number) -> Array")
    assert method.name == "julython.leaders"
    assert method.params == (
        Param("board", "String", True),
        Param("limit", "Number", False, integer=True),
    )
    assert method.signature == "julython.leaders(board=String, limit=Number) -> Array"


def test_signature_string_takes_null_from_annotations() -> None:
    """A signature string's param admits null if the annotation is Optional."""

    def f(ctx: CallContext, a: str | None, b: str, c: int | None) -> None:
        pass

    method = method_of(f, "f(a=String, b=String, c=String)")
    assert [p.nullable for p in method.params] == [True, False, False]


def test_signature_string_must_fit_the_function() -> None:
    """Unknown names, extra params, or required params left out: ValueError."""

    def f(ctx: CallContext, a: str, b: str = "") -> None:
        pass

    with pytest.raises(ValueError, match="no param 'c'"):
        method_of(f, "f(a=String, c=String)")
    with pytest.raises(ValueError, match="more params"):
        method_of(f, "f(String, String, String)")
    with pytest.raises(ValueError, match="required param 'a'"):
        method_of(f, "f(b=String)")
    with pytest.raises(ValueError, match=r"\*args"):
        method_of(f, "f(a=String, *rest=Any)")


def test_function_needs_a_context() -> None:
    """A function that takes no call context cannot be a method."""
    with pytest.raises(TypeError):
        method_of(lambda: None)


def test_types_from_annotations() -> None:
    """Annotations give the JSON types; Optional admits null; others are Any."""

    def f(
        ctx: CallContext,
        s: str,
        i: int,
        x: float,
        b: bool,
        items: list[int],
        mapping: dict[str, int],
        nothing: None,
        maybe: Optional[str],  # noqa: UP045
        either: int | None,
        union: Union[int, str],  # noqa: UP007
        sequence: collections.abc.Sequence[str],
        untyped,  # type: ignore[no-untyped-def]
        other: bytes = b"",
    ) -> Deferred[list[int]]:
        raise NotImplementedError

    method = method_of(f)
    assert [(p.name, p.type, p.nullable) for p in method.params] == [
        ("s", "String", False),
        ("i", "Number", False),
        ("x", "Number", False),
        ("b", "Boolean", False),
        ("items", "Array", False),
        ("mapping", "Object", False),
        ("nothing", "Nil", False),
        ("maybe", "String", True),
        ("either", "Number", True),
        ("union", "Any", False),
        ("sequence", "Array", False),
        ("untyped", "Any", False),
        ("other", "Any", False),
    ]
    assert method.params[-1].required is False
    assert method.returns == "Array"
    assert method.name == "f"


def test_coroutine_return_type() -> None:
    """An async def's return annotation is its result's type."""

    async def f(ctx: CallContext) -> dict[str, int]:
        return {}

    assert method_of(f).returns == "Object"


#: A name only this module defines: string annotations naming it resolve
#: against the function's module.
Amount = float


def test_string_annotations_give_param_types() -> None:
    """
    Under C{from __future__ import annotations} every annotation is a
    string; they are resolved against the function's module, names of its
    own included, and the params and result still get their JSON types.
    """

    def f(
        ctx: CallContext, amount: Amount, note: str | None, count: int = 0
    ) -> Deferred[dict[str, int]]:
        raise NotImplementedError

    assert f.__annotations__["amount"] == "Amount"
    method = method_of(f)
    assert [(p.name, p.type, p.nullable, p.required) for p in method.params] == [
        ("amount", "Number", False, True),
        ("note", "String", True, True),
        ("count", "Number", False, False),
    ]
    assert method.returns == "Object"


def test_unresolvable_annotation_is_refused_at_registration() -> None:
    """
    An annotation naming something its module does not define is a
    TypeError when the method is registered, with or without a signature
    string, naming the function and the missing name; nothing is registered.
    """
    registry = Registry()

    def f(ctx: CallContext, a: NoSuchType) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(TypeError, match=r"<locals>\.f: name 'NoSuchType' is not"):
        registry.method()(f)
    with pytest.raises(TypeError, match="'NoSuchType' is not defined"):
        registry.method("demo.f(a=String)")(f)
    assert dict(registry.methods) == {}


def test_context_annotation_is_not_read() -> None:
    """
    A method defined inside a function may annotate its call context with a
    module imported only there (as bench/rpc_servers.py does): the context
    needs no JSON type, so it registers, typed from its other params.
    """
    registry = Registry()

    def make() -> None:
        from julytwisted import rpc as local_rpc

        def echo(ctx: local_rpc.CallContext, value: str) -> str:
            return value

        registry.method("demo.echo(value=String) -> String")(echo)
        registry.method(name="demo.bare")(echo)

    make()
    assert [p.type for p in registry.methods["demo.bare"].params] == ["String"]
    assert registry.methods["demo.bare"].returns == "String"


def test_partials_and_callable_objects_get_param_types() -> None:
    """
    A L{functools.partial} of a function, and an object with a C{__call__}
    method, are described from the annotations of what they call.
    """

    def g(ctx: CallContext, prefix: str, n: int) -> str:
        raise NotImplementedError

    class Counter:
        def __call__(self, ctx: CallContext, step: int | None) -> int:
            raise NotImplementedError

    partial = method_of(functools.partial(g, prefix="x"), name="g")
    assert [(p.name, p.type, p.required) for p in partial.params] == [
        ("prefix", "String", False),
        ("n", "Number", True),
    ]
    counter = method_of(Counter(), name="count")
    assert counter.params == (Param("step", "Number", True, True, integer=True),)
    assert counter.returns == "Number"


# Binding


def bind(method: Method, *args: Any, **named: Any) -> tuple[Any, ...]:
    return method.bind(list(args), named)


def subtract(ctx: CallContext, minuend: float, subtrahend: float = 0) -> float:
    return minuend - subtrahend


def test_bind_positional_and_named() -> None:
    """Params bind by position or by name."""
    method = method_of(subtract)
    assert bind(method, 42, 23) == ((), {"minuend": 42, "subtrahend": 23})
    assert bind(method, subtrahend=23, minuend=42) == (
        (),
        {"minuend": 42, "subtrahend": 23},
    )
    assert bind(method, 42) == ((), {"minuend": 42})


@pytest.mark.parametrize(
    ("args", "named", "message"),
    [
        ((1, 2, 3), {}, "at most 2 params, 3 given"),
        ((), {"minuend": 1, "other": 2}, "unknown param 'other'"),
        ((1,), {"minuend": 1}, "param 'minuend' given twice"),
        ((), {"subtrahend": 1}, "missing required param 'minuend'"),
        (("1",), {}, "param 'minuend' must be Number, not String"),
        ((True,), {}, "param 'minuend' must be Number, not Boolean"),
        ((1, None), {}, "param 'subtrahend' must be Number, not Nil"),
    ],
)
def test_bind_refusals(
    args: tuple[Any, ...], named: dict[str, Any], message: str
) -> None:
    """Each wrong call is InvalidParams naming the param at fault."""
    with pytest.raises(InvalidParams) as raised:
        bind(method_of(subtract), *args, **named)
    assert message in raised.value.message
    assert raised.value.code == -32602


def test_validate_off_skips_types_only() -> None:
    """validate=False passes any types, but still checks names and counts."""
    method = method_of(subtract, validate=False)
    assert bind(method, "a", None) == ((), {"minuend": "a", "subtrahend": None})
    with pytest.raises(InvalidParams):
        bind(method)


def test_nullable_admits_null() -> None:
    """An Optional param takes null."""

    def f(ctx: CallContext, name: str | None) -> None:
        pass

    assert bind(method_of(f), None) == ((), {"name": None})


def test_variadic_params() -> None:
    """*args takes further positional params, each checked against its type."""

    def total(ctx: CallContext, first: int, *rest: int) -> int:
        return first + sum(rest)

    method = method_of(total)
    assert method.variadic == Param("rest", "Number", required=False, integer=True)
    assert bind(method, 1, 2, 3) == ((1, 2, 3), {})
    with pytest.raises(InvalidParams, match=r"'rest\[1\]' must be Number"):
        bind(method, 1, 2, "x")
    assert method.signature == "total(first=Number, *rest=Number) -> Number"


def test_keyword_params() -> None:
    """**kwargs takes unknown names; keyword-only params bind by name."""

    def f(ctx: CallContext, a: int, *, b: int = 0, **more: Any) -> None:
        pass

    method = method_of(f)
    assert bind(method, 1, b=2, c=3) == ((), {"a": 1, "b": 2, "c": 3})


def test_positional_only_params() -> None:
    """Positional-only params are passed by position, defaults filled in."""

    def f(ctx: CallContext, a: int = 1, b: int = 2, /, c: int = 3) -> None:
        pass

    method = method_of(f)
    assert bind(method, b=5, c=6) == ((1, 5), {"c": 6})
    assert bind(method, 7) == ((7,), {})


# The registry


def test_registry_decorator() -> None:
    """The decorator registers and returns the function unchanged."""
    registry = Registry()

    @registry.method("demo.add(a=Number, b=Number) -> Number", safe=True)
    def add(ctx: CallContext, a: float, b: float) -> float:
        """
        Add two numbers.

        Indented help.
        """
        return a + b

    assert add(None, 1, 2) == 3  # type: ignore[arg-type]
    method = registry.methods["demo.add"]
    assert (method.function, method.safe, method.authenticated) == (add, True, False)
    assert method.doc == "Add two numbers.\n\nIndented help."
    with pytest.raises(TypeError):
        registry.methods["x"] = method  # type: ignore[index]


def test_registry_names() -> None:
    """name= overrides; the same name twice is refused."""
    registry = Registry()

    @registry.method(name="a.b", authenticated=True)
    def f(ctx: CallContext) -> None:
        pass

    assert list(registry.methods) == ["a.b"]
    assert registry.methods["a.b"].authenticated
    with pytest.raises(ValueError, match="registered already"):
        registry.method(name="a.b")(f)


def test_jsonrpc_method_uses_the_default_registry() -> None:
    """jsonrpc_method is the same decorator on default_registry."""

    @jsonrpc_method("test.default() -> Nil")
    def f(ctx: CallContext) -> None:
        pass

    try:
        assert default_registry.methods["test.default"].function is f
    finally:
        default_registry._methods.pop("test.default")


# Errors


def test_error_with_code_message_and_data() -> None:
    """JSONRPCError(code, message, data) carries the three."""
    error = JSONRPCError(403, "forbidden", {"why": "no"})
    assert (error.code, error.message, error.data) == (403, "forbidden", {"why": "no"})
    assert JSONRPCError(5, message="m", data=1).data == 1


def test_error_subclass_with_class_attributes() -> None:
    """A subclass sets code and message; instances may override the message."""

    class Overdrawn(JSONRPCError):
        code = 4001
        message = "overdrawn"

    assert (Overdrawn().code, Overdrawn().message, Overdrawn().data) == (
        4001,
        "overdrawn",
        None,
    )
    error = Overdrawn("by 5", {"amount": 5})
    assert (error.message, error.data) == ("by 5", {"amount": 5})
    assert Overdrawn(data=1).message == "overdrawn"


def test_predefined_errors() -> None:
    """The specification's codes, and the builtins they resemble."""
    assert [
        e.code
        for e in (
            ParseError(),
            InvalidRequest(),
            MethodNotFound(),
            InvalidParams(),
            InternalError(),
            ServerError(),
            AuthenticationError(),
        )
    ] == [-32700, -32600, -32601, -32602, -32603, -32000, 401]
    assert isinstance(InvalidParams(), ValueError)
    assert isinstance(MethodNotFound(), LookupError)
    assert isinstance(AuthenticationError(), PermissionError)
    assert ServerError(message="x").code == -32000


def test_error_arguments_are_checked() -> None:
    """A code without a message, or unknown arguments: TypeError."""
    with pytest.raises(TypeError):
        JSONRPCError(403)
    with pytest.raises(TypeError):
        JSONRPCError("m", None, 3)
    with pytest.raises(TypeError):
        JSONRPCError("m", colour="red")


def test_docstrings_are_read_as_plain_text() -> None:
    """
    Epytext's inline markup is unwrapped (braces nesting inside it too),
    fields are spelled out one a line, and wrapped lines are joined.
    """
    from julytwisted.rpc._doc import readable

    doc = """
        Commits, newest first:
        C{{"models": [...], "next": cursor}}; see L{julytwisted.store}.

        @param game: a game's slug, the current
            one by default.
        @return: a page of I{commits}.
        @raise NotFound: for no such game.
        """
    assert readable(doc) == (
        'Commits, newest first: {"models": [...], "next": cursor}; see '
        "julytwisted.store.\n\n"
        "game: a game's slug, the current one by default.\n"
        "Returns: a page of commits.\n"
        "Raises NotFound: for no such game."
    )
    assert readable(None) == ""
    assert readable("Leave C{this alone") == "Leave C{this alone"


# Whole numbers and ranges


def paged(
    ctx: CallContext,
    page: Annotated[int, Bounds(0, 10)] = 0,
    size: Annotated[int, Bounds(maximum=5)] | None = None,
    ratio: float = 1.0,
) -> None:
    pass


def test_int_annotations_make_whole_numbers_with_bounds() -> None:
    """
    C{int} makes a whole Number; C{Annotated[..., Bounds]} its range, for a
    nullable one too, with a signature string as without.
    """
    for method in (
        method_of(paged),
        method_of(paged, "paged(page=Number, size=Number, ratio=Number)"),
    ):
        assert method.params == (
            Param("page", "Number", False, integer=True, bounds=Bounds(0, 10)),
            Param("size", "Number", False, True, True, Bounds(None, 5)),
            Param("ratio", "Number", False),
        )
    untyped = method_of(paged, "paged(page=Any)")
    assert untyped.params[0] == Param("page", "Any", False)


@pytest.mark.parametrize(
    ("named", "message"),
    [
        ({"page": 2.5}, "param 'page' must be a whole number"),
        ({"page": -1}, "param 'page' must be at least 0"),
        ({"page": 11}, "param 'page' must be at most 10"),
        ({"page": 10**30}, "param 'page' must be at most 10"),
        ({"page": 2**63}, "param 'page' must be at most 10"),
        ({"page": 1e300}, "param 'page' must be at most 10"),
        ({"size": 6}, "param 'size' must be at most 5"),
    ],
)
def test_out_of_range_numbers_are_invalid_params(
    named: dict[str, Any], message: str
) -> None:
    """A fraction for a whole number, or a number out of range: -32602."""
    with pytest.raises(InvalidParams) as raised:
        bind(method_of(paged), **named)
    assert raised.value.message == message


def test_whole_floats_pass_as_ints() -> None:
    """2.0 for a whole number is passed as 2; null and fractions where allowed."""
    assert bind(method_of(paged), 2.0, None, 0.5) == (
        (),
        {"page": 2, "size": None, "ratio": 0.5},
    )
    assert type(bind(method_of(paged), 10.0)[1]["page"]) is int


def test_bounds_are_for_numbers() -> None:
    """Bounds on a string are refused when the method is registered."""

    def f(ctx: CallContext, name: Annotated[str, Bounds(0, 1)]) -> None:
        pass

    with pytest.raises(TypeError, match="Bounds apply to numbers"):
        method_of(f)


def test_validate_off_skips_ranges() -> None:
    """validate=False checks no type, so no range either."""
    assert bind(method_of(paged, validate=False), 99) == ((), {"page": 99})
