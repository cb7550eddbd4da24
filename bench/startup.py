"""Benchmark 3: ``shipwatch run`` answers ``/readyz`` with 200 in under 1.0 s from spawn.

Each start is on a new database (migrated from nothing), then again on that database
(a restart: the schema is current, nothing to migrate).
"""

from __future__ import annotations

import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import clean_environ, run_as_script

RUNS = 5
POLL = 0.01
GIVE_UP = 30.0  # seconds to wait for readiness before calling a start failed
STOP_WITHIN = 5.0
TARGET_S = 1.0
# Straight to 127.0.0.1: never through an http_proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ready(url: str) -> bool:
    try:
        with OPENER.open(url, timeout=1.0) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def shipwatch() -> str:
    """The ``shipwatch`` script installed next to this Python (``.venv/bin``)."""
    return str(Path(sys.executable).with_name("shipwatch"))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_start(folder: Path) -> tuple[float, int | None, float]:
    """Spawn, poll until ready, SIGTERM; returns (seconds to ready, exit code, seconds to exit)."""
    port = free_port()
    env = clean_environ() | {
        "SHIPWATCH_DATABASE_URL": f"sqlite:///{folder}/shipwatch.db",
        "SHIPWATCH_HTTP_HOST": "127.0.0.1",
        "SHIPWATCH_HTTP_PORT": str(port),
    }
    url = f"http://127.0.0.1:{port}/readyz"
    with open(folder / "shipwatch.log", "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [shipwatch(), "run"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
        )
        try:
            while not ready(url):
                if process.poll() is not None or time.perf_counter() - started > GIVE_UP:
                    output = (folder / "shipwatch.log").read_text(errors="replace")
                    raise RuntimeError(f"shipwatch run never became ready:\n{output}")
                time.sleep(POLL)
            to_ready = time.perf_counter() - started
            process.send_signal(signal.SIGTERM)
            stopping = time.perf_counter()
            try:
                code: int | None = process.wait(timeout=STOP_WITHIN)
            except subprocess.TimeoutExpired:
                code = None
            return to_ready, code, time.perf_counter() - stopping
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def main() -> dict[str, object]:
    times: list[float] = []
    codes: list[int | None] = []
    stops: list[float] = []
    cpu: list[float] = []
    restarts: list[float] = []
    restart_cpu: list[float] = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="shipwatch-bench-") as folder:
            before = children_cpu()
            to_ready, code, stop = one_start(Path(folder))
            cpu.append(children_cpu() - before)
            times.append(to_ready)
            codes.append(code)
            stops.append(stop)
            before = children_cpu()
            to_ready, code, stop = one_start(Path(folder))
            restart_cpu.append(children_cpu() - before)
            restarts.append(to_ready)
            codes.append(code)
            stops.append(stop)
    clean_exits = all(code == 0 for code in codes)
    return {
        "benchmark": "startup",
        "target": f"every start ready < {TARGET_S:g} s; SIGTERM exits 0 within {STOP_WITHIN:g} s",
        "pass": max(times) < TARGET_S and clean_exits,
        "starts": RUNS,
        "ready_min_s": round(min(times), 3),
        "ready_median_s": round(statistics.median(times), 3),
        "ready_max_s": round(max(times), 3),
        "exit_codes": codes,
        "stop_max_s": round(max(stops), 3),
        "cpu_median_s": round(statistics.median(cpu), 3),  # CPU of a whole start-to-exit
        "restart_ready_median_s": round(statistics.median(restarts), 3),
        "restart_ready_max_s": round(max(restarts), 3),
        "restart_cpu_median_s": round(statistics.median(restart_cpu), 3),
    }


if __name__ == "__main__":
    run_as_script(main)
