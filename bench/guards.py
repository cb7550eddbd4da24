"""Benchmark 4: 200 live releases × 3 guards read every 30 s from a local Prometheus HTTP API.

Targets: under 5% of one core on average, and a sustained breach acted on within one guard
interval + 1 s of the moment it could first have been sustained.

``shipwatch run`` runs as a subprocess on the wall clock, with a config dir of 200 services
whose guards read a fake Prometheus (``GET /api/v1/query``, the real response format)
served by another subprocess, so neither its CPU nor this process's counts against the bot.
The releases are started with real ``/release start`` commands typed into the bot's own
console (``shipwatch run`` opens one when stdin is a terminal; here, a pseudo-terminal),
spread evenly over one guard interval. After one more interval, the bot's CPU time
(``/proc/PID/stat``) is read over a steady window.

Then the last-started service's rollback guard starts breaching right after one of its
samples was answered healthy: the worst phase, since the breach then waits almost a whole
interval to be seen, and the worst place in a round of ticks (last, when they bunch up).
A breach starting at T can have lasted the guard's ``for`` window W at T + W at the
earliest; the bot must have rolled the traffic back by T + W + interval + 1 s.

``BENCH_GUARDS_WINDOW_S`` (default 180) sets the CPU window; ``BENCH_GUARDS_SPREAD_S``
(default 30) the span the 200 starts are typed over (0: as fast as the console takes them,
a few seconds, so the ticks bunch up as they do after a restart).
"""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import termios
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import clean_environ, percentile, run_as_script

RELEASES = 200
INTERVAL_S = 30.0  # every guard's interval
BREACH_SERVICE = f"svc{RELEASES - 1:03d}"  # started last, so it ticks last
BREACH_GUARD = "errors"  # the rollback guard
BREACH_FOR_S = 30.0  # its ``for`` window
BREACH_VALUE = 0.5  # 50% errors against max 5%
TARGET_CPU_PCT = 5.0
TARGET_LATE_S = INTERVAL_S + 1.0
WINDOW_S = float(os.environ.get("BENCH_GUARDS_WINDOW_S", "180"))
SPREAD_S = float(os.environ.get("BENCH_GUARDS_SPREAD_S", str(INTERVAL_S)))
SETTLE_S = 5.0  # after the last start's second tick, before the window opens
READY_WITHIN = 30.0
POLL = 0.1
STOP_WITHIN = 10.0
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
# Straight to 127.0.0.1: never through an http_proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

PLAN = """\
name: bench
description: "guard benchmark: 10% soaking a day, then 100%"
stages:
  - {name: canary, percent: 10%, soak: 1d}
  - {name: full, percent: 100%}
guards:
  - name: errors
    query: >-
      sum(rate(http_requests_total{service="{service}",version="{version}",code=~"5.."}[1m]))
      / sum(rate(http_requests_total{service="{service}",version="{version}"}[1m]))
    max: 5%
    for: 30s
    interval: 30s
    action: rollback
  - name: latency
    query: >-
      histogram_quantile(0.99, sum by (le)
      (rate(http_request_duration_seconds_bucket{service="{service}",version="{version}"}[1m])))
    max: 1
    for: 1m
    interval: 30s
    action: pause
  - name: saturation
    query: max(process_cpu_ratio{service="{service}"})
    max: 0.9
    for: 2m
    interval: 30s
    action: warn
"""

# ------------------------------------------------------------------ the fake Prometheus
# Which guard a query belongs to, by the metric it reads, and what a healthy service shows.
GUARD_BY_METRIC = (
    ("http_requests_total", "errors"),
    ("http_request_duration_seconds", "latency"),
    ("process_cpu_ratio", "saturation"),
)
HEALTHY = {"errors": 0.01, "latency": 0.25, "saturation": 0.4}
SERVICE_LABEL = re.compile(r'service="([^"]*)"')


