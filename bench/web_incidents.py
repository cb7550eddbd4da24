"""Benchmark 9: the console's incident list with 10,000 incidents on SQLite (p99 < 100 ms).

A throwaway SQLite database gets INCIDENTS incidents (bulk-inserted: mixed severities,
states, services, opened over the last 90 days). ``shipwatch run``'s HTTP server is
started in this process on loopback, alice signs in the way a person does (``/web`` on
the console, the link's page, its button), and then REQUESTS ``GET /web/incidents``
are sent one at a time from a thread (http.client, keep-alive), each timed from sending to
the whole page read: the middleware's session lookup, the filters, the page's query (the
database pages and counts: LIMIT/OFFSET and COUNT), the template. The requests cycle
through the lists people ask for: every incident (page 1 and a deep page), open ones, one
severity, one service, the last 7 days. The page's size in bytes is reported too.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import Engine, insert

from bench.common import percentile, run_as_script, settings
from bot.adapters.console import ConsoleAdapter
from bot.app import Application, open_database
from bot.clock import WallClock
from bot.config.directory import load
from bot.console import Console
from bot.http import serve
from bot.web.console.incidents import PER_PAGE
from storage.models import IncidentRow

INCIDENTS = 10_000
BATCH = 2_000
REQUESTS = 600
WARMUP = 30
TARGET_P99_MS = 100.0
SERVICES = ("web", "api", "payments", "search", "miniapp")
SEVERITIES = ("P0", "P1", "P2", "P3")
STATES = ("resolved", "closed", "resolved", "open", "acknowledged", "mitigated")
PATHS = (
    "/web/incidents?state=all",
    "/web/incidents",
    "/web/incidents?state=all&sev=P1",
    "/web/incidents?state=all&service=web",
    "/web/incidents?state=all&since=7d",
    f"/web/incidents?state=all&page={INCIDENTS // PER_PAGE // 2}",
)
LINK = re.compile(r"https?://\S+(/web/signin/\S+)")


def fill_incidents(engine: Engine, policy: dict[str, object], rows: int) -> float:
    """Bulk-insert ``rows`` incidents with SQLAlchemy core; returns the seconds it took."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    table = IncidentRow.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        for first in range(0, rows, BATCH):
            batch = []
            for n in range(first, min(first + BATCH, rows)):
                opened = now - timedelta(days=90) + timedelta(seconds=n * 90 * 86400 // rows)
                state = STATES[n % len(STATES)]
                done = state in ("resolved", "closed")
                batch.append(
                    {
                        "title": f"Checkout errors on node {n} after the deploy",
                        "severity": SEVERITIES[n % len(SEVERITIES)],
                        "state": state,
                        "service": SERVICES[n % len(SERVICES)],
                        "channel": "console:#incidents",
                        "policy": policy,
                        "opened_at": opened,
                        "opened_by": "alice",
                        "commander": ("alice", "bob", "carol")[n % 3],
                        "acked_at": opened + timedelta(minutes=5),
                        "resolved_at": opened + timedelta(hours=2) if done else None,
                        "respond_due": opened + timedelta(minutes=15),
                        "resolve_due": opened + timedelta(hours=4),
                        "checklist": {},
                    }
                )
            connection.execute(insert(table), batch)
    return time.perf_counter() - started


def sign_in(port: int, link: str) -> str:
    """Open the link's page, press its button; the session cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", link)
    conn.getresponse().read()
    conn.request("POST", link, body=b"", headers={"Content-Length": "0"})
    answer = conn.getresponse()
    answer.read()
    cookie = answer.getheader("Set-Cookie") or ""
    conn.close()
    if answer.status != 303 or not cookie:
        raise RuntimeError(f"signing in answered {answer.status}")
    return cookie.split(";", 1)[0]


def fetch_all(port: int, cookie: str, count: int) -> tuple[list[float], list[int], int]:
    """``count`` GETs, one at a time on one connection: (ms each, bytes each, not 200)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    timings: list[float] = []
    sizes: list[int] = []
    bad = 0
    for n in range(count):
        path = PATHS[n % len(PATHS)]
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        answer = conn.getresponse()
        body = answer.read()
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(len(body))
        bad += answer.status != 200
    conn.close()
    return timings, sizes, bad


async def measure(folder: str) -> dict[str, object]:
    out = io.StringIO()
    config = settings(f"sqlite:///{folder}/web.db").model_copy(
        update={"action_link_secret": SecretStr("bench-web-console-secret")}
    )
    engine = open_database(config)
    adapter = ConsoleAdapter(out)
    app = Application(
        settings=config,
        config=load(None),
        engine=engine,
        clock=WallClock(),
        adapters={"console": adapter},
    )
    policy = app.config.incidents.policy.for_incident(datetime.now(UTC).date()).to_json()
    fill_seconds = fill_incidents(engine, policy, INCIDENTS)
    await app.start()
    runner, port = await serve(app, host="127.0.0.1", port=0)
    try:
        console = Console(app, adapter, user="alice", channel="#ops", locale="en")
        await console.handle_line("/web")
        found = LINK.search(out.getvalue())
        assert found is not None, "no sign-in link in the reply to /web"
        cookie = await asyncio.to_thread(sign_in, port, found.group(1))
        await asyncio.to_thread(fetch_all, port, cookie, WARMUP)
        cpu = time.process_time()
        timings, sizes, bad = await asyncio.to_thread(fetch_all, port, cookie, REQUESTS)
        cpu_ms = (time.process_time() - cpu) * 1000 / REQUESTS
    finally:
        await runner.cleanup()
        await app.stop()
        engine.dispose()
    p99 = percentile(timings, 99)
    return {
        "benchmark": "web_incidents",
        "target": f"GET /web/incidents p99 < {TARGET_P99_MS:g} ms with {INCIDENTS:,} incidents",
        "pass": p99 < TARGET_P99_MS and bad == 0,
        "incidents": INCIDENTS,
        "fill_s": round(fill_seconds, 2),
        "requests": len(timings),
        "not_200": bad,  # must be 0
        "per_page": PER_PAGE,
        "p50_ms": round(percentile(timings, 50), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(max(timings), 2),
        "cpu_mean_ms": round(cpu_ms, 2),  # the server's work and the client's, one process
        "page_bytes_max": max(sizes),
        "page_bytes_mean": round(sum(sizes) / len(sizes)),
    }


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="shipwatch-bench-") as folder:
        return asyncio.run(measure(folder))


if __name__ == "__main__":
    run_as_script(main)
