"""
Faults injected into real collaborators for the tests of supervised loops:
a method of a real object made to raise, once, an error its caller does not
expect.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import isawaitable
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred


class Injected(RuntimeError):
    """The error a test injected: nothing in the product expects it."""


def raise_once(
    target: object, name: str, when: Callable[..., object] = lambda *a, **k: True
) -> list[tuple[Any, ...]]:
    """
    Make C{target.name} fail with L{Injected} the first time it is called
    with arguments for which C{when} is true; every other call goes to the
    real method.  It gives a L{Deferred} (of the real method's result,
    awaited if it is awaitable), which its callers may await or add
    callbacks to, or ignore.

    @return: the arguments of every call, as they come.
    """
    real = getattr(target, name)
    calls: list[tuple[Any, ...]] = []
    pending = [Injected(f"injected into {name}")]

    async def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if pending and when(*args, **kwargs):
            raise pending.pop()
        result = real(*args, **kwargs)
        return await result if isawaitable(result) else result

    def flaky(*args: Any, **kwargs: Any) -> Deferred[Any]:
        return ensureDeferred(call(*args, **kwargs))

    setattr(target, name, flaky)
    return calls


def injected(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """
    @return: the logged events that carry an L{Injected} failure, taken out
        of C{events} (the C{no_logged_errors} fixture's list).
    """
    found = [
        e for e in events if e.get("log_failure") and e["log_failure"].check(Injected)
    ]
    events[:] = [e for e in events if e not in found]
    return found
