"""Benchmark 5: Alertmanager notifications into ``POST /hooks/alertmanager`` on SQLite.

Targets: at least 3,000 requests/s sustained with p99 < 50 ms, the notifications mostly
repeats of groups already open; and alert-to-first-message p99 < 100 ms for notifications
that open an incident while that load runs.

``shipwatch run`` runs as a subprocess (stdin not a terminal: HTTP and the console adapter's
delivery, no console) on a throwaway SQLite database. First GROUPS groups are opened, one
POST each in turn. Then wrk (loopback, ``-t THREADS -c CONNECTIONS``, closed loop) replays
those GROUPS bodies unchanged, as Alertmanager repeats a group every ``repeat_interval``
(answered ``{"status": "duplicate"}`` from the idempotency ledger), except one request in
NEW_EVERY, which is a group never seen before (its own alertname and ``service`` label, so
storm folding leaves it alone) and opens an incident. A warm-up run of WARMUP_S comes first.

While the measured wrk run is going, this process sends PROBES more new groups, one at a
time, and times each from sending to the whole answer read. An incident's opening posts
are outbox rows committed in the transaction that opens it, before the answer is written,
so that time bounds alert -> first message committed from above. After the bot has stopped
the database is read: every group has its incident, and every incident its
``incident.opened`` post in the outbox.

The same wrk run (same script, settings and path) then measures a bare aiohttp app in its
own process that reads the body and answers ``{"status": "ok"}``: the ceiling this machine
and aiohttp allow, to which our rate is compared.

``BENCH_INCIDENTS_DURATION_S`` (default 15) sets the measured runs' length;
``BENCH_INCIDENTS_NEW_EVERY`` (default 100) makes one wrk request in that many a new group
(0: wrk sends repeats only, and only the probes open groups);
``BENCH_INCIDENTS_PACE_MS`` (default 0) makes each connection wait that long before each
request: an offered load of about CONNECTIONS / pace whatever the bot's speed, so that
two versions' latency tails are compared at the same load (closed, the faster version
is also sent more new groups a second);
``BENCH_INCIDENTS_DATABASE=postgresql`` runs the bot on a new database on the PostgreSQL
server of ``SHIPWATCH_TEST_POSTGRES_URL`` (dropped afterwards) instead of SQLite.

Targets: at least 5,000 requests/s on SQLite (3,000 on PostgreSQL) with p99 < 50 ms and at
least 40% of the bare handler's rate in the same run; with repeats only, at least 70% of
it; alert to first message p99 < 100 ms throughout.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import clean_environ, new_postgres_database, percentile, run_as_script
from bench.guards import commands_counted, cpu_seconds, free_port, ready, rss_mb
from storage.engine import normalise_url

GROUPS = 200  # open before the load; wrk repeats them
NEW_EVERY = int(os.environ.get("BENCH_INCIDENTS_NEW_EVERY", "100"))  # 1 in 100 (1%); 0: none
PROBES = 200  # new groups timed one by one during the measured run
THREADS = 2
CONNECTIONS = 32
DURATION_S = float(os.environ.get("BENCH_INCIDENTS_DURATION_S", "15"))
WARMUP_S = 3.0
PROBE_AFTER_S = 1.0  # into the measured run before the first probe
PROBE_SPAN_S = max(1.0, DURATION_S - PROBE_AFTER_S - 3.0)  # the probes end before wrk does
DATABASE = os.environ.get("BENCH_INCIDENTS_DATABASE", "sqlite")  # or postgresql
# Each connection waits this long before each request (0: none, a closed loop as fast as
# the bot answers): the same offered load for two versions, to compare their tails.
PACE_MS = int(os.environ.get("BENCH_INCIDENTS_PACE_MS", "0"))
POSTGRES = normalise_url(
    os.environ.get("SHIPWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
)
TARGET_RPS = 3000.0 if DATABASE == "postgresql" else 5000.0
TARGET_P99_MS = 50.0
# The share of the bare aiohttp handler's rate in the same run: repeats alone, or the mix.
TARGET_OF_BARE = 0.7 if NEW_EVERY == 0 else 0.4
TARGET_OUTBOX_P99_MS = 100.0
TOKEN = "bench-alertmanager-token"
PATH = "/hooks/alertmanager"
READY_WITHIN = 30.0
POLL = 0.05
STOP_WITHIN = 10.0
ROOT = Path(__file__).resolve().parent.parent
NEW_PCT = 100 / NEW_EVERY if NEW_EVERY > 0 else 0.0
TARGET = (
    f">= {TARGET_RPS:g} req/s and >= {TARGET_OF_BARE:.0%} of bare aiohttp, p99 < "
    f"{TARGET_P99_MS:g} ms on {DATABASE} ({100 - NEW_PCT:g}% repeats, {NEW_PCT:g}% new groups); "
    f"alert->outbox p99 < {TARGET_OUTBOX_P99_MS:g} ms; no errors"
)

# ------------------------------------------------------------------ Alertmanager's bodies
# The webhook JSON (version 4) as Alertmanager posts it, one alert per notification:
# https://prometheus.io/docs/alerting/latest/configuration/#webhook_config


def alert(alertname: str, service: str, fingerprint: str | None = None) -> dict[str, Any]:
    labels = {"alertname": alertname, "service": service, "severity": "warning"}
    if fingerprint is None:
        fingerprint = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {
            "summary": f"{alertname} on {service}",
            "description": f"{alertname} has been firing for 5 minutes.",
        },
        "startsAt": "2026-11-23T01:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": fingerprint,
    }


def notification(one: dict[str, Any]) -> dict[str, Any]:
    """The body for a group of this one alert, grouped by alertname and service."""
    labels = one["labels"]
    group_labels = {"alertname": labels["alertname"], "service": labels["service"]}
    matchers = ", ".join(f'{k}="{v}"' for k, v in sorted(group_labels.items()))
    return {
        "version": "4",
        "groupKey": "{}:{" + matchers + "}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "shipwatch",
        "groupLabels": group_labels,
        "commonLabels": dict(labels),
        "commonAnnotations": dict(one["annotations"]),
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [one],
    }


def body(alertname: str, service: str, fingerprint: str | None = None) -> str:
    return json.dumps(notification(alert(alertname, service, fingerprint)), separators=(",", ":"))


def repeat_body(n: int) -> str:
    return body(f"Bench{n}", f"svc{n}")


def probe_body(n: int) -> str:
    return body(f"Probe{n}", f"probe{n}")


# ------------------------------------------------------------------ wrk and its script

LUA = """\
-- Written by bench/incidents.py: repeats of open groups, and one new group in NEW_EVERY.
local path = "@PATH@"
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer @TOKEN@"}
local new_every = @NEW_EVERY@
local bodies = {
@BODIES@
}
local template = @TEMPLATE@
local pace = @PACE@
if pace > 0 then
  function delay()
    return pace
  end
