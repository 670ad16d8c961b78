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
    open handler in turn;
  - C{floor}: no websocket library at all, the least a Python server can
    do: each message framed once and written to each client's socket with
    one C{send()}, in a plain loop.  Not a peer to beat but a reference:
    what the kernel's sends cost any server on this machine.

    python bench/live_peers.py {websockets,tornado,floor} PORT REDIS_SOCKET
        [--deflate]

Each prints C{ready} once it listens and is subscribed; SIGTERM stops it.
With C{--deflate} it accepts permessage-deflate with its library's defaults
(the memory measurement), else it refuses compression; the floor has none.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import signal
import socket
import struct
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

#: The only interface the peers listen on.
LOOPBACK = "127.0.0.1"

#: The kinds of peer, as named on the command line.
KINDS = ("websockets", "tornado", "floor")


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


#: RFC 6455's GUID, which the server's accept key is made with.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _frame(message: str) -> bytes:
    """@return: C{message} as one unmasked websocket text frame."""
    payload = message.encode()
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


async def _upgrade(client: socket.socket) -> bool:
    """
    Read a client's upgrade request and answer it.

    @return: whether it asked for a websocket.
    """
    loop = asyncio.get_running_loop()
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = await loop.sock_recv(client, 4096)
        if not chunk:
            return False
        request += chunk
    key = b""
    for line in request.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    if not key:
        return False
    accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
    await loop.sock_sendall(
        client,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n",
    )
    return True


async def run_floor(port: int, redis_socket: str, deflate: bool) -> None:
    """
    The floor: a frame made once per message and written straight to each
    client's socket, one C{send()} each; what a socket does not take waits
    for it, in order, and goes when the socket can take more.  Nothing is
    read after the upgrade: a client that left is found by its send failing.
    """
    if deflate:
        raise SystemExit("the floor has no permessage-deflate")
    loop = asyncio.get_running_loop()
    #: Each client, and what waits to be written to it.
    clients: dict[socket.socket, bytearray] = {}

    def drop(client: socket.socket) -> None:
        if clients.pop(client, None):
            loop.remove_writer(client)
        client.close()

    def drain(client: socket.socket) -> None:
        waiting = clients[client]
        try:
            sent = client.send(waiting)
        except BlockingIOError:
            return
        except OSError:
            drop(client)
            return
        del waiting[:sent]
        if not waiting:
            loop.remove_writer(client)

    def send(message: str) -> None:
        data = _frame(message)
        for client, waiting in list(clients.items()):
            if waiting:
                waiting += data
                continue
            try:
                sent = client.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                drop(client)
                continue
            if sent < len(data):
                waiting += data[sent:]
                loop.add_writer(client, drain, client)

    async def serve(client: socket.socket) -> None:
        client.setblocking(False)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            upgraded = await _upgrade(client)
        except OSError:
            upgraded = False
        if upgraded:
            clients[client] = bytearray()
        else:
            client.close()

    async def accept(listening: socket.socket) -> None:
        tasks: set[asyncio.Task[None]] = set()
        while True:
            client, _ = await loop.sock_accept(listening)
            task = asyncio.create_task(serve(client))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    listening = socket.create_server((LOOPBACK, port), backlog=4096)
    listening.setblocking(False)
    accepting = asyncio.create_task(accept(listening))
    try:
        await _pump(redis_socket, send)
    finally:
        accepting.cancel()
        listening.close()


RUNS: dict[str, Callable[[int, str, bool], Coroutine[Any, Any, None]]] = {
    "websockets": run_websockets,
    "tornado": run_tornado,
    "floor": run_floor,
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
