"""What a start does not load until it is used: a piped console drill serves no page and
fetches nothing, so it starts without aiohttp; its new database is created, not migrated,
so without Alembic; it runs on SQLite, so without SQLAlchemy's PostgreSQL dialect; its
virtual clock schedules nothing, so without APScheduler; and its rows go through
SQLAlchemy, so no table's pydantic validator is built."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# Runs the drill as the shipwatch script does, then names what was loaded.
DRILL = (
    "import sys; sys.argv = ['shipwatch', 'console', '--drill']\n"
    "from bot.cli import main\n"
    "code = main()\n"
    "lazy = ['aiohttp', 'yarl', 'alembic', 'sqlalchemy.dialects.postgresql', 'apscheduler']\n"
    "loaded = [name for name in lazy if name in sys.modules]\n"
    "print('loaded:', loaded, file=sys.stderr)\n"
    "import storage.models as models\n"
    "tables = [c for c in vars(models).values() if hasattr(c, '__table__')]\n"
    "built = [c.__name__ for c in tables if c.__pydantic_complete__]\n"
    "print('tables:', len(tables), 'validators built:', built, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def python(
    code: str, *, cwd: Path | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``code`` run by a new interpreter, with no SHIPWATCH_ setting of this one's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPWATCH_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_a_piped_drill_starts_without_what_it_does_not_use(tmp_path: Path) -> None:
    done = python(DRILL, cwd=tmp_path, stdin=":quit\n")
    assert done.returncode == 0, done.stderr
    assert "Shipwatch console" in done.stdout
    assert "loaded: []" in done.stderr
    tables = re.search(r"tables: (\d+) validators built: \[\]", done.stderr)
    assert tables is not None, done.stderr
    assert int(tables[1]) > 25  # every table was looked at


def test_the_command_is_imported_with_the_collector_running_after() -> None:
    code = (
        "import gc, sys; from bot.cli import main\n"
        "try:\n"
        "    main(['check'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 0, 'bot.command_line' in sys.modules)\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-3:] == ["True", "True", "True"]


def test_the_server_starts_without_jinja2_which_the_first_page_loads() -> None:
    code = (
        "import sys\n"
        "from bot.http import make_web_app  # what shipwatch run imports to serve\n"
        "print('jinja2' in sys.modules)\n"
        "from bot.web import pages\n"
        "pages.environment()\n"
        "print('jinja2' in sys.modules)\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
