"""
The live benchmark's measure of the load from outside it
(L{bench.live_cpu.outside}, L{bench.live_cpu.CPU.disturbance}): a phase is
measured again on what it finds, so it must tell the processes the
benchmark started, at any depth, from every other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from bench.live_cpu import CPU, outside, processes


def test_descendants_and_softirq_threads_are_not_outside() -> None:
    """Only what the root did not start, bar ksoftirqd, is outside."""
    table = {
        1: ("init", 0, 5.0),
        10: ("live.py", 1, 1.0),
        11: ("twistd", 10, 2.0),
        12: ("python", 11, 0.5),
        20: ("beam.smp", 1, 3.0),
        21: ("ksoftirqd/0", 2, 0.7),
    }
    assert outside(10, table) == {1: ("init", 5.0), 20: ("beam.smp", 3.0)}


def test_a_busy_stranger_is_counted_and_a_busy_child_is_not() -> None:
    """
    A shell spinning after its parent left (so this process did not start
    it, as far as C{/proc} tells) is counted, by name; a child spinning is
    not.
    """
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    # The shell starts the spinner in the background and leaves at once:
    # the spinner is reparented away from this process.
    started = subprocess.run(
        ["sh", "-c", "sh -c 'while :; do :; done' >/dev/null 2>&1 & echo $!"],
        capture_output=True,
        text=True,
        check=True,
    )
    stranger = int(started.stdout)
    try:
        table = processes()
        assert table[child.pid][1] == os.getpid()
        strangers = outside(os.getpid(), table)
        assert stranger in strangers
        assert child.pid not in strangers
        cpu = CPU({})
        cpu.start()
        time.sleep(1.0)
        cpu.stop()
        # Two cores shared with the child and the other test worker: the
        # spinner gets some of one, whatever the machine's load.
        assert cpu.outside.get("sh", 0.0) > 0.05
        assert cpu.disturbance >= cpu.outside["sh"]
        assert "outside the benchmark" in cpu.line()
    finally:
        os.kill(stranger, signal.SIGKILL)
        child.kill()
        child.wait()