end

local threads = {}
local next_tid = 1
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function init(args)
  tag = args[1] or "run"
  sent = 0
  made = 0
  prepared = {}
  for i, b in ipairs(bodies) do
    prepared[i] = wrk.format("POST", path, headers, b)
  end
end

function request()
  sent = sent + 1
  if new_every > 0 and sent % new_every == 0 then
    made = made + 1
    local id = tag .. "-t" .. tid .. "-" .. made
    local b = template:gsub("@ID@", id)
    b = b:gsub("@FP@", string.format("%08x%08x", tid, made))
    return wrk.format("POST", path, headers, b)
  end
  return prepared[sent % #prepared + 1]
end

function done(summary, latency, requests)
  local all_sent, all_made = 0, 0
  for _, t in ipairs(threads) do
    all_sent = all_sent + t:get("sent")
    all_made = all_made + t:get("made")
  end
  io.write(string.format("bench: %d requests written, %d new groups\\n", all_sent, all_made))
end
"""


def lua_string(text: str) -> str:
    """``text`` as a Lua long string, whatever brackets it holds."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def write_script(folder: Path) -> Path:
    template = body("BenchNew-@ID@", "new-@ID@", "@FP@")
    bodies = ",\n".join(f"  {lua_string(repeat_body(n))}" for n in range(GROUPS))
    script = (
        LUA.replace("@PATH@", PATH)
        .replace("@TOKEN@", TOKEN)
        .replace("@NEW_EVERY@", str(NEW_EVERY))
        .replace("@PACE@", str(PACE_MS))
        .replace("@TEMPLATE@", lua_string(template))
        .replace("@BODIES@", bodies)
    )
    path = folder / "alertmanager.lua"
    path.write_text(script)
    return path


def find_wrk() -> str:
    """wrk from PATH; installed with apt-get when missing and this process is root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    print("wrk missing: apt-get install -y wrk", file=sys.stderr)
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"apt-get install wrk failed: {done.stderr.strip()[-300:]}")
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not on PATH after apt-get install wrk")
    return found


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if found is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(found.group(1)) * UNITS_MS[found.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """The figures of ``wrk --latency`` and of the script's ``done``."""

    def number(pattern: str, default: float | None = None) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            if default is None:
                raise ValueError(f"wrk printed no {pattern!r}:\n{output}")
            return default
        return float(found.group(1))

    latency = {
        p: ms(found.group(1))
        for p in ("50", "75", "90", "99")
        if (found := re.search(rf"^\s+{p}%\s+(\S+)\s*$", output, re.MULTILINE))
    }
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": number(r"^Requests/sec:\s+([\d.]+)"),
        "requests": int(number(r"^\s+(\d+) requests in")),
        "seconds": number(r"requests in ([\d.]+)s"),
        "p50_ms": latency.get("50"),
        "p90_ms": latency.get("90"),
        "p99_ms": latency.get("99"),
        "max_ms": ms(m.group(1))
        if (m := re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output))
        else None,
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)", 0)),
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "written": int(number(r"bench: (\d+) requests written", 0)),
        "new_groups": int(number(r"bench: \d+ requests written, (\d+) new groups", 0)),
    }


