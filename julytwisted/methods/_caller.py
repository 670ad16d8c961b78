# -*- test-case-name: tests.test_methods -*-
"""
Who is calling a method, as every group of the product's methods asks it,
and the plain answer of a method that did something.
"""

from __future__ import annotations

import attrs

from julytwisted import rpc
from julytwisted.auth.authenticator import Principal
from julytwisted.errors import Forbidden


@attrs.frozen
class Said:
    """What was done, for people."""

    message: str


def player_of(ctx: rpc.CallContext) -> str:
    """
    @return: the username of the player calling.
    @raise Forbidden: when no player is (an anonymous or admin-token call).
    """
    user = ctx.user
    if not isinstance(user, Principal) or user.username is None:
        raise Forbidden("this method is for players: sign in as one")
    return user.username


def require_admin(ctx: rpc.CallContext) -> None:
    """
    @raise Forbidden: unless an admin is calling.
    """
    user = ctx.user
    if not isinstance(user, Principal) or not user.admin:
        raise Forbidden("this method is for admins")


def admin_name(ctx: rpc.CallContext) -> str:
    """The admin calling, as a game's log names them."""
    require_admin(ctx)
    user = ctx.user
    assert isinstance(user, Principal)
    return user.username or "admin"


__all__ = ["Said", "admin_name", "player_of", "require_admin"]
