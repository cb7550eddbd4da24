"""A log handler that sets an event when a given line is written: a test waits on what a
worker did on the loop instead of sleeping."""

from __future__ import annotations

import asyncio
import logging


class LogSignal(logging.Handler):
    """Sets ``seen`` when a record with exactly ``message`` is emitted."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == self.message:
            self.seen.set()
