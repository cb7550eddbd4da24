"""``shipwatch run`` as an operator starts it: serves, becomes ready, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


class Served:
    """``shipwatch run`` on a port the OS picks, its log read as it is written.

    Readiness is the server's own "shipwatch ready" log line (which names the port it
    bound), so nothing polls, sleeps, or races another process for a port.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.process = start({**env, "SHIPWATCH_HTTP_PORT": "0"})
        self.log: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            self._lines.put(line)
        self._lines.put(None)  # the process closed its log: it has exited

    def ready(self) -> int:
        """Wait for the ready line; return the bound port, checked through /readyz."""
        while True:
            line = self._lines.get(timeout=30)
            if line is None:
                raise AssertionError("shipwatch run exited:\n" + "".join(self.log))
            if '"event": "shipwatch ready"' in line:
                port = int(json.loads(line)["port"])
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                    assert r.status == 200
                return port

    def stop(self) -> tuple[str, str]:
        """SIGTERM, then the exit; returns what it printed (stdout, stderr)."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)
        self._reader.join(timeout=20)
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        with self.process.stdout, self.process.stderr:
            return self.process.stdout.read(), "".join(self.log)


def test_serves_until_sigterm_and_logs_start_and_stop(tmp_path: Path) -> None:
    served = Served({"SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/run.db"})
    assert served.ready() > 0
    _out, err = served.stop()
    assert served.process.returncode == 0, err
    events = [line for line in err.splitlines() if line.startswith("{")]
    assert any('"event": "shipwatch ready"' in e for e in events)
    assert any('"event": "shipwatch stopped"' in e for e in events)


@pytest.fixture(params=["path", "abstract"])
def notify_socket(request: pytest.FixtureRequest) -> Iterator[tuple[socket.socket, str]]:
    """A unix datagram socket standing in for systemd's, and its NOTIFY_SOCKET value."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.settimeout(30)
        if request.param == "abstract":
            name = f"shipwatch-test-{uuid.uuid4().hex}"
            listener.bind("\0" + name)
            yield listener, "@" + name
            return
        # A short folder: a socket path must stay under 108 bytes.
        with tempfile.TemporaryDirectory(prefix="sw-") as folder:
            listener.bind(f"{folder}/notify")
            yield listener, f"{folder}/notify"


def test_tells_systemd_when_ready_and_when_stopping(
    notify_socket: tuple[socket.socket, str], tmp_path: Path
) -> None:
    listener, address = notify_socket
    served = Served(
        {"SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/run.db", "NOTIFY_SOCKET": address}
    )
    try:
        ready = listener.recv(4096).decode()
        assert ready.startswith("READY=1\nSTATUS=serving on 127.0.0.1:"), ready
        # Ready means ready: the port it names answers /readyz already.
        port = int(ready.rsplit(":", 1)[1])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            assert response.status == 200
    finally:
        _out, err = served.stop()
    assert served.process.returncode == 0, err
    assert listener.recv(4096) == b"STOPPING=1"


def test_an_unreachable_notify_socket_is_logged_and_serving_goes_on(tmp_path: Path) -> None:
    served = Served(
        {
            "SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
            "NOTIFY_SOCKET": f"{tmp_path}/nobody-listens",
        }
    )
    assert served.ready() > 0
    _out, err = served.stop()
    assert served.process.returncode == 0, err
    assert '"event": "could not notify the service manager"' in err
    assert "Traceback" not in err


def test_database_password_never_printed(postgres_url: str) -> None:
    # A database of its own: the run migrates it, and the server's own database stays bare.
    url = make_url(postgres_url).set(password="hunter2-secret")
    served = Served({"SHIPWATCH_DATABASE_URL": url.render_as_string(hide_password=False)})
    try:
        served.ready()
    except AssertionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL is not reachable here")
    finally:
        out, err = served.stop()
    assert "hunter2-secret" not in out + err
    assert "***" in err, "the URL is logged with its password hidden"


