# -*- test-case-name: tests.store.test_store -*-
"""
What every concern of the store shares: loading its Lua scripts and the
scoring rules as the scripts take them.
"""

from __future__ import annotations

from importlib.resources import files

from julytwisted.game import scoring
from julytwisted.redis_service import Script

#: The scoring rules, as the Lua scripts take them.
POINTS = {
    "commit_points": scoring.COMMIT_POINTS,
    "first_bonus": scoring.FIRST_COMMIT_BONUS,
}


def script(name: str, scoring: bool = False, emails: bool = False) -> Script:
    """
    @param name: a file of C{lua/}, such as C{"ingest.lua"}.
    @param scoring: put C{lua/_scoring.lua}'s shared functions before it.
    @param emails: put C{lua/_emails.lua}'s shared functions before it.
    @return: the script, named after its file.
    """
    lua = files("julytwisted.store").joinpath("lua")
    preludes = [("_scoring.lua", scoring), ("_emails.lua", emails)]
    parts = [lua.joinpath(p).read_text("utf-8") for p, wanted in preludes if wanted]
    parts.append(lua.joinpath(name).read_text("utf-8"))
    return Script("\n".join(parts), name.removesuffix(".lua"))


__all__ = ["POINTS", "script"]
