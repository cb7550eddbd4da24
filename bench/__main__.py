"""Run the benchmarks, each in a fresh process, and print their figures against targets.

``python -m bench`` runs them all; ``python -m bench guards timers`` only those named.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each benchmark runs in its own process, so peak RSS and warm caches belong to it alone.
# name: timeout in seconds
BENCHMARKS = {
    "dispatch": 600.0,
    "timers": 300.0,
    "startup": 300.0,
    "guards": 900.0,
    "incidents": 300.0,
    "paging": 600.0,
    "durability": 600.0,
    "takeover": 600.0,
}
MAX_NOTES = 8


def run(name: str, timeout: float) -> dict[str, object]:
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{name}"],
            cwd=ROOT,
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


def show(result: dict[str, object]) -> str:
    name = result["benchmark"]
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


def main(names: list[str]) -> int:
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
    for name, timeout in BENCHMARKS.items():
        if names and name not in names:
            continue
        verdicts[name] = show(run(name, timeout))
        sys.stdout.flush()
    print("\n" + "  ".join(f"{name} {verdict}" for name, verdict in verdicts.items()))
    # A missed target is a finding, not a failure; only a benchmark that broke fails the run.
    return 1 if "ERROR" in verdicts.values() else 0


sys.exit(main(sys.argv[1:]))
