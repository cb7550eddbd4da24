"""The ``shipwatch`` command's entry point; ``bot.command_line`` is the command itself.

A start is mostly imports: SQLAlchemy, pydantic, the tables and the config models make
hundreds of thousands of objects that live as long as the process. Python's cyclic
collector, counting allocations, would walk them over and over while they are made (a
tenth of the CPU of ``import bot.command_line``). So the command is imported with the
collector paused, and what the import made is then frozen out of its reach
(``gc.freeze``): later collections, in a long-running bot too, skip it. The price: the
little garbage the import leaves in cycles (about 2 MB) is kept, not collected.
"""

from __future__ import annotations

import gc
import sys


def main(argv: list[str] | None = None) -> int:
    if "bot.command_line" not in sys.modules:
        _import_uncollected()
    from bot.command_line import main as command

    return command(argv)


def _import_uncollected() -> None:
    collecting = gc.isenabled()
    gc.disable()
    try:
        import bot.command_line  # noqa: F401  (the whole command, every module it needs)
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
