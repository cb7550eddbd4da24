"""Run a shipped drill script through ``shipwatch console --drill`` as a user would."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import ROOT


def run_drill(name: str, *, config_dir: str | None = None) -> str:
    """The drill's whole output; fails the test on a non-zero exit or a traceback.
    ``config_dir`` (under drills/) is the drill's own configuration, where it has one."""
    script = (ROOT / "drills" / name).read_text(encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--drill"],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SHIPWATCH_CONFIG_DIR": str(ROOT / "drills" / config_dir)}
        if config_dir
        else None,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout
