"""``shipwatch run`` as an operator starts it: serves, becomes ready, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import postgres_admin_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def wait_ready(port: int, process: subprocess.Popen[str]) -> None:
    """Poll /readyz: the server's own start-up, not a timer, is what we wait for."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.02)
    raise AssertionError("shipwatch run did not become ready")


def test_serves_until_sigterm_and_logs_start_and_stop(tmp_path: Path) -> None:
    port = free_port()
    process = start(
        {
            "SHIPWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
            "SHIPWATCH_HTTP_PORT": str(port),
        }
    )
    wait_ready(port, process)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    events = [line for line in err.splitlines() if line.startswith("{")]
    assert any('"event": "shipwatch ready"' in e for e in events)
    assert any('"event": "shipwatch stopped"' in e for e in events)


def test_database_password_never_printed() -> None:
    port = free_port()
    url = make_url(postgres_admin_url()).set(password="hunter2-secret")
    url = url.render_as_string(hide_password=False)
    process = start({"SHIPWATCH_DATABASE_URL": url, "SHIPWATCH_HTTP_PORT": str(port)})
    try:
        wait_ready(port, process)
    except AssertionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL is not reachable here")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert "hunter2-secret" not in out + err
    assert "***" in err, "the URL is logged with its password hidden"


def test_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    process = start(
        {
            "SHIPWATCH_DATABASE_URL": "postgresql://shipwatch:sekret-pw@127.0.0.1:1/nowhere",
            "SHIPWATCH_HTTP_PORT": str(free_port()),
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
