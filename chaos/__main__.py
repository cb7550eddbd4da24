"""``python -m chaos``: a chaos run; prints its figures and every broken invariant."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from chaos.checks import Figures
from chaos.run import Options, chaos_run


def report(figures: Figures) -> str:
    kills = ", ".join(f"{n} {mode}" for mode, n in sorted(figures.kills.items()))
    lines = [
        f"crashes            {figures.crashes} (kill -9: {kills})",
        f"notifications      {figures.notifications_sent} sent, "
        f"{figures.notifications_answered} answered 2xx, "
        f"{figures.requests_cut_off} requests cut off by a kill",
        f"commands           {figures.commands} sent, {figures.command_replies} replies seen",
        f"incidents          {figures.incidents}",
        f"pages              {figures.pages} ({figures.page_messages} page messages delivered)",
        f"deliveries         {figures.deliveries} posts ({figures.rate_limited} answered 429)",
        f"timers fired       {figures.timers_fired} ({figures.timers_fired_late} late)",
        f"lost               {figures.lost}",
        f"repeats            {figures.repeats} (pages {figures.page_repeats}; "
        "at most 1 per conversation per crash)",
        f"wait while ready   p50 {figures.wait_p50_s} s, max {figures.wait_max_s} s "
        f"(max for messages committed before a crash: {figures.wait_max_after_restart_s} s)",
    ]
    if figures.problems:
        lines.append(f"FAILED: {len(figures.problems)} problems")
        lines += [f"  - {p}" for p in figures.problems[:40]]
    else:
        lines.append("OK: every invariant held")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--kills", type=int, default=Options.kills, help="kill -9s (default 24)")
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--workdir", type=Path, default=Options.workdir)
    parser.add_argument(
        "--settle", type=float, default=Options.settle_seconds, help="seconds to drain at the end"
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=Options.max_wait_seconds,
        help="fail if a message waited longer (seconds of a ready process); default 5",
    )
    parser.add_argument(
        "--no-max-wait", action="store_true", help="measure the wait but do not fail on it"
    )
    args = parser.parse_args(argv)
    options = Options(
        kills=args.kills,
        seed=args.seed,
        workdir=args.workdir,
        settle_seconds=args.settle,
        max_wait_seconds=None if args.no_max_wait else args.max_wait,
    )
    print(f"chaos: {options.kills} kills, seed {options.seed}, in {options.workdir}", flush=True)
    figures, _ = asyncio.run(chaos_run(options))
    print(report(figures))
    return 1 if figures.problems else 0


sys.exit(main(sys.argv[1:]))
