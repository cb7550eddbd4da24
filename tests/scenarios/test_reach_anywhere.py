"""The reach-anywhere drill (``drills/reach-anywhere/``): people reached where they are.
A P0 on web pages bob by a Mattermost direct message with real buttons; nobody answers, so
five minutes on carol is emailed, with one-time links; carol opens hers and confirms, and
the escalation stops. A second P0: bob presses Acknowledge in his direct message, and
carol is never emailed about it. Shipwatch is the real one (its routes, outbox, timers,
the Mattermost adapter and Apprise), loaded from the drill's folder, on a virtual clock;
Mattermost is the local fake of its REST API and the mail goes to a real SMTP server
(aiosmtpd) on loopback. What each person received is written out as a transcript, the one
the README shows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest
from sqlmodel import Session

from bot import adapters
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import load
from bot.http import serve
from bot.settings import Settings
from storage import migrate
from storage.engine import make_engine
from storage.models import IncidentRow, PageRow
from tests.conftest import START
from tests.fakes.apprise_targets import SmtpInbox
from tests.fakes.mattermost_api import BOT_ID, TEAM, FakeMattermost, Post, response_text
from tests.support import ROOT

DRILL = ROOT / "drills" / "reach-anywhere"
PUBLIC_URL = "https://shipwatch.example.com"
COMMAND_TOKEN = "tok-reach-anywhere-000000000"
# The Mattermost user ids people.yaml gives, and the channels of the team.
IDS = {
    "alice": "4fxk8ahz3ibd7rqw1cyjg6tepa",
    "bob": "8xq3fz6ctpdmpfqmwbzy1ekk9h",
    "dave": "c9w2nd5gyjb8oe4hx7tquk3rsm",
}
CHANNELS = {
    "incidents": "incidentschannel0000000000",
    "tech": "techchannel000000000000000",
    "web": "webchannel0000000000000000",
}
LINK = re.compile(r"https://shipwatch\.example\.com/act/[A-Za-z0-9_.-]+")
TRANSCRIPT = DRILL / "what-people-received.txt"
README = ROOT / "README.md"


@dataclass
class World:
    app: Application
    clock: VirtualClock
    mattermost: FakeMattermost
    smtp: SmtpInbox
    url: str  # where Shipwatch listens (its public address proxies here)
    client: aiohttp.ClientSession

    async def slash(self, command: str, text: str, *, user: str, channel: str) -> str:
        """A custom slash command as Mattermost posts it; the answer's text."""
        form = {
            "channel_id": CHANNELS[channel],
            "channel_name": channel,
            "command": command,
            "response_url": self.mattermost.response_url(),
            "team_domain": TEAM,
            "team_id": "teamid",
            "text": text,
            "token": COMMAND_TOKEN,
            "trigger_id": f"trigger-{text}",
            "user_id": IDS[user],
            "user_name": user,
        }
        async with self.client.post(
            f"{self.url}/mattermost/command",
            data=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as got:
            assert got.status == 200
            answer = await got.json()
        await self.app.settle()
        return response_text(answer)

    def dms(self, handle: str) -> list[Post]:
        return self.mattermost.posts_in(self.mattermost.direct_channel_of(IDS[handle]))

    def posts(self, channel: str) -> list[Post]:
        return self.mattermost.posts_in(CHANNELS[channel])

    async def press(self, post: Post, label: str, *, user: str) -> dict[str, Any]:
        """``user`` presses a button: Mattermost calls its integration with the context."""
        [action] = [a for a in post.actions if a["name"] == label]
        got = await self.mattermost.press(self.url, action, user_id=IDS[user], post=post)
        assert got.status == 200
        answer: dict[str, Any] = await got.json()
        await self.app.settle()
        return answer

    async def open_link(self, url: str, *, method: str) -> tuple[int, str]:
        async with self.client.request(method, f"{self.url}{urlsplit(url).path}") as got:
            answer = got.status, await got.text()
        await self.app.settle()
        return answer

    async def wait(self, minutes: int) -> None:
        await self.app.advance_to(self.clock.now() + timedelta(minutes=minutes))


@pytest.fixture
async def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    smtp = await SmtpInbox().start()
    mattermost = FakeMattermost(users={uid: handle for handle, uid in IDS.items()})
    mattermost.users[BOT_ID] = "shipwatch"
    mattermost.channels = dict(CHANNELS)
    mattermost.members = {cid: {BOT_ID, *IDS.values()} for cid in CHANNELS.values()}
    api_url = await mattermost.start()
    # Where carol's mail goes, as the deployment gives it: in the environment.
    monkeypatch.setenv("CAROL_EMAIL_URL", smtp.url("carol@example.com"))
    settings = Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        action_link_secret="reach-anywhere-action-secret",  # type: ignore[arg-type]
        mattermost_url=api_url,
        mattermost_token="mm-bot-token",  # type: ignore[arg-type]
        mattermost_command_tokens=COMMAND_TOKEN,
        mattermost_team=TEAM,
    )
    config = load(DRILL)
    on_mattermost = {
        p.handle: p.identities["mattermost"]
        for p in config.directory.people.values()
        if "mattermost" in p.identities
    }
    assert on_mattermost == IDS
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    clock = VirtualClock(START)
    app = Application(
        settings=settings,
        config=config,
        engine=engine,
        clock=clock,
        adapters=adapters.build(settings, config),  # as `shipwatch run` builds them
        seed=0,  # the drills' seeded tokens
    )
    app.adapters["mattermost"].answer_within = 30.0  # type: ignore[attr-defined]
    runner, port = await serve(app, host="127.0.0.1", port=0)
    await app.start()
    async with aiohttp.ClientSession() as client:
        yield World(app, clock, mattermost, smtp, f"http://127.0.0.1:{port}", client)
    await app.stop()
    await runner.cleanup()
    await mattermost.stop()
    await smtp.stop()
    engine.dispose()


