"""Another process's slow writer, as a test needs one: a second connection to the same
SQLite file holding the write lock for a while."""

from __future__ import annotations

import sqlite3
import threading
import time


class WriteLock(threading.Thread):
    """Another connection to the same file, as another process would have, holding the
    write lock (``BEGIN IMMEDIATE``, as Shipwatch's own transactions begin) for ``hold``."""

    def __init__(self, path: str, hold: float) -> None:
        super().__init__(name="other-process", daemon=True)
        self._path, self._hold = path, hold
        self.taken = threading.Event()
        self.released_at = 0.0

    def run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, timeout=10)
        try:
            connection.execute("BEGIN IMMEDIATE")
            self.taken.set()
            time.sleep(self._hold)  # a slow writer elsewhere: the situation under test
            self.released_at = time.perf_counter()
            connection.execute("COMMIT")
        finally:
            connection.close()