def run_wrk(wrk: str, script: Path, url: str, seconds: float, tag: str) -> dict[str, Any]:
    command = [
        wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        tag,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited {done.returncode}: {done.stderr.strip()}")
    return parse_wrk(done.stdout)


# ------------------------------------------------------------------ the bare server


def serve_bare() -> None:
    """``python -m bench.incidents --bare``: print the port, answer until killed."""
    import asyncio

    from aiohttp import web

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "ok"})

    async def main() -> None:
        app = web.Application()
        app.add_routes([web.post(PATH, hook)])
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


@contextmanager
def bare_server() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.incidents", "--bare"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port:
            raise RuntimeError("the bare aiohttp server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ------------------------------------------------------------------ the bot


class Client:
    """One keep-alive connection posting notifications, as Alertmanager's would."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10.0)
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

    def post(self, data: str) -> tuple[int, dict[str, Any], float]:
        """(status, answer, seconds from sending to the whole answer read)."""
        started = time.perf_counter()
        self.connection.request("POST", PATH, body=data.encode(), headers=self.headers)
        response = self.connection.getresponse()
        raw = response.read()
        took = time.perf_counter() - started
        return response.status, json.loads(raw), took

    def close(self) -> None:
        self.connection.close()


class Bot:
    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.log = folder / "shipwatch.log"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    def start(self) -> int:
        code = os.environ.get("BENCH_CODE_ROOT")  # another checkout's code (--baseline)
        env = (
            clean_environ()
            | ({"PYTHONPATH": code} if code else {})
            | {
                "SHIPWATCH_DATABASE_URL": self.database_url,
                "SHIPWATCH_HTTP_HOST": "127.0.0.1",
                "SHIPWATCH_HTTP_PORT": str(self.port),
                "SHIPWATCH_ALERTMANAGER_TOKEN": TOKEN,
                "SHIPWATCH_LOG_LEVEL": "WARNING",
            }
        )
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("shipwatch")), "run"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.folder,
            )
        started = time.monotonic()
        while not ready(f"{self.base}/readyz"):
            if self.process.poll() is not None or time.monotonic() - started > READY_WITHIN:
                raise RuntimeError(f"shipwatch run never became ready:\n{self.log_tail()}")
            time.sleep(POLL)
        return self.process.pid

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def open_groups(port: int) -> list[int]:
    """Open the GROUPS groups wrk will repeat, one after the other; their incident ids."""
    client = Client(port)
    try:
        opened = []
        for n in range(GROUPS):
            status, answer, _ = client.post(repeat_body(n))
            if status != 200 or answer.get("action") != "opened":
                raise RuntimeError(f"group {n} was not opened: {status} {answer}")
            opened.append(int(answer["incident"]))
        return opened
    finally:
        client.close()


class Probe(threading.Thread):
    """PROBES new groups, one at a time, spread over PROBE_SPAN_S; each answer timed."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.seconds: list[float] = []
        self.incidents: dict[int, int] = {}  # probe number: the incident it opened
        self.failures: list[str] = []
        self.ended = 0.0  # time.monotonic() of the last answer

    def run(self) -> None:
        client = Client(self.port)
        try:
            time.sleep(PROBE_AFTER_S)
            began = time.monotonic()
            for n in range(PROBES):
                time.sleep(max(0.0, began + PROBE_SPAN_S * n / PROBES - time.monotonic()))
                try:
                    status, answer, took = client.post(probe_body(n))
                except (OSError, http.client.HTTPException, ValueError) as error:
                    self.failures.append(f"probe {n}: {error!r}")
                    client.close()
                    client = Client(self.port)
                    continue
                if status != 200 or answer.get("action") != "opened":
                    self.failures.append(f"probe {n}: {status} {answer}")
                    continue
                self.seconds.append(took)
                self.incidents[n] = int(answer["incident"])
            self.ended = time.monotonic()
        finally:
            client.close()


def verify(database_url: str, probes: dict[int, int]) -> dict[str, Any]:
    """Read the stopped bot's database: every group fed its own incident, and every
    incident has its ``incident.opened`` post in the outbox."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            incidents = dict(connection.execute(text("SELECT id, service FROM incidents")).all())
            groups = connection.execute(text("SELECT service, incident_id FROM alert_groups")).all()
            outbox = connection.execute(text("SELECT kind, state, message FROM outbox")).all()
    finally:
        engine.dispose()
    posts: dict[int, int] = {}
    states: dict[str, int] = {}
    for kind, state, message in outbox:
        states[state] = states.get(state, 0) + 1
        if kind != "post":
            continue
        blocks = (json.loads(message) if isinstance(message, str) else message).get("blocks", [])
        for block in blocks:
            if block.get("key") == "incident.opened":
                opened = int(block["params"]["id"])
                posts[opened] = posts.get(opened, 0) + 1
    by_service = dict(groups)
    probe_misses = [
        n
        for n, incident in probes.items()
        if incidents.get(incident) != f"probe{n}"
        or by_service.get(f"probe{n}") != incident
        or not posts.get(incident)
    ]
    shared = len(groups) - len({incident for _, incident in groups})
    return {
        "db_incidents": len(incidents),
        "db_groups": len(groups),
        "db_groups_sharing_incident": shared,  # storm folding; 0 expected here
        "db_incidents_without_post": sum(1 for i in incidents if not posts.get(i)),
        "db_new_groups_from_wrk": sum(1 for s, _ in groups if s and s.startswith("new-")),
        "db_outbox_states": states,
        "db_probe_misses": probe_misses,
    }


# ------------------------------------------------------------------ the run


@contextmanager
def database(folder: Path) -> Iterator[str]:
    """The bot's database: a file in ``folder``, or a new database on the PostgreSQL
    server, dropped afterwards."""
    if DATABASE != "postgresql":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    with new_postgres_database(POSTGRES) as url:
        yield url


def measure(folder: Path, wrk: str, database_url: str) -> dict[str, Any]:
    script = write_script(folder)
    figures: dict[str, Any] = {}
    bot = Bot(folder, database_url)
    try:
        pid = bot.start()
        setup_began, setup_cpu = time.perf_counter(), cpu_seconds(pid)
        opened = open_groups(bot.port)
        # One at a time with nothing else going on: what opening an incident costs the bot
        # (its delivery of the opening post to the console included).
        figures["setup_open_ms_mean"] = round(
            1000 * (time.perf_counter() - setup_began) / len(opened), 2
        )
        figures["setup_cpu_ms_per_open"] = round(
            1000 * (cpu_seconds(pid) - setup_cpu) / len(opened), 2
        )
        url = f"{bot.base}{PATH}"
        warm = run_wrk(wrk, script, url, WARMUP_S, "warm")
        probe = Probe(bot.port)
        cpu0, began = cpu_seconds(pid), time.monotonic()
        probe.start()
        ours = run_wrk(wrk, script, url, DURATION_S, "main")
        wrk_ended = time.monotonic()
        cpu1, span = cpu_seconds(pid), time.monotonic() - began
        probe.join(timeout=60.0)
        counted = commands_counted(f"{bot.base}/metrics")
        rss, peak = rss_mb(pid)
    finally:
        bot.stop()
    if bot.exit_code != 0:
        print(f"shipwatch run exited {bot.exit_code}:\n{bot.log_tail()}", file=sys.stderr)
    checked = verify(database_url, probe.incidents)
    with bare_server() as bare_base:
        run_wrk(wrk, script, f"{bare_base}{PATH}", WARMUP_S, "warm")
        bare = run_wrk(wrk, script, f"{bare_base}{PATH}", DURATION_S, "main")

    outcomes: dict[str, float] = {}
    for (_, outcome), n in counted.items():
        outcomes[outcome] = outcomes.get(outcome, 0) + n
    late_probes = probe.ended > wrk_ended
    latencies = probe.seconds
    figures.update(
        mix=f"wrk: {GROUPS} open groups repeated, {NEW_PCT:g}% of requests a new group, "
        f"-t{THREADS} -c{CONNECTIONS} -d{DURATION_S:g}s after a {WARMUP_S:g} s warm-up"
        f"{f', each connection pausing {PACE_MS} ms before each request' if PACE_MS else ''}; "
        f"plus {PROBES} new groups one at a time over {PROBE_SPAN_S:g} s (the probes)",
        rps=round(ours["rps"], 1),
        p50_ms=ours["p50_ms"],
        p90_ms=ours["p90_ms"],
        p99_ms=ours["p99_ms"],
        max_ms=ours["max_ms"],
        requests=ours["requests"],
        new_groups_wrk=ours["new_groups"],
        non_2xx=ours["non_2xx"] + warm["non_2xx"],
        socket_errors=ours["socket_errors"] + warm["socket_errors"],
        bare_rps=round(bare["rps"], 1),
        bare_p50_ms=bare["p50_ms"],
        bare_p99_ms=bare["p99_ms"],
        bare_non_2xx=bare["non_2xx"],
        fraction_of_bare=round(ours["rps"] / bare["rps"], 3) if bare["rps"] else None,
        probes=len(latencies),
        probe_failures=probe.failures[:5],
        probes_outlasted_wrk=late_probes,
        alert_to_outbox_p50_ms=round(1000 * statistics.median(latencies), 2) if latencies else None,
        alert_to_outbox_p99_ms=round(1000 * percentile(latencies, 99), 2) if latencies else None,
        alert_to_outbox_max_ms=round(1000 * max(latencies), 2) if latencies else None,
        bot_outcomes={k: int(v) for k, v in sorted(outcomes.items())},
        cpu_s=round(cpu1 - cpu0, 2),
        cpu_pct_of_core=round(100 * (cpu1 - cpu0) / span, 1),
        cpu_ms_per_request=round(1000 * (cpu1 - cpu0) / ours["requests"], 3)
        if ours["requests"]
        else None,
        rss_mb=round(rss, 1),
        rss_peak_mb=round(peak, 1),
        exit_code=bot.exit_code,
        **checked,
    )
    expected_incidents = GROUPS + len(probe.incidents) + checked["db_new_groups_from_wrk"]
    figures["db_ok"] = (
        checked["db_incidents"] == expected_incidents
        and checked["db_groups"] == expected_incidents
        and checked["db_groups_sharing_incident"] == 0
        and checked["db_incidents_without_post"] == 0
        and not checked["db_probe_misses"]
        # wrk counts a request when it makes it: one on the wire as a run stops may
        # have been counted but never read; at most one per connection and run
        and 0
        <= warm["new_groups"] + ours["new_groups"] - checked["db_new_groups_from_wrk"]
        <= 2 * CONNECTIONS
    )
    return figures


def main() -> dict[str, object]:
    try:
        wrk = find_wrk()
    except RuntimeError as error:
        return {"benchmark": "incidents", "target": TARGET, "pass": False, "error": str(error)}
    with (
        tempfile.TemporaryDirectory(prefix="shipwatch-bench-") as folder,
        database(Path(folder)) as database_url,
    ):
        figures = measure(Path(folder), wrk, database_url)
    throughput_ok = (
        figures["rps"] >= TARGET_RPS
        and (figures["fraction_of_bare"] or 0) >= TARGET_OF_BARE
        and figures["p99_ms"] is not None
        and figures["p99_ms"] < TARGET_P99_MS
    )
    outbox_p99 = figures["alert_to_outbox_p99_ms"]
    outbox_ok = (
        outbox_p99 is not None
        and outbox_p99 < TARGET_OUTBOX_P99_MS
        and figures["probes"] == PROBES
        and not figures["probes_outlasted_wrk"]
    )
    clean = (
        figures["non_2xx"] == 0
        and figures["socket_errors"] == 0
        and figures["db_ok"]
        and figures["bot_outcomes"].keys() <= {"ok", "duplicate"}
    )
    return {
        "benchmark": "incidents",
        "database": DATABASE,
        "target": TARGET,
        "pass": throughput_ok and outbox_ok and clean,
        **figures,
        "load_avg": " ".join(f"{n:.2f}" for n in os.getloadavg()),
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["--bare"]:
        serve_bare()
    else:
        run_as_script(main)
