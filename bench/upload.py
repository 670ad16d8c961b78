"""
Uploads over loopback: one file of 1 MiB, 100 MiB and 1 GiB posted as
C{multipart/form-data} to C{twistd -n julython}'s C{/upload/}, beside
twisted.web's default handling (the body parsed into C{request.args}) and a
peer, aiohttp's streaming multipart reader, in the same run; and beside
C{cat FILE > /dev/null}, the ceiling of reading the file at all.

Each server runs alone in a fresh process for each size.  Printed for each:
the throughput (MB/s, 10^6 bytes, from connecting to the answer), the
server's resident memory before the upload and its peak (VmHWM) after, and
the longest a C{GET /} sent every 20 ms waited meanwhile (how long the
server left other requests waiting).

    python bench/upload.py [--quick] [--twisted-gib]

C{--quick} measures 1 MiB and 20 MiB only.  twisted.web's default handling
of the 1 GiB upload peaks at about 13 GiB of memory, so it is skipped unless
C{--twisted-gib} asks for it.  The files live in a temporary
directory that is removed afterwards, whatever happens.  Needs the C{bench}
extra (aiohttp).  Exits 2 when an answer was wrong or a server would not
start.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import attrs
from _common import (
    LOOPBACK,
    BenchError,
    free_port,
    machine,
    memory,
    player_token,
    print_tail,
    raise_on_sigterm,
    start_redis,
    start_service,
    stop_process,
)

MiB = 1024 * 1024
GiB = 1024 * MiB
SIZES = {"1 MiB": MiB, "100 MiB": 100 * MiB, "1 GiB": GiB}
QUICK_SIZES = {"1 MiB": MiB, "20 MiB": 20 * MiB}

#: Uploads of each size, so that small ones run long enough to time.
REPEAT = {MiB: 20}

SERVERS = {
    "ours": "julytwisted /upload/",
    "twisted": "twisted.web request.args",
    "aiohttp": "peer aiohttp multipart",
}
BOUNDARY = "bench-upload-boundary"
SERVERS_SCRIPT = Path(__file__).with_name("upload_servers.py")
LIMITS = ["--upload-max-file", "2G", "--upload-max-body", "2G"]


@attrs.frozen
class Result:
    """One server's upload of one size."""

    seconds: float
    bytes: int
    rss_before: int
    peak: int
    longest_wait: float

    @property
    def rate(self) -> float:
        return self.bytes / self.seconds / 1e6


def make_file(path: Path, size: int) -> None:
    """Write C{size} bytes: one random MiB repeated, a MiB at a time."""
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for start in range(0, size, MiB):
            f.write(block[: min(MiB, size - start)])


def upload(port: int, path: Path, token: str | None) -> tuple[int, Any]:
    """Stream C{path} as one C{file} part; @return: the status and answer."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    size = path.stat().st_size
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=600)
    connection.putrequest("POST", "/upload/")
    if token:
        connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    connection.send(head)
    with open(path, "rb") as f:
        while chunk := f.read(MiB):
            connection.send(chunk)
    connection.send(tail)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    return response.status, answer


class Prober(threading.Thread):
    """Sends C{GET /} every 20 ms; keeps the longest wait for an answer."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.longest, self._done = port, 0.0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            started = time.perf_counter()
            connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=600)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
            self.longest = max(self.longest, time.perf_counter() - started)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.longest


def measure(port: int, pid: int, path: Path, token: str | None) -> Result:
    """Upload C{path} (repeatedly, when small) and read the server's memory."""
    warm = path.with_name("warm.bin")
    make_file(warm, 1000)
    check(upload(port, warm, token), warm)
    rss_before = memory(pid, "VmRSS")
    size = path.stat().st_size
    times = REPEAT.get(size, 1)
    prober = Prober(port)
    prober.start()
    started = time.perf_counter()
    for _ in range(times):
        check(upload(port, path, token), path)
    seconds = time.perf_counter() - started
    longest = prober.stop()
    return Result(seconds, size * times, rss_before, memory(pid, "VmHWM"), longest)


def check(outcome: tuple[int, Any], path: Path) -> None:
    """@raise BenchError: unless the answer names the file's digest and size."""
    status, answer = outcome
    size = path.stat().st_size
    if status != 201 or not answer or answer[0]["size"] != size:
        raise BenchError(f"upload of {path.name} answered {status}: {answer}")
    small = size < 2 * MiB
    if small and answer[0]["sha256"] != hashlib.sha256(path.read_bytes()).hexdigest():
        raise BenchError(f"upload of {path.name}: wrong digest {answer[0]}")


def run_ours(work: Path, path: Path) -> Result:
    with contextlib.ExitStack() as stack:
        sock = start_redis(stack, work / "redis")
        started: list[subprocess.Popen[bytes]] = []
        options = [*LIMITS, "--upload-quota", "100G", "--workers", "1"]
        directory = work / "ours"
        stack.callback(shutil.rmtree, directory, True)
        try:
            url = start_service(stack, sock, directory, "t0ken", options, started)
            token = player_token(url)
            return measure(int(url.rsplit(":", 1)[1]), started[0].pid, path, token)
        except BaseException:
            print_tail(directory / "twistd.log")
            raise
        finally:
            shutil.rmtree(work / "redis", ignore_errors=True)


def run_peer(kind: str, work: Path, path: Path) -> Result:
    directory = work / kind
    directory.mkdir()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVERS_SCRIPT), kind, str(port), str(directory)]
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                http.client.HTTPConnection(LOOPBACK, port, timeout=1).connect()
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise BenchError(f"the {kind} server did not start")
            time.sleep(0.05)
        return measure(port, process.pid, path, None)
    finally:
        stop_process(process)
        shutil.rmtree(directory, ignore_errors=True)


def cat_rate(path: Path, times: int) -> float:
    """
    @return: MB/s of C{cat FILE > /dev/null} run C{times} times, the file in
        the page cache (as it is for the uploads), cat's start included.
    """
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    started = time.perf_counter()
    for _ in range(times):
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    return path.stat().st_size * times / (time.perf_counter() - started) / 1e6


def report(label: str, result: Result) -> None:
    print(
        f"  {label:<28}{result.rate:8.1f} MB/s   RSS {result.rss_before / MiB:6.1f}"
        f" -> peak {result.peak / MiB:7.1f} MiB   longest GET / wait "
        f"{result.longest_wait * 1000:7.1f} ms",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 MiB and 20 MiB only")
    parser.add_argument(
        "--twisted-gib",
        action="store_true",
        help="also upload 1 GiB to twisted.web's default (about 13 GiB of RAM)",
    )
    options = parser.parse_args()
    raise_on_sigterm()
    print(machine())
    sizes = QUICK_SIZES if options.quick else SIZES
    work = Path(tempfile.mkdtemp(prefix="julython-bench-upload-"))
    try:
        for name, size in sizes.items():
            path = work / f"upload-{size}.bin"
            make_file(path, size)
            times = REPEAT.get(size, 1)
            print(f"\n{name}" + (f" (x{times})" if times > 1 else ""), flush=True)
            report(SERVERS["ours"], run_ours(work, path))
            if size < GiB or options.twisted_gib:
                report(SERVERS["twisted"], run_peer("twisted", work, path))
            else:
                print(f"  {SERVERS['twisted']:<28}skipped: --twisted-gib to run it")
            report(SERVERS["aiohttp"], run_peer("aiohttp", work, path))
            cat = cat_rate(path, times)
            print(f"  {'cat FILE > /dev/null':<28}{cat:8.1f} MB/s")
            path.unlink()
    except BenchError as e:
        print(f"bench/upload.py: {e}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
