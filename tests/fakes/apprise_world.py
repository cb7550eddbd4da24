"""A Shipwatch whose people are reached by email, SMS and push through Apprise, pointed at
real local servers (``tests.fakes.apprise_targets``), with its HTTP server on loopback (for
the action links), a console for whoever types, and a virtual clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from sqlmodel import Session, select

from bot.action_links import signer_from
from bot.adapters.apprise_adapter import AppriseAdapter
from bot.adapters.apprise_targets import targets
from bot.adapters.base import Adapter
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import load
from bot.http import make_web_app
from bot.settings import Settings
from commands.core.invocations import CommandInvocation, Outcome
from playbooks.effects import Conversation
from storage import migrate
from storage.engine import make_engine
from storage.models import PageEvent, PageRow
from tests.fakes.adapters import RecordingAdapter
from tests.fakes.apprise_targets import Ntfy, SmtpInbox, Twilio
from tests.fakes.loopback import serve
from tests.fakes.robot_world import LINK_SECRET, PUBLIC_URL, START

PEOPLE = """\
people:
  - handle: alice
    name: Alice Chen
    identities: {{console: alice}}
  - handle: carol
    name: Carol Wang
    identities:
      email: env:CAROL_EMAIL_URL
      sms: env:CAROL_SMS_URL
      push: "ntfy://127.0.0.1:{ntfy_port}/carol-pages"
  - handle: dave
    name: Dave Zhou
    identities: {{sms: env:DAVE_SMS_URL}}
"""
ROLES = "roles:\n  admin: [alice]\n  responder: [carol, dave]\n"
TEAMS = """\
teams:
  db:
    timezone: UTC
    channel: "#ops"
    layers:
      primary: {{participants: [carol], start: 2026-11-16T00:00, length: 7d}}
    escalation:
      steps:
        - {{notify: primary, via: {first}, wait: 5m}}
        - {{notify: primary, via: every, wait: 10m}}
"""
SERVICES = """\
services:
  db-api:
    plan: standard
    team: db
    release_channel: "#ops"
    incident_channel: "#ops"
    traffic: {backend: simulated}
    metrics: {source: simulated}
"""
LINK = re.compile(r"https://shipwatch\.example\.com/act/[A-Za-z0-9_.-]+")


@dataclass
class AppriseWorld:
    app: Application
    clock: VirtualClock
    console: RecordingAdapter
    smtp: SmtpInbox
    ntfy: Ntfy
    twilio: Twilio
    base_url: str
    client: aiohttp.ClientSession
    runner: web.AppRunner

    async def say(self, text: str, *, user: str = "alice", channel: str = "#ops") -> Outcome:
        outcome = await self.app.dispatch(
            CommandInvocation("console", user, Conversation("console", channel), text)
        )
        await self.app.settle()
        return outcome

    async def open_link(self, url: str, *, method: str = "GET") -> tuple[int, str]:
        """A link as a person's browser opens it (the public URL proxies to this server)."""
        async with self.client.request(method, f"{self.base_url}{urlsplit(url).path}") as got:
            answer = got.status, await got.text()
        await self.app.settle()
        return answer

    def page(self, page_id: int = 1) -> PageRow:
        with Session(self.app.engine) as session:
            row = session.get(PageRow, page_id)
            assert row is not None
            session.expunge(row)
            return row

    def timeline(self, page_id: int = 1) -> list[tuple[str, str, str]]:
        """(kind, person, text) of the page's events, in order."""
        with Session(self.app.engine) as session:
            query = select(PageEvent).where(PageEvent.page_id == page_id)
            events = session.exec(query.order_by(PageEvent.id)).all()  # type: ignore[arg-type]
            return [(e.kind, e.person, e.text) for e in events]

    async def close(self) -> None:
        await self.client.close()
        await self.app.stop()
        await self.runner.cleanup()
        for server in (self.smtp, self.ntfy, self.twilio):
            await server.stop()
        self.app.engine.dispose()


def write_config(folder: Path, *, ntfy_port: int, first_via: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "people.yaml").write_text(PEOPLE.format(ntfy_port=ntfy_port), "utf-8")
    (folder / "roles.yaml").write_text(ROLES, "utf-8")
    (folder / "teams.yaml").write_text(TEAMS.format(first=first_via), "utf-8")
    (folder / "services.yaml").write_text(SERVICES, "utf-8")
    return folder


async def make_apprise_world(
    database_url: str, folder: Path, *, first_via: str = "[sms, email]", **settings: Any
) -> AppriseWorld:
    smtp = await SmtpInbox().start()
    ntfy = await Ntfy().start()
    twilio = await Twilio().start()
    config = load(write_config(folder, ntfy_port=ntfy.port, first_via=first_via))
    environ = {
        "CAROL_EMAIL_URL": smtp.url("carol@example.com"),
        "CAROL_SMS_URL": twilio.url("+15550001111"),
        "DAVE_SMS_URL": twilio.url("+15550002222"),
    }
    found = targets(config, environ=environ)
    assert not found.problems, found.problems
    clock = VirtualClock(START)
    signer_settings = Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        action_link_secret=LINK_SECRET,  # type: ignore[arg-type]
        **settings,
    )
    signer = signer_from(signer_settings.action_link_secret, public_url=PUBLIC_URL)
    console = RecordingAdapter()
    adapters: dict[str, Adapter] = {"console": console}
    for way in found.ways():
        adapters[way] = AppriseAdapter(
            way, targets=found.found, signer=signer, timeout=signer_settings.apprise_timeout
        )
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    app = Application(
        settings=signer_settings,
        config=config,
        engine=engine,
        clock=clock,
        adapters=adapters,
        seed=0,
    )
    await app.start()
    runner, base_url = await serve(make_web_app(app))
    return AppriseWorld(
        app=app,
        clock=clock,
        console=console,
        smtp=smtp,
        ntfy=ntfy,
        twilio=twilio,
        base_url=base_url,
        client=aiohttp.ClientSession(),
        runner=runner,
    )