def test_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    process = start(
        {
            "SHIPWATCH_DATABASE_URL": "postgresql://shipwatch:sekret-pw@127.0.0.1:1/nowhere",
            "SHIPWATCH_HTTP_PORT": "0",
        }
    )
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert err.startswith(
        "shipwatch: Cannot use the database at postgresql+psycopg://shipwatch:***@"
    )
    assert "Check SHIPWATCH_DATABASE_URL" in err
    assert "sekret-pw" not in out + err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHIPWATCH_HTTP_PORT": "eighty"}, "SHIPWATCH_HTTP_PORT is not valid"),
        ({"SHIPWATCH_LOCALE": "fr"}, "SHIPWATCH_LOCALE is not valid"),
        ({"SHIPWATCH_TIMEZONE": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"SHIPWATCH_CONFIG_DIR": "/nonexistent/dir"}, "/nonexistent/dir: is not a directory"),
    ],
)
def test_bad_settings_are_one_sentence(env: dict[str, str], message: str, tmp_path: Path) -> None:
    process = start({"SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env})
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert message in err
    assert "Traceback" not in err


def test_port_in_use_is_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start(
            {
                "SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                "SHIPWATCH_HTTP_PORT": str(port),
            }
        )
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def test_in_memory_sqlite_is_refused() -> None:
    result = run_cli("db", "upgrade", env={"SHIPWATCH_DATABASE_URL": "sqlite://"})
    assert result.returncode == 1
    assert "An in-memory SQLite database would forget everything" in result.stderr
    assert "Traceback" not in result.stderr


def test_database_from_a_newer_version_is_one_sentence(tmp_path: Path) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path}/newer.db"
    assert run_cli("db", "upgrade", env={"SHIPWATCH_DATABASE_URL": url}).returncode == 0
    with sqlite3.connect(tmp_path / "newer.db") as db:
        db.execute("UPDATE alembic_version SET version_num = 'f00d'")
    result = run_cli("db", "upgrade", env={"SHIPWATCH_DATABASE_URL": url})
    assert result.returncode == 1
    assert "is at schema revision f00d, which this version of Shipwatch does not know" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_config_file_not_in_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "people.yaml").write_bytes(
        "people:\n  - handle: wang\n    name: 王伟\n".encode("gbk")
    )
    result = run_cli("check", str(tmp_path), env={})
    assert result.returncode == 2
    assert "people.yaml: is not UTF-8 text; save it as UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_does_not_wait_for_a_client_that_stalls_its_body(tmp_path: Path) -> None:
    served = Served(
        {
            "SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
            "SHIPWATCH_INCIDENT_HOOK_TOKEN": "hook-token",
            "SHIPWATCH_HTTP_BODY_TIMEOUT_SECONDS": "120",  # the stop, not the deadline, ends it
        }
    )
    port = served.ready()
    with socket.create_connection(("127.0.0.1", port), timeout=15) as stalled:
        stalled.sendall(
            b"POST /hooks/incident HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer hook-token\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"title": '
        )
        # The body is being waited for once the server has read the headers: a request on
        # a second connection is answered after that.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200
        began = time.monotonic()
        _out, err = served.stop()
        took = time.monotonic() - began
        answer = stalled.recv(65536)
    assert served.process.returncode == 0, err
    assert took < 4, f"stopping took {took:.1f}s"
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert b"shutting down" in answer
    assert '"event": "request body given up at shutdown"' in err
    assert '"level": "error"' not in err


def test_config_warnings_are_logged_as_it_starts(tmp_path: Path) -> None:
    """What ``shipwatch check`` warns of reaches the log of ``shipwatch run`` too: an operator
    who never ran the check still reads that a team's paging cannot meet its promise."""
    from tests.bot.config.test_config_teams import TEAM, own_people
    from tests.support import write

    folder = tmp_path / "config"
    folder.mkdir()
    own_people(folder)
    write(folder, "teams.yaml", TEAM.format(manager="alice", target="'@bob'"))
    served = Served(
        {
            "SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
            "SHIPWATCH_CONFIG_DIR": str(folder),
        }
    )
    served.ready()
    _out, err = served.stop()
    warnings = [
        json.loads(line)
        for line in err.splitlines()
        if line.startswith("{") and '"event": "config warning"' in line
    ]
    assert any(
        "team api pages P2 incidents never" in w["warning"] and w["level"] == "warning"
        for w in warnings
    ), err
