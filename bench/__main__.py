"""Run the benchmarks, each in a fresh process, and print their figures against targets.

``python -m bench`` runs them all; ``python -m bench guards timers`` only those named.
``python -m bench --baseline REV …`` also runs each one on the code of git revision REV
(checked out in a temporary worktree), right after, so both are measured in one run on
the same machine under the same load.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each benchmark runs in its own process, so peak RSS and warm caches belong to it alone.
# name: timeout in seconds
BENCHMARKS = {
    "dispatch": 600.0,
    "timers": 300.0,
    "startup": 300.0,
    "console_start": 300.0,
    "guards": 900.0,
    "incidents": 300.0,
    "paging": 600.0,
    "durability": 600.0,
    "takeover": 600.0,
    "web_incidents": 300.0,
    "release_page": 300.0,
    "loaded": 1200.0,
}
MAX_NOTES = 8


# Benchmarks that measure another checkout's code with this version's script, so both
# columns are measured the same way (they read BENCH_CODE_ROOT); the others run the
# checkout's own script, or say it has none.
SCRIPT_FROM_HERE = {"console_start", "loaded", "incidents"}


def compiled(root: Path) -> None:
    """Compile the checkout's bytecode first, as installing a wheel does, so no benchmark
    times the compiling of source (PYTHONDONTWRITEBYTECODE is dropped for the same reason)."""
    packages = [str(root / name) for name in ("bot", "commands", "playbooks", "storage")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=False)


def run(name: str, timeout: float, root: Path = ROOT) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    if name in SCRIPT_FROM_HERE and root != ROOT:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_CODE_ROOT": str(root)}
        root = ROOT
    elif not (root / "bench" / f"{name}.py").exists():
        return {"benchmark": name, "error": "not in this version"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{name}"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"benchmark": name, "error": f"did not finish within {timeout:g} s"}
    lines = done.stdout.strip().splitlines()
    notes = done.stderr.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"benchmark": name, "error": f"exited {done.returncode}", "notes": notes}
    figures: dict[str, object] = json.loads(lines[-1])
    figures["notes"] = notes
    return figures


def show(result: dict[str, object], label: str = "") -> str:
    name = f"{result['benchmark']}{label}"
    if "error" in result:
        verdict = "ERROR"
        print(f"\n== {name}: ERROR ({result['error']})")
    else:
        verdict = "PASS" if result["pass"] else "MISS"
        print(f"\n== {name}: {verdict} (target: {result['target']})")
    for key, value in result.items():
        if key not in ("benchmark", "target", "pass", "error", "notes"):
            print(f"   {key:<18} {value}")
    notes = result.get("notes")
    if isinstance(notes, list) and notes:
        print(f"   stderr ({len(notes)} lines):")
        for line in notes[:MAX_NOTES]:
            print(f"     {line}")
        if len(notes) > MAX_NOTES:
            print(f"     … {len(notes) - MAX_NOTES} more")
    return verdict


@contextlib.contextmanager
def checkout(revision: str | None) -> Iterator[Path | None]:
    """The code of ``revision`` in a temporary git worktree, removed afterwards."""
    if revision is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="shipwatch-baseline-") as folder:
        where = Path(folder) / "baseline"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", str(where), revision], check=True)
        try:
            yield where
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(where)], check=False)


def main(arguments: list[str]) -> int:
    baseline: str | None = None
    if arguments[:1] == ["--baseline"]:
        if len(arguments) < 2:
            print("--baseline needs a git revision, e.g. --baseline HEAD~10")
            return 2
        baseline, arguments = arguments[1], arguments[2:]
    names = arguments
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"no benchmark named {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"Shipwatch benchmarks on {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}, load average {load}",
        flush=True,
    )
    verdicts = {}
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with checkout(baseline) as baseline_root:
        compiled(ROOT)
        if baseline_root is not None:
            compiled(baseline_root)
        for name, timeout in BENCHMARKS.items():
            if names and name not in names:
                continue
            verdicts[name] = show(run(name, timeout))
            sys.stdout.flush()
            if baseline_root is not None:
                show(run(name, timeout, baseline_root), label=f" (baseline {baseline})")
                sys.stdout.flush()
    print("\n" + "  ".join(f"{name} {verdict}" for name, verdict in verdicts.items()))
    # A missed target is a finding, not a failure; only a benchmark that broke fails the run.
    return 1 if "ERROR" in verdicts.values() else 0


sys.exit(main(sys.argv[1:]))