def serve_fake_prometheus() -> None:
    """``python -m bench.guards --fake-prometheus``: print the port, answer until killed."""
    import asyncio

    from aiohttp import web

    queries = 0
    peers: set[object] = set()  # (host, port) of every connection the bot opened
    samples: dict[str, list[float]] = defaultdict(list)  # "service/guard": evaluation times
    armed: dict[str, Any] | None = None  # breach after the next sample of this key
    flip: dict[str, Any] | None = None  # breaching for evaluation times >= flip["at"]
    breaching: list[dict[str, float]] = []

    def error(kind: str, text: str) -> web.Response:
        body = {"status": "error", "errorType": kind, "error": text}
        return web.json_response(body, status=400)

    async def query(request: web.Request) -> web.Response:
        nonlocal queries, armed, flip
        received = time.time()
        params = request.query if request.method == "GET" else await request.post()
        expr = str(params.get("query", ""))
        try:
            at = float(str(params.get("time", received)))
        except ValueError:
            return error("bad_data", "invalid parameter 'time'")
        service = SERVICE_LABEL.search(expr)
        guard = next((g for metric, g in GUARD_BY_METRIC if metric in expr), None)
        if service is None or guard is None:
            return error("bad_data", f"the fake knows no series for {expr!r}")
        key = f"{service.group(1)}/{guard}"
        queries += 1
        if request.transport is not None:
            peers.add(request.transport.get_extra_info("peername"))
        samples[key].append(at)
        value = HEALTHY[guard]
        if flip is not None and flip["key"] == key and at >= flip["at"]:
            value = flip["value"]
            breaching.append({"at": at, "received": received})
        elif armed is not None and armed["key"] == key:
            # This sample reads healthy; the service goes bad the moment it is answered.
            flip, armed = {**armed, "at": time.time()}, None
        result = [{"metric": {"service": service.group(1)}, "value": [at, repr(value)]}]
        return web.json_response(
            {"status": "success", "data": {"resultType": "vector", "result": result}}
        )

    async def breach(request: web.Request) -> web.Response:
        nonlocal armed
        body = await request.json()
        armed = {"key": f"{body['service']}/{body['guard']}", "value": float(body["value"])}
        return web.json_response({"armed": armed})

    async def count(request: web.Request) -> web.Response:
        return web.json_response({"queries": queries, "connections": len(peers), "at": time.time()})

    async def stats(request: web.Request) -> web.Response:
        body = {"queries": queries, "samples": samples, "flip": flip, "breaching": breaching}
        return web.json_response(body)

    async def main() -> None:
        app = web.Application()
        app.add_routes(
            [
                web.get("/api/v1/query", query),
                web.post("/api/v1/query", query),
                web.post("/control/breach", breach),
                web.get("/control/count", count),
                web.get("/control/stats", stats),
            ]
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# ------------------------------------------------------------------ helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_json(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    with OPENER.open(request, timeout=10.0) as response:
        return json.loads(response.read())


def ready(url: str) -> bool:
    try:
        with OPENER.open(url, timeout=1.0) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def commands_counted(metrics_url: str) -> dict[tuple[str, str], float]:
    """``shipwatch_commands_total`` from the bot's /metrics, by (command, outcome)."""
    with OPENER.open(metrics_url, timeout=10.0) as response:
        text = response.read().decode()
    counted = {}
    pattern = re.compile(r'^shipwatch_commands_total\{command="([^"]*)",outcome="([^"]*)"\} (\S+)')
    for line in text.splitlines():
        if found := pattern.match(line):
            counted[(found.group(1), found.group(2))] = float(found.group(3))
    return counted


def cpu_seconds(pid: int) -> float:
    """User + system CPU of every thread of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK  # utime, stime


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set of ``pid`` in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def epoch(stored: str | None) -> float | None:
    """A timestamp as the bot stores it in SQLite (naive UTC text) in seconds since 1970."""
    if stored is None:
        return None
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).timestamp()


def read_db(path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """A read-only query: the bot's WAL database lets readers and its writer overlap."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def write_config(folder: Path, prometheus: str) -> Path:
    config = folder / "config"
    (config / "plans").mkdir(parents=True)
    (config / "plans" / "bench.yaml").write_text(PLAN)
    lines = ["services:"]
    for n in range(RELEASES):
        lines += [
            f"  svc{n:03d}:",
            "    plan: bench",
            '    release_channel: "#releases"',
            "    traffic: {backend: simulated}",
            f"    metrics: {{source: prometheus, url: {json.dumps(prometheus)}}}",
        ]
    (config / "services.yaml").write_text("\n".join(lines) + "\n")
    return config  # people.yaml and roles.yaml: the shipped ones (alice is a release manager)


def gaps(samples: dict[str, list[float]], start: float, end: float) -> list[float]:
    """Seconds between consecutive samples of each guard, both inside [start, end]."""
    found = []
    for times in samples.values():
        inside = sorted(t for t in times if start <= t <= end)
        found += [b - a for a, b in itertools.pairwise(inside)]
    return found


# ------------------------------------------------------------------ the run


class Run:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "shipwatch.db"
        self.fake: subprocess.Popen[str] | None = None
        self.bot: subprocess.Popen[bytes] | None = None
        self.console: int | None = None  # the pseudo-terminal's master end: we type here
        self.figures: dict[str, Any] = {}
        self.window = (0.0, 0.0)  # when the CPU window opened and closed (epoch seconds)
        self.samples: dict[str, list[float]] = {}  # "service/guard": when the fake was read

    def start_fake(self) -> str:
        self.fake = subprocess.Popen(
            [sys.executable, "-m", "bench.guards", "--fake-prometheus"],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self.fake.stdout is not None
        port = self.fake.stdout.readline().strip()
        if not port:
            raise RuntimeError("the fake Prometheus did not start")
        return f"http://127.0.0.1:{port}"

    def start_bot(self, config: Path) -> tuple[int, str]:
        port = free_port()
        env = clean_environ() | {
            "SHIPWATCH_DATABASE_URL": f"sqlite:///{self.db}",
            "SHIPWATCH_CONFIG_DIR": str(config),
            "SHIPWATCH_HTTP_HOST": "127.0.0.1",
            "SHIPWATCH_HTTP_PORT": str(port),
        }
        master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO  # nobody reads the echo of what we type
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        with open(self.folder / "shipwatch.log", "wb") as log:
            self.bot = subprocess.Popen(
                [str(Path(sys.executable).with_name("shipwatch")), "run"],
                stdin=slave,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.folder,
            )
        os.close(slave)
        self.console = master
        base = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        while not ready(f"{base}/readyz"):
            if self.bot.poll() is not None or time.monotonic() - started > READY_WITHIN:
                raise RuntimeError(f"shipwatch run never became ready:\n{self.log_tail()}")
            time.sleep(POLL)
        return self.bot.pid, base

    def log_tail(self) -> str:
        return (self.folder / "shipwatch.log").read_text(errors="replace")[-3000:]

    def say(self, line: str) -> None:
        assert self.console is not None
        os.write(self.console, (line + "\n").encode())

    def start_releases(self) -> float:
        """Type the 200 starts, spread over SPREAD_S; returns when all are in their stage."""
        began = time.monotonic()
        for n in range(RELEASES):
            time.sleep(max(0.0, began + SPREAD_S * n / RELEASES - time.monotonic()))
            self.say(f"/release start svc{n:03d} 1.0.0")
        deadline = time.monotonic() + 60.0
        while True:
            live = read_db(self.db, "SELECT count(*) FROM releases WHERE state = 'in_stage'")
            if live[0][0] == RELEASES:
                return time.time()
            if time.monotonic() > deadline or self.bot is None or self.bot.poll() is not None:
                raise RuntimeError(
                    f"only {live[0][0]} of {RELEASES} releases started:\n{self.log_tail()}"
                )
            time.sleep(0.5)

    def steady(self, pid: int, base: str, fake: str) -> None:
        before = commands_counted(f"{base}/metrics")
        asked = http_json(f"{fake}/control/count")
        opened, cpu0 = time.time(), cpu_seconds(pid)
        marks, slices = opened, []
        cpu = cpu0
        while marks < opened + WINDOW_S - 0.01:
            step = min(INTERVAL_S, opened + WINDOW_S - marks)
            time.sleep(max(0.0, marks + step - time.time()))
            now, used = time.time(), cpu_seconds(pid)
            slices.append(100 * (used - cpu) / (now - marks))
            marks, cpu = now, used
        closed, cpu1 = marks, cpu
        answered = http_json(f"{fake}/control/count")
        after = commands_counted(f"{base}/metrics")
        # A release tick that read its guards ends in one judged reading.
        readings = ("observe:release.readings", "ok")
        ticks = after.get(readings, 0) - before.get(readings, 0)
        span = closed - opened
        self.figures.update(
            window_s=round(span, 1),
            cpu_mean_pct=round(100 * (cpu1 - cpu0) / span, 2),
            cpu_max_30s_pct=round(max(slices), 2),
            cpu_s=round(cpu1 - cpu0, 2),
            ticks_per_s=round(ticks / span, 2),
            cpu_ms_per_tick=round(1000 * (cpu1 - cpu0) / ticks, 2) if ticks else None,
            queries_per_s=round(
                (answered["queries"] - asked["queries"]) / (answered["at"] - asked["at"]), 2
            ),
            expected_q_per_s=round(RELEASES * 3 / INTERVAL_S, 2),
            # New TCP connections to the fake in the window; keep-alive should make it ~0.
            connections_made=answered["connections"] - asked["connections"],
        )
        self.window = (opened, closed)

    def breach(self, fake: str) -> None:
        """Breach one rollback guard right after a healthy sample; time the rollback."""
        (release_id,) = read_db(
            self.db, "SELECT id FROM releases WHERE service = ?", BREACH_SERVICE
        )[0]
        http_json(
            f"{fake}/control/breach",
            {"service": BREACH_SERVICE, "guard": BREACH_GUARD, "value": BREACH_VALUE},
        )
        deadline = time.time() + 3 * INTERVAL_S + BREACH_FOR_S + 10
        decided = sent = None
        while time.time() < deadline and (decided is None or sent is None):
            time.sleep(POLL)
            events = read_db(
                self.db,
                "SELECT at FROM release_events WHERE release_id = ? AND move = 'rollback'",
                release_id,
            )
            decided = epoch(events[0][0]) if events else None
            for message, sent_at in read_db(
                self.db,
                "SELECT message, sent_at FROM outbox WHERE platform = 'traffic' AND address = ?"
                " AND state = 'sent'",
                BREACH_SERVICE,
            ):
                if json.loads(message).get("rollback"):
                    sent = epoch(sent_at)
        stats = http_json(f"{fake}/control/stats")
        flip, bad = stats["flip"], stats["breaching"]
        state = read_db(self.db, "SELECT state FROM releases WHERE id = ?", release_id)[0][0]
        self.samples = stats["samples"]
        if flip is None or not bad or decided is None or sent is None:
            self.figures.update(
                breach_state=state,
                breach_error=f"no rollback delivered in time (flip={flip}, "
                f"breaching samples={len(bad)}, decided={decided}, sent={sent})",
            )
            return
        flipped = flip["at"]
        first_bad = bad[0]["at"]  # the evaluation time of the first breaching sample
        acted = sent  # the traffic rollback delivered to the backend: the act itself
        # T: the breach starts; W: the guard's for. From T + W the breach has lasted W.
        self.figures.update(
            breach_state=state,
            breach_service=BREACH_SERVICE,
            breach_for_s=BREACH_FOR_S,
            bad_samples=len([b for b in bad if b["at"] <= acted]),  # read before the act
            T_to_1st_bad_s=round(first_bad - flipped, 3),  # its evaluation time
            T_to_decision_s=round(decided - flipped, 3),  # the rollback committed
            T_to_act_s=round(acted - flipped, 3),  # the traffic rollback delivered
            act_after_T_W_s=round(acted - (flipped + BREACH_FOR_S), 3),  # the target's figure
            # Lateness against what the bot could know: its first bad sample, plus W.
            act_after_bad_W_s=round(acted - (first_bad + BREACH_FOR_S), 3),
            decision_to_act_ms=round(1000 * (acted - decided), 1),
        )

    def sample_gaps(self) -> None:
        found = gaps(self.samples, *self.window)
        if found:
            self.figures.update(
                sample_gap_p50_s=round(statistics.median(found), 3),
                sample_gap_p99_s=round(percentile(found, 99), 3),
                sample_gap_max_s=round(max(found), 3),
            )

    def stop(self) -> None:
        if self.bot is not None and self.bot.poll() is None:
            self.bot.send_signal(signal.SIGTERM)
            try:
                self.figures["exit_code"] = self.bot.wait(timeout=STOP_WITHIN)
            except subprocess.TimeoutExpired:
                self.figures["exit_code"] = None
                self.bot.kill()
                self.bot.wait()
        if self.console is not None:
            os.close(self.console)
            self.console = None
        if self.fake is not None and self.fake.poll() is None:
            self.fake.terminate()
            try:
                self.fake.wait(timeout=STOP_WITHIN)
            except subprocess.TimeoutExpired:
                self.fake.kill()
                self.fake.wait()


def measure(folder: Path) -> dict[str, object]:
    run = Run(folder)
    try:
        fake = run.start_fake()
        config = write_config(folder, fake)
        pid, base = run.start_bot(config)
        started_all = run.start_releases()
        time.sleep(max(0.0, started_all + INTERVAL_S + SETTLE_S - time.time()))
        run.steady(pid, base, fake)
        run.breach(fake)
        run.sample_gaps()
        counted = commands_counted(f"{base}/metrics")
        rss, peak = rss_mb(pid)
        run.figures.update(
            not_ok=int(sum(n for (_, outcome), n in counted.items() if outcome != "ok")),
            rss_mb=round(rss, 1),
            rss_peak_mb=round(peak, 1),
        )
    finally:
        run.stop()
    figures = run.figures
    cpu_ok = figures.get("cpu_mean_pct", float("inf")) < TARGET_CPU_PCT
    late = figures.get("act_after_T_W_s")
    rolled_back = figures.get("breach_state") == "rolled_back"
    breach_ok = rolled_back and late is not None and late <= TARGET_LATE_S
    return {
        "benchmark": "guards",
        "target": f"CPU < {TARGET_CPU_PCT:g}% of a core (mean); breach acted on <= "
        f"{TARGET_LATE_S:g} s after T + for",
        "pass": cpu_ok and breach_ok and figures.get("not_ok") == 0,
        "releases": RELEASES,
        "guards": RELEASES * 3,
        "spread_s": SPREAD_S,
        **figures,
        "load_avg": " ".join(f"{n:.2f}" for n in os.getloadavg()),
    }


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="shipwatch-bench-") as folder:
        return measure(Path(folder))


if __name__ == "__main__":
    if sys.argv[1:] == ["--fake-prometheus"]:
        serve_fake_prometheus()
    else:
        run_as_script(main)
