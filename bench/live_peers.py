"""
The peers L{bench/live.py<live>} measures julython's live feed against, each
run alone in its own process on the loopback interface, as julython's twistd
is: a broadcast websocket server that subscribes to the same Redis channel
(C{j:live}) and sends every entry to every client, one frame each, with
nothing replayed.

  - C{websockets}: the C{websockets} library's asyncio server and its
    C{broadcast()}, which encodes each message once and frames it for each
    client;
  - C{tornado}: Tornado's C{WebSocketHandler}, C{write_message} to each
    open handler in turn.

    python bench/live_peers.py {websockets,tornado} PORT REDIS_SOCKET [--deflate]

Each prints C{ready} once it listens and is subscribed; SIGTERM stops it.
With C{--deflate} it accepts permessage-deflate with its library's defaults
(the memory measurement), else it refuses compression.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

#: The only interface the peers listen on.
LOOPBACK = "127.0.0.1"

#: The kinds of peer, as named on the command line.
KINDS = ("websockets", "tornado")


async def feed(redis_socket: str) -> AsyncIterator[str]:
    """
    Subscribe to julython's feed channel on Redis and yield each entry as
    the message a C{global} watcher would get, in order.

    The subscription is read with a few lines of RESP by hand, so that no
    Redis client library's cost stands between the peers and julython.
    """
    reader, writer = await asyncio.open_unix_connection(redis_socket)
    writer.write(b"*2\r\n$9\r\nSUBSCRIBE\r\n$6\r\nj:live\r\n")
    while True:
        parts = []
        header = await reader.readline()
        if not header:
            return
        for _ in range(int(header[1:])):
            kind = await reader.readline()
            if kind.startswith(b"$"):
                data = await reader.readexactly(int(kind[1:]) + 2)
                parts.append(data[:-2])
            else:
                parts.append(kind[1:].strip())
        if parts[0] == b"subscribe":
            yield ""
            continue
        if parts[0] != b"message":
            continue
        for entry in json.loads(parts[2]):
            yield (
                f'{{"type":"{entry["type"]}","id":"{entry["id"]}",'
                f'"channel":"global","{entry["type"]}":{entry["data"]}}}'
            )


async def _pump(redis_socket: str, send: Callable[[str], None]) -> None:
    """Hand every entry to C{send}; say C{ready} once subscribed."""
    async for message in feed(redis_socket):
        if message:
            send(message)
        else:
            print("ready", flush=True)


async def run_websockets(port: int, redis_socket: str, deflate: bool) -> None:
    """The C{websockets} library's server and C{broadcast()}."""
    import websockets
    from websockets.asyncio.server import serve

    # Clients leave without a closing handshake at the end of each run.
    logging.getLogger("websockets").setLevel(logging.CRITICAL)
    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    compression = "deflate" if deflate else None
    async with serve(
        handler, LOOPBACK, port, compression=compression, ping_interval=None
    ):
        await _pump(redis_socket, lambda m: websockets.broadcast(clients, m))


async def run_tornado(port: int, redis_socket: str, deflate: bool) -> None:
    """Tornado's C{WebSocketHandler}, written to one handler at a time."""
    import tornado.web
    import tornado.websocket

    logging.getLogger("tornado").setLevel(logging.CRITICAL)
    clients: set[tornado.websocket.WebSocketHandler] = set()

    class Feed(tornado.websocket.WebSocketHandler):
        def check_origin(self, origin: str) -> bool:
            return True

        def get_compression_options(self) -> dict[str, Any] | None:
            return {} if deflate else None

        def open(self, *args: str, **kwargs: str) -> None:
            clients.add(self)

        def on_close(self) -> None:
            clients.discard(self)

    def send(message: str) -> None:
        for client in list(clients):
            try:
                client.write_message(message)
            except tornado.websocket.WebSocketClosedError:
                clients.discard(client)

    app = tornado.web.Application([(r"/", Feed)], websocket_ping_interval=0)
    app.listen(port, LOOPBACK)
    await _pump(redis_socket, send)


RUNS: dict[str, Callable[[int, str, bool], Coroutine[Any, Any, None]]] = {
    "websockets": run_websockets,
    "tornado": run_tornado,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("port", type=int)
    parser.add_argument("redis_socket")
    parser.add_argument("--deflate", action="store_true")
    args = parser.parse_args()
    # Clients leave without a closing handshake at the end of each run.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    asyncio.run(
        _until_terminated(RUNS[args.kind](args.port, args.redis_socket, args.deflate))
    )


async def _until_terminated(run: Coroutine[Any, Any, None]) -> None:
    """
    Run C{run} until SIGTERM, which cancels it: a C{KeyboardInterrupt}
    raised wherever the signal lands (a weakref's callback, once) is
    printed instead of stopping the process.
    """
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await run


if __name__ == "__main__":
    main()
