"""One ``shipwatch run`` process: started on the harness's database and fake Slack, ready
when it logs "shipwatch ready" and /readyz says so, then killed with SIGKILL or stopped."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(__file__).resolve().parent / "config"
READY_WITHIN = 90.0  # seconds: a Python start on a busy two-core machine, with migrations
STOP_WITHIN = 30.0
ALERTMANAGER_TOKEN = "chaos-alertmanager-token"
SIGNING_SECRET = "chaos-signing-secret-0123456789ab"


def bot_environ(*, database_url: str, slack_api_url: str) -> dict[str, str]:
    """The bot's settings, and none of the developer's own ``SHIPWATCH_*`` ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPWATCH_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SHIPWATCH_DATABASE_URL=database_url,
        SHIPWATCH_CONFIG_DIR=str(CONFIG_DIR),
        SHIPWATCH_HTTP_PORT="0",
        SHIPWATCH_LOG_LEVEL="INFO",
        SHIPWATCH_SLACK_BOT_TOKEN="xoxb-chaos-token",
        SHIPWATCH_SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SHIPWATCH_SLACK_API_URL=slack_api_url,
        SHIPWATCH_ALERTMANAGER_TOKEN=ALERTMANAGER_TOKEN,
        SHIPWATCH_ADMIN_CHANNEL="#shipwatch-admin",
    )
    return env


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    log_path: Path
    started_at: float
    ready_at: float = 0.0
    ended_at: float = 0.0
    base_url: str = ""

    @classmethod
    async def start(cls, *, workdir: Path, env: dict[str, str], index: int) -> BotProcess:
        log_path = workdir / f"bot-{index:02d}.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=workdir,  # no .env of the developer's is read
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        bot = cls(process, log_path, time.time())
        await bot._until_ready()
        return bot

    async def _until_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise RuntimeError(f"shipwatch run exited: {self.log_tail()}")
            port = self._logged_port()
            if port and await self._ready(f"http://127.0.0.1:{port}"):
                self.base_url = f"http://127.0.0.1:{port}"
                self.ready_at = time.time()
                return
            await asyncio.sleep(0.05)  # a real process starting, not one of our timers
        raise RuntimeError(f"shipwatch run not ready within {READY_WITHIN:g}s: {self.log_tail()}")

    def _logged_port(self) -> int | None:
        for line in self.log_path.read_text(errors="replace").splitlines():
            if '"event": "shipwatch ready"' in line:
                return int(json.loads(line)["port"])
        return None

    @staticmethod
    async def _ready(url: str) -> bool:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as client,
                client.get(f"{url}/readyz") as response,
            ):
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def kill(self) -> None:
        """kill -9: no handler runs, nothing is flushed or finished."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.ended_at = time.time()

    async def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_WITHIN):
                await self.process.wait()
        except TimeoutError:
            await self.kill()
        self.ended_at = time.time()

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"
