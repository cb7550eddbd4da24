"""Benchmark: ``shipwatch console --drill`` shows its banner in under 0.7 s from spawn.

A drill script of one line (``:quit``) is piped in, as CI runs a drill; the time is from
spawning the process to the banner's first line on its output (the drill database made
and migrated, the app started), and the CPU is the whole run's, exit included. Each
version is measured with its bytecode cached, as an installed wheel has it: one start
first that is not counted.

``BENCH_CODE_ROOT`` runs another checkout's code (``python -m bench --baseline`` sets it
for a baseline that has no benchmark of its own).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import clean_environ, run_as_script

RUNS = 7
GIVE_UP = 30.0
TARGET_S = 0.7
BANNER = "Shipwatch console"


def shipwatch() -> str:
    """The ``shipwatch`` script installed next to this Python (``.venv/bin``)."""
    return str(Path(sys.executable).with_name("shipwatch"))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def environment(folder: Path) -> dict[str, str]:
    env = clean_environ()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    code_root = os.environ.get("BENCH_CODE_ROOT")
    if code_root:
        env["PYTHONPATH"] = code_root
    return env


def one_start(folder: Path) -> tuple[float, float, int]:
    """Spawn, read until the banner, let ``:quit`` end it; (to banner, to exit, exit code)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [shipwatch(), "console", "--drill"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment(folder),
        cwd=folder,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write(":quit\n")
        process.stdin.close()
        seen: list[str] = []
        to_banner = None
        for line in process.stdout:
            seen.append(line)
            if BANNER in line:
                to_banner = time.perf_counter() - started
                break
        if to_banner is None:
            raise RuntimeError("the console never showed its banner:\n" + "".join(seen))
        process.stdout.read()
        code = process.wait(timeout=GIVE_UP)
        return to_banner, time.perf_counter() - started, code
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def main() -> dict[str, object]:
    banners: list[float] = []
    exits: list[float] = []
    cpu: list[float] = []
    codes: list[int] = []
    with tempfile.TemporaryDirectory(prefix="shipwatch-bench-") as folder:
        one_start(Path(folder))  # writes the bytecode; not counted
        for _ in range(RUNS):
            before = children_cpu()
            to_banner, to_exit, code = one_start(Path(folder))
            cpu.append(children_cpu() - before)
            banners.append(to_banner)
            exits.append(to_exit)
            codes.append(code)
    return {
        "benchmark": "console_start",
        "target": f"console drill banner < {TARGET_S:g} s (median of {RUNS})",
        "pass": statistics.median(banners) < TARGET_S and all(code == 0 for code in codes),
        "starts": RUNS,
        "banner_min_s": round(min(banners), 3),
        "banner_median_s": round(statistics.median(banners), 3),
        "banner_max_s": round(max(banners), 3),
        "exit_median_s": round(statistics.median(exits), 3),
        "exit_codes": codes,
        "cpu_median_s": round(statistics.median(cpu), 3),  # CPU of a whole start-to-exit
    }


if __name__ == "__main__":
    run_as_script(main)