class Transcript:
    """What each person and channel received, as it arrived: the Mattermost posts (their
    buttons in brackets) and the mails (subject, then the text with its links), under the
    virtual time they arrived by. At one time: channels, then direct messages, then mail,
    each in the order sent (the same on every run and on either database)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lines: list[str] = []
        self.seen: set[str] = set()
        self.mails = 0

    def step(self, said: str) -> None:
        """What a person does next (what arrives after it is collected by ``collect``)."""
        self.collect()
        self.lines.append(f"-- {self.world.clock.now():%H:%M} {said}")

    async def wait(self, minutes: int) -> None:
        """Time passes, a minute at a time: what arrives shows under its minute."""
        for _ in range(minutes):
            self.collect()
            await self.world.wait(1)
            mark = len(self.lines)
            self.collect()
            if len(self.lines) > mark:
                self.lines.insert(mark, f"-- {self.world.clock.now():%H:%M}")

    def collect(self) -> None:
        world = self.world
        places = [(f"~{name} (Mattermost)", cid) for name, cid in CHANNELS.items()]
        places += [
            (f"@{handle}, direct message (Mattermost)", world.mattermost.direct_channel_of(uid))
            for handle, uid in IDS.items()
        ]
        for place, channel in places:
            new = [p for p in world.mattermost.posts_in(channel) if p.id not in self.seen]
            for post in new:
                self.seen.add(post.id)
                self.lines.append(f">>> {place}")
                self.lines += post.text.splitlines()
                if post.actions:
                    self.lines.append("   " + " ".join(f"[{a['name']}]" for a in post.actions))
        for mail in world.smtp.mails[self.mails :]:
            self.lines.append(f">>> {', '.join(mail.to)} (email)")
            self.lines.append(f"Subject: {mail.subject}")
            self.lines += [line for line in mail.text.splitlines() if line.strip()]
        self.mails = len(world.smtp.mails)

    def text(self) -> str:
        self.collect()
        return "\n".join(self.lines) + "\n"


def link(mail_text: str, label: str) -> str:
    [line] = [line for line in mail_text.splitlines() if line.startswith(f"{label}:")]
    [found] = LINK.findall(line)
    return found


async def test_bob_on_mattermost_and_carol_by_email_each_acknowledge_a_page(
    world: World, tmp_path: Path
) -> None:
    assert sorted(world.app.adapters) == ["email", "mattermost"], "as `shipwatch run` starts"
    told = Transcript(world)
    first = 'open "checkout returns 500" --sev P0 --service web'
    told.step(f"alice types in ~incidents: /incident {first}")
    said = await world.slash("/incident", first, user="alice", channel="incidents")
    assert "Incident #1 [P0] opened by @alice" in said

    # bob first: a direct message on Mattermost whose buttons call back to Shipwatch.
    [page] = world.dms("bob")
    assert "Page #1 P0 (web): #1 checkout returns 500" in page.text
    assert [a["name"] for a in page.actions] == ["Acknowledge", "Escalate"]
    for action in page.actions:
        assert action["integration"]["url"] == f"{PUBLIC_URL}/mattermost/actions"
        assert action["integration"]["context"], "the sealed action token"
    assert "/act/" not in page.text, "real buttons, not links"
    assert world.smtp.mails == []

    # Nobody answers in 5 minutes: carol is emailed, each button a one-time link.
    await told.wait(4)
    assert world.smtp.mails == []
    await told.wait(1)
    [mail] = world.smtp.mails
    assert mail.to == ["carol@example.com"]
    assert mail.subject == "📟 Page #1 P0 (web): #1 checkout returns 500 — from @alice"
    acknowledge = link(mail.text, "Acknowledge")
    assert acknowledge != link(mail.text, "Escalate")

    # carol opens the link (it asks first: a mail scanner's GET does nothing) and confirms.
    await told.wait(2)
    told.step("carol opens Acknowledge in her email, and confirms")
    status, asked = await world.open_link(acknowledge, method="GET")
    assert (status, "Run /ack 1 as Carol Wang?") == (200, _heading(asked))
    assert _state(world, 1) == ("open", None, "open")
    status, done = await world.open_link(acknowledge, method="POST")
    assert (status, _heading(done)) == (200, "Done: /ack 1")
    assert "its escalation has stopped" in done
    assert _state(world, 1) == ("acknowledged", "carol", "acknowledged")
    # The team's channel is told (on Mattermost, not as mail to a "#web"), and bob, who
    # is in it, reads it there: no direct message besides.
    web = [p.text for p in world.posts("web")]
    assert web == ["Page #1 (#1 checkout returns 500) acknowledged by @carol."]
    assert len(world.dms("bob")) == 1
    status, _ = await world.open_link(acknowledge, method="POST")
    assert status == 409, "one time only"
    told.collect()

    # A second P0; bob is at his desk this time and presses Acknowledge.
    await told.wait(1)
    second = 'open "search times out" --sev P0 --service web'
    told.step(f"alice types in ~incidents: /incident {second}")
    await world.slash("/incident", second, user="alice", channel="incidents")
    told.collect()
    page = world.dms("bob")[-1]
    assert "Page #2 P0 (web): #2 search times out" in page.text
    await told.wait(1)
    told.step("bob presses Acknowledge in his direct message")
    await world.press(page, "Acknowledge", user="bob")
    told.collect()
    assert _state(world, 2) == ("acknowledged", "bob", "acknowledged")
    assert world.dms("bob")[-1].text.startswith("You acknowledged page #2")
    assert world.posts("web")[-1].text == "Page #2 (#2 search times out) acknowledged by @bob."

    # Both escalations stopped: nobody else is paged, by either way, for either incident.
    await told.wait(15)
    assert len(world.smtp.mails) == 1, [m.subject for m in world.smtp.mails]
    assert world.dms("dave") == [], "the manager's step never came"
    paged = [p.text.splitlines()[0] for p in world.dms("bob") if "📟 Page" in p.text]
    assert [line.split(":")[0] for line in paged] == ["📟 Page #1 P0 (web)", "📟 Page #2 P0 (web)"]

    transcript = told.text()
    (tmp_path / TRANSCRIPT.name).write_text(transcript, "utf-8")
    assert transcript == TRANSCRIPT.read_text("utf-8"), (
        f"what people receive changed: the new transcript is {tmp_path / TRANSCRIPT.name}; "
        f"if it is right, copy it to {TRANSCRIPT.relative_to(ROOT)} and the README"
    )
    assert transcript in README.read_text("utf-8"), "the README shows the transcript"


def _heading(page: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page)
    return found.group(1) if found else ""


def _state(world: World, n: int) -> tuple[str, str | None, str]:
    """Page ``n``: its state, who acknowledged it, and its incident's state (#n too)."""
    with Session(world.app.engine) as session:
        page, incident = session.get(PageRow, n), session.get(IncidentRow, n)
        assert page is not None
        assert incident is not None
        assert page.incident_id == incident.id
        return page.state, page.acked_by, incident.state
