"""A real server binary (Prometheus, Alertmanager) run for tests on 127.0.0.1: started on a
free port with its files and log under ``workdir``, ready when ``/-/ready`` says 200."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Self

READY_WITHIN = 20.0  # seconds for the process to start and answer /-/ready


class LocalServer:
    name: ClassVar[str]  # the log file's stem, and what error messages call it

    def __init__(self, process: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.workdir = workdir

    @classmethod
    def launch(cls, workdir: Path, command: Callable[[int], list[str]], **extra: Any) -> Self:
        """Run ``command(port)``; return once it is ready. ``extra`` goes to the constructor."""
        problem = ""
        for _ in range(3):  # another process may take the free port before ours does
            port = free_port()
            log = (workdir / f"{cls.name}.log").open("wb")
            process = subprocess.Popen(
                command(port),
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()  # the child has its own copy
            server = cls(process, port, workdir, **extra)
            problem = server._wait_until_ready()
            if not problem:
                return server
            server.stop()
            if "address already in use" not in problem:
                break
        raise RuntimeError(f"{cls.name} did not start: {problem}")

    def _wait_until_ready(self) -> str:
        """'' once ready; otherwise what went wrong, with the end of its log."""
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"it exited with {self.process.returncode}: {self.log_tail()}"
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response:
                    if response.status == 200:
                        return ""
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)  # a real process starting up, not one of our timers
        return f"not ready within {READY_WITHIN:g}s: {self.log_tail()}"

    def log_tail(self, lines: int = 20) -> str:
        path = self.workdir / f"{self.name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
