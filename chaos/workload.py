"""The client side: Alertmanager notifications, slash commands and button presses sent to the
bot over HTTP, and what it acknowledged. A notification not answered 2xx is sent again, as
Alertmanager does, and a group's next notification waits until its last one was answered."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from chaos.bot_process import ALERTMANAGER_TOKEN, SIGNING_SECRET
from chaos.platform import ChaosSlack
from tests.fakes.alertmanager import alert, notification

SERVICES = [f"svc-{n:02d}" for n in range(1, 41)]
RESPONDERS = ("U0BOB", "U0CAROL")
REQUEST_TIMEOUT = 15.0
# Half P1 (critical), a quarter P0 (page), a quarter P2 (warning, pages nobody).
LABELS = (
    {"severity": "critical"},
    {"severity": "critical"},
    {"page": "true"},
    {"severity": "warning"},
)
PAGE = re.compile(r"Page #(\d+)\b")


@dataclass
class Group:
    """One Alertmanager group the harness fires, updates and resolves."""

    name: str
    service: str
    labels: dict[str, str]
    instances: int = 1
    status: str = "firing"
    unanswered: dict[str, Any] | None = None  # a body still to be answered 2xx

    def body(self) -> dict[str, Any]:
        alerts = [
            alert(
                self.name,
                status=self.status,
                service=self.service,
                instance=f"i-{n}",
                **self.labels,
            )
            for n in range(self.instances)
        ]
        return notification(*alerts, group_by=("alertname", "service"))


@dataclass
class Answered:
    """A notification the bot answered 2xx: what it said it did."""

    group_key: str
    status: str
    answer: dict[str, Any]


@dataclass
class Command:
    """A slash command or button press; its reply comes to ``reply_id``'s response URL."""

    reply_id: str
    kind: str  # ack | press | list
    page_id: int | None
    sent_at: float


@dataclass
class Workload:
    rng: random.Random
    fake: ChaosSlack
    base_url: str = ""
    groups: list[Group] = field(default_factory=list)
    answered: list[Answered] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    notifications_sent: int = 0
    cut_off: int = 0  # requests whose answer never came (the bot was killed under them)
    refused: list[str] = field(default_factory=list)  # 4xx: a harness or bot bug
    request_sent: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False

    async def run(self, client: aiohttp.ClientSession) -> None:
        """Send traffic until ``stop()``: a few requests a second, of every kind."""
        self._stopping = False
        while not self._stopping:
            await self.one(client)
            await asyncio.sleep(self.rng.uniform(0.02, 0.25))  # pacing, not a timer wait

    def stop(self) -> None:
        self._stopping = True

    async def one(self, client: aiohttp.ClientSession) -> None:
        roll = self.rng.random()
        idle = [g for g in self.groups if g.unanswered is None and g.status == "firing"]
        if roll < 0.40 or not idle:
            await self._new_group(client)
        elif roll < 0.52:
            await self._notify(client, self.rng.choice(idle))  # a repeat: nothing changed
        elif roll < 0.62:
            group = self.rng.choice(idle)
            group.instances += 1
            await self._notify(client, group)
        elif roll < 0.78:
            group = self.rng.choice(idle)
            group.status = "resolved"
            await self._notify(client, group)
        elif roll < 0.88:
            await self._press(client)
        elif roll < 0.96:
            await self._ack(client)
        else:
            await self._command(client, "/incident", "list", kind="list", page_id=None)

    async def resend_unanswered(self, client: aiohttp.ClientSession) -> int:
        """Every notification not yet answered 2xx, once more; how many are still not."""
        for group in [g for g in self.groups if g.unanswered is not None]:
            await self._post(client, group, group.unanswered or {})
        return sum(1 for g in self.groups if g.unanswered is not None)

    async def _new_group(self, client: aiohttp.ClientSession) -> None:
        labels = self.rng.choice(
            [
                {"severity": "critical"},
                {"severity": "critical"},
                {"page": "true"},
                {"severity": "warning"},
            ]
        )
        group = Group(f"Chaos{len(self.groups) + 1}", self.rng.choice(SERVICES), labels)
        self.groups.append(group)
        await self._notify(client, group)

    async def _notify(self, client: aiohttp.ClientSession, group: Group) -> None:
        group.unanswered = group.body()
        await self._post(client, group, group.unanswered)

    async def _post(
        self, client: aiohttp.ClientSession, group: Group, body: dict[str, Any]
    ) -> None:
        self.notifications_sent += 1
        headers = {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}
        try:
            request = client.post(f"{self.base_url}/hooks/alertmanager", json=body, headers=headers)
            self.request_sent.set()
            async with request as response:
                answer = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
            self.cut_off += 1
            return
        if status >= 500:
            return  # nothing was stored; Alertmanager sends it again later
        if status >= 400:
            self.refused.append(f"{status} {answer} for {body['groupKey']}")
            group.unanswered = None
            return
        group.unanswered = None
        self.answered.append(Answered(body["groupKey"], body["status"], answer))

    def _pages_delivered(self) -> list[int]:
        return [
            int(m.group(1))
            for a in self.fake.arrivals
            if a.channel.startswith("U") and (m := PAGE.search(a.text))
        ]

    async def _ack(self, client: aiohttp.ClientSession) -> None:
        pages = self._pages_delivered()
        if pages:
            page_id = self.rng.choice(pages)
            await self._command(client, "/ack", str(page_id), kind="ack", page_id=page_id)

    async def _press(self, client: aiohttp.ClientSession) -> None:
        """Acknowledge from a page's direct message, with the button's own token."""
        buttons = [
            (a.channel, int(m.group(1)), element["action_id"])
            for a in self.fake.arrivals
            if a.channel.startswith("U") and (m := PAGE.search(a.text))
            for block in a.blocks
            if block.get("type") == "actions"
            for element in block["elements"]
            if element["text"]["text"] == "Acknowledge"
        ]
        if not buttons:
            return
        user, page_id, token = self.rng.choice(buttons)
        reply_id = f"press-{len(self.commands) + 1}"
        payload = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "channel": {"id": f"D{user}"},
            "container": {"type": "message", "message_ts": "1700000000.000100"},
            "trigger_id": reply_id,
            "response_url": self.fake.response_url(reply_id),
            "actions": [
                {
                    "type": "button",
                    "action_id": token,
                    "block_id": "b1",
                    "value": token,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        self.commands.append(Command(reply_id, "press", page_id, time.time()))
        await self._signed(client, urlencode({"payload": json.dumps(payload)}))

    async def _command(
        self,
        client: aiohttp.ClientSession,
        command: str,
        text: str,
        *,
        kind: str,
        page_id: int | None,
    ) -> None:
        reply_id = f"{kind}-{len(self.commands) + 1}"
        form = {
            "token": "legacy",
            "team_id": "T1",
            "channel_id": "C0OPS",
            "user_id": self.rng.choice(RESPONDERS),
            "command": command,
            "text": text,
            "response_url": self.fake.response_url(reply_id),
            "trigger_id": reply_id,
            "api_app_id": "A1",
        }
        self.commands.append(Command(reply_id, kind, page_id, time.time()))
        await self._signed(client, urlencode(form))

    async def _signed(self, client: aiohttp.ClientSession, body: str) -> None:
        stamp = str(int(time.time()))
        digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest.hexdigest()}",
        }
        try:
            async with client.post(
                f"{self.base_url}/slack/events", data=body.encode(), headers=headers
            ) as response:
                await response.read()
                if response.status >= 400:
                    self.refused.append(f"{response.status} for a Slack request")
        except (aiohttp.ClientError, TimeoutError):
            self.cut_off += 1


def client_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
