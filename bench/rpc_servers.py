"""
The servers L{bench/rpc.py<rpc>} measures, each run alone in its own process
on the loopback interface, all answering C{POST /json/} with the trivial
method C{echo(value)}, which returns its param:

  - C{ours}: L{julytwisted.rpc.JSONRPCResource} on a L{JulythonSite}, as
    the service mounts it (default settings, no authentication), on the
    epoll reactor;
  - C{bare}: a plain twisted.web leaf resource on the same kind of Site that
    decodes the body and writes back the same JSON-RPC 2.0 envelopes: the
    floor of any JSON-RPC server on twisted.web;
  - C{peer}: jsonrpcserver (PyPI) on aiohttp's own server and asyncio loop,
    its defaults kept.

    python bench/rpc_servers.py {ours,bare,peer} PORT [--profile FILE]
        [--no-access-log]

Every server writes one access log line per request to its standard output,
as C{twistd -n} does, unless C{--no-access-log}.  SIGTERM stops it; with
C{--profile} it then writes its cProfile statistics to FILE.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
from collections.abc import Callable
from typing import Any

#: The only interface the servers listen on.
LOOPBACK = "127.0.0.1"

#: The kinds of server, as named on the command line.
KINDS = ("ours", "bare", "peer")


def run_profiled(run: Callable[[], object], profile: str | None) -> None:
    """
    Call C{run}, under cProfile when C{profile} names a file for the
    statistics.
    """
    if profile is None:
        run()
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run()
    finally:
        profiler.disable()
        profiler.dump_stats(profile)


# ours and bare: twisted.web


def echo_answer(call: dict[str, Any]) -> dict[str, Any]:
    """@return: the JSON-RPC 2.0 answer of C{echo} to one request object."""
    return {"jsonrpc": "2.0", "result": call["params"][0], "id": call["id"]}


def bare_resource() -> Any:
    """
    @return: a leaf resource that answers a POSTed call, or batch of calls,
        to C{echo} with no JSON-RPC machinery at all.
    """
    from twisted.web.iweb import IRequest
    from twisted.web.resource import Resource

    class Bare(Resource):
        isLeaf = True

        def render_POST(self, request: IRequest) -> bytes:
            calls = json.loads(request.content.read())
            if isinstance(calls, list):
                answer: Any = [echo_answer(call) for call in calls]
            else:
                answer = echo_answer(calls)
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps(answer, separators=(",", ":")).encode()

    return Bare()


def ours_resource() -> Any:
    """
    @return: a L{JSONRPCResource} with default settings over a registry
        holding C{echo}.
    """
    from julytwisted import rpc

    registry = rpc.Registry()

    def echo(ctx: rpc.CallContext, value: str) -> str:
        """Return C{value}."""
        return value

    registry.method("echo(value=String) -> String", safe=True)(echo)
    return rpc.JSONRPCResource(registry)


def serve_twisted(kind: str, port: int, access_log: bool, profile: str | None) -> None:
    """
    Serve C{ours} or C{bare} at C{/json/} on a L{JulythonSite} on the epoll
    reactor until SIGTERM.
    """
    from twisted.internet import epollreactor

    epollreactor.install()
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver
    from twisted.web.resource import Resource

    from julytwisted.site import JulythonSite

    class QuietSite(JulythonSite):
        def log(self, request: object) -> None:
            pass

    root = Resource()
    root.putChild(b"json", ours_resource() if kind == "ours" else bare_resource())
    site = (JulythonSite if access_log else QuietSite)(root)
    # As twistd -n: every log event, request lines included, to stdout.
    globalLogBeginner.beginLoggingTo(
        [textFileLogObserver(sys.stdout)], redirectStandardIO=False
    )
    reactor.listenTCP(port, site, interface=LOOPBACK)  # type: ignore[arg-type]
    run_profiled(reactor.run, profile)


# peer: jsonrpcserver on aiohttp


def serve_peer(port: int, access_log: bool, profile: str | None) -> None:
    """
    Serve C{echo} through jsonrpcserver's C{async_dispatch} (its default
    jsonschema validation on) on aiohttp's server until SIGTERM.
    """
    import logging

    from aiohttp import web
    from aiohttp.log import access_logger
    from jsonrpcserver import Result, Success, async_dispatch, method

    @method
    async def echo(value: str) -> Result:
        return Success(value)

    async def handle(request: web.Request) -> web.Response:
        answer = await async_dispatch(await request.text())
        return web.Response(text=answer, content_type="application/json")

    app = web.Application()
    app.router.add_post("/json/", handle)
    if access_log:
        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    run_profiled(
        lambda: web.run_app(
            app,
            host=LOOPBACK,
            port=port,
            print=None,
            access_log=access_logger if access_log else None,
        ),
        profile,
    )


def main(argv: list[str]) -> None:
    """Run the server the command line names."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("port", type=int)
    parser.add_argument("--profile", help="write cProfile statistics here")
    parser.add_argument("--no-access-log", action="store_true")
    ns = parser.parse_args(argv)
    access_log = not ns.no_access_log
    if ns.kind == "peer":
        serve_peer(ns.port, access_log, ns.profile)
    else:
        serve_twisted(ns.kind, ns.port, access_log, ns.profile)


if __name__ == "__main__":
    main(sys.argv[1:])
