"""
C{--rpc-batch-limit N}: the most calls one JSON-RPC batch may hold, from
the command line (checked like every count) to the served C{/json/}.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import attrs
import pytest
import pytest_twisted
import treq

from julytwisted.config import Config, Options
from tests.config.test_config import parse, refused


def test_default_is_a_thousand() -> None:
    """Without the option a batch may hold 1000 calls, as before."""
    assert parse([]).rpc_batch_limit == 1000


def test_option_sets_the_limit() -> None:
    """The option takes a count from 1 to 100000."""
    assert parse(["--rpc-batch-limit", "5"]).rpc_batch_limit == 5
    assert parse(["--rpc-batch-limit=100000"]).rpc_batch_limit == 100_000


@pytest.mark.parametrize("value", ["0", "-1", "lots", "1.5", "100001", "\u00b2", ""])
def test_bad_limits_are_usage_errors(value: str) -> None:
    """A bad count is a usage error naming the option; nothing starts."""
    assert "rpc-batch-limit" in refused(["--rpc-batch-limit", value])


def test_help_shows_the_option() -> None:
    """C{twistd julython --help} lists it with its default."""
    text = str(Options({}))
    assert "--rpc-batch-limit=" in text
    assert "(error -32600)" in " ".join(text.split())


async def post(server: str, payload: object) -> object:
    response = await treq.post(
        server + "/json/",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        persistent=False,
    )
    return json.loads(await response.content())


@pytest_twisted.ensureDeferred
async def test_served_resource_keeps_the_limit(
    server_with: Callable[[Config], str], config: Config
) -> None:
    """
    With C{--rpc-batch-limit 3}, a batch of 3 runs and a batch of 4 is one
    -32600 error naming the limit, none of its calls run.
    """
    server = server_with(attrs.evolve(config, rpc_batch_limit=3))
    call = {"jsonrpc": "2.0", "method": "system.listMethods"}
    answers = await post(server, [{**call, "id": n} for n in range(3)])
    assert isinstance(answers, list) and len(answers) == 3
    assert all("result" in a for a in answers)
    refusal = await post(server, [{**call, "id": n} for n in range(4)])
    assert isinstance(refusal, dict)
    assert refusal["error"]["code"] == -32600
    assert "at most 3 calls" in refusal["error"]["message"]
