"""Benchmark 7: kill -9 one of two ``shipwatch run`` replicas on PostgreSQL; how soon the
survivor holds its duties, and how late a timer the dead one armed fires.

Each round starts replica A (with its console on a pseudo-terminal, so we can type to it)
and then replica B on one fresh database, so A holds the guard-tick duty. ``/remind 4s``
is typed into A; once the timer row is committed A is killed with SIGKILL. Then B's
``/readyz`` is read every 50 ms until it names the duty (the takeover), and B's output is
read until the reminder is posted (its lateness against the row's ``due_at``). The kill
lands at a random point of A's 2 s renewal beat, so takeovers spread over TTL ± RENEW.

Targets: every takeover within 10 s; every timer posted within 1 s of its due time.
``BENCH_TAKEOVER_ROUNDS`` (default 5) sets the rounds; ``SHIPWATCH_TEST_POSTGRES_URL``
the server (default the local one, user postgres).
"""

from __future__ import annotations

import json
import os
import pty
import queue
import signal
import statistics
import subprocess
import sys
import termios
import threading
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, text

from bench.common import clean_environ, new_postgres_database, run_as_script
from bot.duties import RENEW, TTL
from bot.replicas import GUARDS
from storage.engine import normalise_url

ROUNDS = int(os.environ.get("BENCH_TAKEOVER_ROUNDS", "5"))
TARGET_TAKEOVER_S = 10.0
TARGET_LATE_S = 1.0
REMIND_IN_S = 4
READY_WITHIN = 60.0
POLL = 0.05
ADMIN_URL = normalise_url(
    os.environ.get("SHIPWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
)
# Straight to 127.0.0.1: never through an http_proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def readyz(port: int) -> dict[str, Any] | None:
    try:
        with OPENER.open(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            body: dict[str, Any] = json.loads(response.read())
            return body
    except OSError:
        return None


class Replica:
    """One ``shipwatch run``; its output read line by line as it is written."""

    def __init__(self, database_url: str, *, console: bool) -> None:
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.log: list[str] = []
        self.console: int | None = None
        env = clean_environ() | {
            "SHIPWATCH_DATABASE_URL": database_url,
            "SHIPWATCH_HTTP_PORT": "0",
            "SHIPWATCH_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        stdin: int = subprocess.DEVNULL
        if console:
            master, slave = pty.openpty()
            attrs = termios.tcgetattr(slave)
            attrs[3] &= ~termios.ECHO  # nobody reads the echo of what we type
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
            stdin, self.console = slave, master
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
        )
        if console:
            os.close(stdin)
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self._ready()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line)
            self.lines.put((time.time(), line))

    def _ready(self) -> int:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            try:
                _, line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if '"event": "shipwatch ready"' in line:
                return int(json.loads(line)["port"])
        raise RuntimeError("shipwatch run never became ready:\n" + "".join(self.log[-30:]))

    def say(self, line: str) -> None:
        assert self.console is not None
        os.write(self.console, (line + "\n").encode())

    def wait_for(self, fragment: str, *, within: float) -> float | None:
        """The wall time of the first output line holding ``fragment`` from now on."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                at, line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if fragment in line:
                return at
        return None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()

    def _close(self) -> None:
        if self.console is not None:
            os.close(self.console)
            self.console = None


def pending_reminder_due(database_url: str, marker: str, *, within: float) -> datetime:
    """The due time of the reminder holding ``marker`` once its row is committed."""
    engine = create_engine(normalise_url(database_url))
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                row = connection.execute(
                    text(
                        "SELECT t.due_at FROM timers t JOIN reminders r "
                        "ON t.key = 'reminder:' || r.id WHERE r.text = :marker"
                    ),
                    {"marker": marker},
                ).first()
            if row is not None:
                due: datetime = row[0]
                return due.replace(tzinfo=UTC)
            time.sleep(POLL)
    finally:
        engine.dispose()
    raise RuntimeError(f"the reminder {marker!r} was never armed")


def one_round(database_url: str, number: int) -> dict[str, float]:
    a = Replica(database_url, console=True)
    b: Replica | None = None
    try:
        b = Replica(database_url, console=False)
        held_a = readyz(a.port) or {}
        if GUARDS not in held_a.get("duties", []):
            raise RuntimeError(f"replica A does not hold {GUARDS}: {held_a}")
        marker = f"takeover round {number}"
        a.say(f"/remind {REMIND_IN_S}s {marker}")
        due_at = pending_reminder_due(database_url, marker, within=15)
        a.kill()
        killed = time.monotonic()
        while GUARDS not in (readyz(b.port) or {}).get("duties", []):
            if time.monotonic() - killed > 3 * TARGET_TAKEOVER_S:
                raise RuntimeError("the survivor never took the duty")
            time.sleep(POLL)
        takeover = time.monotonic() - killed
        posted = b.wait_for(marker, within=30)
        if posted is None:
            raise RuntimeError("the survivor never posted the reminder")
        return {"takeover_s": takeover, "late_s": posted - due_at.timestamp()}
    finally:
        a.kill()
        if b is not None:
            b.stop()


def main() -> dict[str, object]:
    with new_postgres_database(ADMIN_URL) as url:
        rounds = [one_round(url, n) for n in range(1, ROUNDS + 1)]
    takeovers = [r["takeover_s"] for r in rounds]
    lates = [r["late_s"] for r in rounds]
    return {
        "benchmark": "takeover",
        "target": f"duty held by the survivor <= {TARGET_TAKEOVER_S:g} s after kill -9; "
        f"the dead replica's timer fired <= {TARGET_LATE_S:g} s late",
        "pass": max(takeovers) <= TARGET_TAKEOVER_S and max(lates) <= TARGET_LATE_S,
        "rounds": ROUNDS,
        "lease": f"TTL {TTL.total_seconds():g} s, renewed every {RENEW.total_seconds():g} s",
        "takeover_median_s": round(statistics.median(takeovers), 2),
        "takeover_max_s": round(max(takeovers), 2),
        "timer_late_median_s": round(statistics.median(lates), 3),
        "timer_late_max_s": round(max(lates), 3),
        "load_avg": " ".join(f"{n:.2f}" for n in os.getloadavg()),
    }


if __name__ == "__main__":
    run_as_script(main)
