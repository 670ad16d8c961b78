"""
The upload servers bench/upload.py compares julytwisted with, each run alone
in its own process:

    python bench/upload_servers.py twisted PORT DIR   # twisted.web's request.args
    python bench/upload_servers.py aiohttp PORT DIR   # aiohttp's multipart reader

Each takes C{POST /upload/} with C{file} parts, hashes each with SHA-256,
writes it to C{DIR} and answers C{[{"sha256", "size"}]}: the same work as
julytwisted's, without its checks, metadata or Redis.  C{GET /} answers a
few bytes, to time how long the server leaves requests waiting meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any


def serve_twisted(port: int, directory: Path) -> None:
    """twisted.web as it comes: the whole body parsed into request.args."""
    from twisted.internet import reactor
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    class Upload(Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            answer = []
            for content in request.args.get(b"file", []):
                digest = hashlib.sha256(content).hexdigest()
                (directory / digest).write_bytes(content)
                answer.append({"sha256": digest, "size": len(content)})
            request.setResponseCode(201)
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps(answer).encode()

    class Ping(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            return b"pong"

    root = Resource()
    root.putChild(b"upload", Upload())
    root.putChild(b"", Ping())
    reactor.listenTCP(port, Site(root), interface="127.0.0.1")  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]


def serve_aiohttp(port: int, directory: Path) -> None:
    """aiohttp's streaming multipart reader, a chunk at a time to disk."""
    from aiohttp import BodyPartReader, web

    async def upload(request: web.Request) -> web.Response:
        reader = await request.multipart()
        answer = []
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name != "file":
                continue
            digest, size = hashlib.sha256(), 0
            partial = directory / f"partial-{os.getpid()}"
            with open(partial, "wb") as f:
                while chunk := await part.read_chunk(256 * 1024):
                    digest.update(chunk)
                    f.write(chunk)
                    size += len(chunk)
            os.replace(partial, directory / digest.hexdigest())
            answer.append({"sha256": digest.hexdigest(), "size": size})
        return web.json_response(answer, status=201)

    async def ping(request: web.Request) -> web.Response:
        return web.Response(body=b"pong")

    app = web.Application(client_max_size=4 * 1024**3)
    app.router.add_post("/upload/", upload)
    app.router.add_get("/", ping)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def main(argv: list[str]) -> None:
    kind, port, directory = argv[0], int(argv[1]), Path(argv[2])
    {"twisted": serve_twisted, "aiohttp": serve_aiohttp}[kind](port, directory)


if __name__ == "__main__":
    main(sys.argv[1:])
