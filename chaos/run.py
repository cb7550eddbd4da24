"""One chaos run: start the bot, send traffic, kill -9 it at random moments, restart it,
then let it settle and check what it stored and delivered against what it acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, func
from sqlmodel import Session, col, select

from bot.adapters.slack import SlackAdapter
from chaos.bot_process import BotProcess, bot_environ
from chaos.checks import Figures, Run, check
from chaos.platform import ChaosSlack
from chaos.workload import Workload, client_session
from storage.models import OutboxMessage

# A kill can repeat each message whose send was in flight: one per Slack channel being
# sent to, up to the conversations Slack's lane takes at once.
IN_FLIGHT = SlackAdapter.capabilities.conversations_at_once

# anytime: a random moment under load; request: a few ms after a notification left, so
# mid-transaction; platform-call: Slack has a post, the bot has not heard back yet.
KILL_MODES = ("anytime", "request", "platform-call")
CALM_SECONDS = 3.0  # traffic with no kill at the end, before settling
RESEND_ROUNDS = 20


@dataclass(frozen=True)
class Options:
    kills: int = 24
    seed: int = 1
    workdir: Path = Path("var/chaos")
    settle_seconds: float = 150.0  # today a killed sender's claim holds a message 60 s
    max_wait_seconds: float | None = 5.0  # None: measure and report, do not fail


async def chaos_run(options: Options) -> tuple[Figures, Run]:
    """The figures of a run, and what they were checked from."""
    rng = random.Random(options.seed)
    options.workdir.mkdir(parents=True, exist_ok=True)
    database = options.workdir.resolve() / "chaos.db"
    for stale in options.workdir.glob("chaos.db*"):
        stale.unlink()
    fake = ChaosSlack(rng=random.Random(rng.random()))
    api_url = await fake.start()
    env = bot_environ(database_url=f"sqlite:///{database}", slack_api_url=api_url)
    workload = Workload(random.Random(rng.random()), fake)
    figures = Figures()
    lives: list[BotProcess] = []
    try:
        async with client_session() as client:
            for index in range(options.kills):
                bot = await _life(options, env, index, lives, workload, client)
                mode = rng.choice(KILL_MODES)
                await _kill_under_load(bot, mode, rng, fake, workload, client)
                figures.kills[mode] += 1
                figures.crashes += 1
            bot = await _life(options, env, options.kills, lives, workload, client)
            await _calm(workload, client)
            settled_at = await _settle(database, options.settle_seconds)
            await bot.stop()
    finally:
        fake.release()
        for life in lives:
            if life.process.returncode is None:
                await life.kill()
        await fake.stop()
    figures.notifications_sent = workload.notifications_sent
    figures.requests_cut_off = workload.cut_off
    figures.rate_limited = fake.rate_limited
    ready = [(life.ready_at, life.ended_at) for life in lives]
    run = Run(database, fake.arrivals, fake.replies, workload, ready, settled_at)
    check(run, figures)
    if figures.repeats > figures.crashes * IN_FLIGHT:
        figures.fail(f"{figures.repeats} repeated posts for {figures.crashes} crashes")
    if options.max_wait_seconds is not None and figures.wait_max_s > options.max_wait_seconds:
        figures.fail(
            f"a message waited {figures.wait_max_s:g} s while a ready process ran "
            f"(threshold {options.max_wait_seconds:g} s)"
        )
    return figures, run


async def _life(
    options: Options,
    env: dict[str, str],
    index: int,
    lives: list[BotProcess],
    workload: Workload,
    client: aiohttp.ClientSession,
) -> BotProcess:
    """A new process, and every notification it did not answer before, sent again."""
    bot = await BotProcess.start(workdir=options.workdir, env=env, index=index)
    lives.append(bot)
    workload.base_url = bot.base_url
    await workload.resend_unanswered(client)
    return bot


async def _kill_under_load(
    bot: BotProcess,
    mode: str,
    rng: random.Random,
    fake: ChaosSlack,
    workload: Workload,
    client: aiohttp.ClientSession,
) -> None:
    traffic = asyncio.create_task(workload.run(client))
    await asyncio.sleep(rng.uniform(0.5, 3.0))  # load for a while: a wall-clock harness
    if mode == "request":
        workload.request_sent.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await workload.request_sent.wait()
        await asyncio.sleep(rng.uniform(0.0, 0.03))
    elif mode == "platform-call":
        fake.hold_next()
        await fake.wait_held(within=15.0)
    await bot.kill()
    fake.release()
    workload.stop()
    await traffic


async def _calm(workload: Workload, client: aiohttp.ClientSession) -> None:
    """Every notification answered at last, and a little more traffic with no kill."""
    for _ in range(RESEND_ROUNDS):
        if await workload.resend_unanswered(client) == 0:
            break
    traffic = asyncio.create_task(workload.run(client))
    await asyncio.sleep(CALM_SECONDS)
    workload.stop()
    await traffic
    await workload.resend_unanswered(client)


async def _settle(database: Path, within: float) -> datetime:
    """Until the outbox has nothing pending (bounded); the moment it was so."""
    engine = create_engine(f"sqlite:///{database}")
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            with Session(engine) as session:
                pending = session.exec(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(col(OutboxMessage.state) == "pending")
                ).one()
            if pending == 0:
                break
            await asyncio.sleep(0.2)  # polling a real process's database
    finally:
        engine.dispose()
    return datetime.now(UTC)
