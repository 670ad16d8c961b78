"""
Where the CPU went during one phase of L{bench/live.py<live>}: each process's
user and system time (from C{/proc/PID/stat}) between two samples, in cores
(CPU seconds a second), the time its threads waited for a core while ready to
run (C{/proc/PID/task/*/schedstat}), and the whole machine's busy time; and
the bytes that waited in the kernel meanwhile, sent by the server and not
read yet by its clients.  So a row shows which process was the bottleneck:
one that ran plus waited about a core was CPU-bound (starved, if it waited
much), and clients that leave bytes unread are slower than their server.
It also finds the CPU that processes the benchmark did not start used
(L{outside}), which disturbs a phase whichever server it measures.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(stat: str) -> tuple[str, int, float]:
    """
    @return: the name, parent and user and system CPU seconds of a process,
        from its C{/proc/PID/stat}.
    """
    # The command name, in parentheses, may hold spaces: split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def process_seconds(pid: int) -> float:
    """@return: the user and system CPU seconds a process has used (0 if gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    return _stat(stat)[2]


def waited_seconds(pid: int) -> float:
    """
    @return: the seconds the threads of a process have spent ready to run
        but waiting for a core (0 if gone).
    """
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with open(task / "schedstat") as f:
                total += int(f.read().split()[1])
    except OSError:
        pass
    return total / 1e9


def preempted(pid: int) -> int:
    """
    @return: how many times the threads of a process have been switched
        out while ready to run (C{nonvoluntary_ctxt_switches}; 0 if gone).
    """
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for line in (task / "status").read_text().splitlines():
                if line.startswith("nonvoluntary_ctxt_switches:"):
                    total += int(line.split()[1])
    except OSError:
        pass
    return total


def unread(port: int) -> tuple[int, int]:
    """
    @return: the bytes in the kernel's loopback TCP queues of the server on
        C{port}: received by its clients and not read by them yet, and sent
        by it and not yet acknowledged (which grows once a client's receive
        window is full).
    """
    received = sent = 0
    mine = f":{port:04X} "
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            if mine not in line:
                continue
            fields = line.split()
            tx, rx = (int(x, 16) for x in fields[4].split(":"))
            if fields[2].endswith(mine.strip()):
                received += rx
            elif fields[1].endswith(mine.strip()):
                sent += tx
    return received, sent


class Unread:
    """
    Samples L{unread} every half second, in a thread, between L{start} and
    L{stop}, or less often when a sample costs more than a twentieth of
    that: the kernel writes a line of C{/proc/net/tcp} for every socket,
    and with 10,000 watchers (20,000 sockets) a sample took 110 ms of CPU,
    a fifth of a core at two a second, taken from the server measured.

    @ivar samples: each sample's unread and unacknowledged bytes.
    """

    #: The most of a core the sampling may take.
    SHARE = 0.05

    def __init__(self, port: int) -> None:
        self.port = port
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        interval = 0.5
        while not self._stop.wait(interval):
            began = time.thread_time()
            self.samples.append(unread(self.port))
            interval = max(0.5, (time.thread_time() - began) / self.SHARE)

    def start(self) -> None:
        """Start sampling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()

    def line(self) -> str:
        """@return: the mean and most bytes left unread by the clients."""
        if not self.samples:
            return "unread by clients: no sample"
        got = [r for r, _ in self.samples]
        sent = [s for _, s in self.samples]
        return (
            f"unread by clients KiB mean {sum(got) / len(got) / 1024:.0f}"
            f" max {max(got) / 1024:.0f}, unacknowledged max {max(sent) / 1024:.0f}"
        )


def processes() -> dict[int, tuple[str, int, float]]:
    """
    @return: every process's name, parent and user and system CPU seconds
        used so far, by process id (those gone while read are left out).
    """
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            found[int(entry.name)] = _stat((entry / "stat").read_text())
        except OSError:
            continue
    return found


def outside(
    root: int, table: Mapping[int, tuple[str, int, float]]
) -> dict[int, tuple[str, float]]:
    """
    @return: the name and CPU seconds of each process in C{table} that
        C{root} did not start (nor any process it started), but for the
        kernel's softirq threads, which run the network's work of whichever
        process sent.
    """
    ours = {root}
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            ours.add(child)
            todo.append(child)
    return {
        pid: (name, seconds)
        for pid, (name, _, seconds) in table.items()
        if pid not in ours and not name.startswith("ksoftirqd/")
    }


def machine_seconds() -> tuple[float, float, float]:
    """
    @return: the CPU seconds every core spent busy, idle, and stolen (its
        virtual machine ready to run while the host ran something else;
        counted as busy too), since boot.
    """
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(t) for t in first]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / _TICKS, idle / _TICKS, ticks[7] / _TICKS


class CPU:
    """
    The CPU each named group of processes used between L{start} and L{stop},
    in cores.
    """

    def __init__(self, groups: Mapping[str, Sequence[int]]) -> None:
        """
        @param groups: per name, the processes counted under it (the client
            processes under one name, each also shown alone).
        """
        self.groups = {name: list(pids) for name, pids in groups.items()}
        self._began: dict[int, tuple[float, float, int]] = {}
        self._machine = (0.0, 0.0, 0.0)
        self._clock = 0.0
        #: Per group, the cores each of its processes used.
        self.used: dict[str, list[float]] = {}
        #: Per group, the cores its processes waited for, together.
        self.waited: dict[str, float] = {}
        #: Per group, how many times a second its processes were preempted.
        self.preempted: dict[str, float] = {}
        #: The whole machine's busy cores, and all its cores.
        self.busy = 0.0
        self.cores = len(os.sched_getaffinity(0))
        #: The cores used by the processes this one did not start, by name
        #: (see L{outside}): load from outside the benchmark.
        self.outside: dict[str, float] = {}
        #: The cores the host did not give this machine when it was ready.
        self.stolen = 0.0
        self._outside: dict[int, tuple[str, float]] = {}

    def start(self) -> None:
        """Take the first sample."""
        self._outside = outside(os.getpid(), processes())
        self._clock = time.monotonic()
        self._machine = machine_seconds()
        self._began = {
            pid: (process_seconds(pid), waited_seconds(pid), preempted(pid))
            for pids in self.groups.values()
            for pid in pids
        }

    def stop(self) -> None:
        """Take the second sample."""
        span = max(time.monotonic() - self._clock, 1e-3)
        busy, _, stolen = machine_seconds()
        self.stolen = (stolen - self._machine[2]) / span
        self.outside = {}
        for pid, (name, seconds) in outside(os.getpid(), processes()).items():
            # One started meanwhile used all it has in the phase.
            _, before = self._outside.get(pid, (name, 0.0))
            if seconds > before:
                used = (seconds - before) / span
                self.outside[name] = self.outside.get(name, 0.0) + used
        self.busy = (busy - self._machine[0]) / span
        self.used = {
            name: [(process_seconds(pid) - self._began[pid][0]) / span for pid in pids]
            for name, pids in self.groups.items()
        }
        self.waited = {
            name: sum(waited_seconds(pid) - self._began[pid][1] for pid in pids) / span
            for name, pids in self.groups.items()
        }
        self.preempted = {
            name: sum(preempted(pid) - self._began[pid][2] for pid in pids) / span
            for name, pids in self.groups.items()
        }

    def line(self) -> str:
        """@return: the cores each group used, and the rest of the machine."""
        parts = []
        ours = 0.0
        for name, each in self.used.items():
            ours += sum(each)
            waited = f" +{self.waited[name]:.2f}"
            if len(each) > 1:
                alone = " ".join(f"{c:.2f}" for c in each)
                parts.append(f"{name} {sum(each):.2f}{waited} ({alone})")
            else:
                parts.append(f"{name} {sum(each):.2f}{waited}")
        others = max(self.busy - ours, 0.0)
        parts.append(f"others {others:.2f}")
        shown = ", ".join(parts)
        busiest = sorted(self.outside.items(), key=lambda item: -item[1])[:3]
        named = " ".join(f"{name} {cores:.2f}" for name, cores in busiest)
        switches = ", ".join(f"{k} {v:.0f}" for k, v in self.preempted.items())
        return (
            f"  cpu used +waited, cores of {self.cores}: {shown}; busy {self.busy:.2f}"
            f"\n  preempted a second: {switches}"
            f"\n  outside the benchmark {self.disturbance:.2f}: {named or 'none'};"
            f" stolen by the host {self.stolen:.2f}"
        )

    @property
    def disturbance(self) -> float:
        """
        @return: the cores that processes outside the benchmark used, and
            the host took.
        """
        return sum(self.outside.values()) + self.stolen


__all__ = [
    "CPU",
    "Unread",
    "machine_seconds",
    "outside",
    "preempted",
    "process_seconds",
    "processes",
    "unread",
    "waited_seconds",
]
