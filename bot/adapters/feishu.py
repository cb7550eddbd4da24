"""Feishu / Lark: custom bots (signed webhooks; 5 messages a second and 100 a minute each)
post interactive cards: a header coloured by severity, markdown, fields and link buttons."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.action_links import LinkSigner
from bot.adapters.base import Capabilities, Host
from bot.adapters.link_buttons import render, shorten
from bot.adapters.robots import SendLimit, feishu_sign, post_json, retry_after, take_turn
from bot.clock import Clock
from bot.config_robots import Robot
from bot.http_client import HttpClient
from bot.i18n import Translator
from playbooks.errors import AdapterError
from playbooks.messages import Message, Severity, t
from playbooks.people import Directory

PLATFORM = "feishu"
TEMPLATES = {
    Severity.INFO: "blue",
    Severity.SUCCESS: "green",
    Severity.WARNING: "orange",
    Severity.DANGER: "red",
}
# A wrong signature (19021), IP whitelist (19022) or keyword (19024), a bad or removed
# hook (19001): no retry can mend them.
PERMANENT = frozenset({19001, 19021, 19022, 19024})
THROTTLED = frozenset({9499, 11232})
THROTTLED_WAIT = 2.0


class FeishuAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        callback_buttons=False, edits=False, ephemeral=False, max_length=4000
    )

    def __init__(
        self,
        *,
        robots: Mapping[str, Robot],
        api_url: str,
        http: HttpClient,
        clock: Clock,
        signer: LinkSigner | None,
        directory: Directory,
    ) -> None:
        self._robots = dict(robots)
        self._api_url = api_url.rstrip("/")
        self._http = http
        self._clock = clock
        self._signer = signer
        self._directory = directory
        self._limits: dict[str, SendLimit] = {}

    def routes(self) -> list[web.RouteDef]:
        return []  # a custom bot only posts; commands reach Shipwatch on other platforms

    async def start(self, host: Host) -> None:
        return None

    async def stop(self) -> None:
        await self._http.close()

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        await self._send(self._robot(channel), message, tr, recipient=None)
        return None

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        return None  # robots cannot edit what they sent: revisions are posted anew

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        await self._send(self._robot(f"@{user_id}"), message, tr, recipient=user_id)
        return None

    def _robot(self, channel: str) -> Robot:
        robot = self._robots.get(channel)
        if robot is None:
            reason = f"no Feishu bot posts to {channel}; add one under feishu in robots.yaml"
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
        return robot

    async def _send(
        self, robot: Robot, message: Message, tr: Translator, *, recipient: str | None
    ) -> None:
        limit = self._limits.setdefault(
            robot.webhook,
            SendLimit(((5, timedelta(seconds=1)), (100, timedelta(minutes=1)))),
        )
        await take_turn(limit, self._clock, robot=f"the Feishu bot of {robot.channel}")
        url = robot.webhook
        if not url.startswith(("http://", "https://")):
            url = f"{self._api_url}/open-apis/bot/v2/hook/{url}"
        body: dict[str, Any] = {
            "msg_type": "interactive",
            "card": self.card(message, tr, recipient=recipient),
        }
        if robot.secret is not None:
            stamp = int(self._clock.now().timestamp())
            body = {"timestamp": str(stamp), "sign": feishu_sign(robot.secret, stamp), **body}
        status, answer, after = await post_json(self._http, url, body)
        _check(status, answer, after, name=robot.channel)

    def card(self, message: Message, tr: Translator, *, recipient: str | None) -> dict[str, Any]:
        rendered = render(
            message,
            tr,
            platform=PLATFORM,
            recipient=recipient,
            signer=self._signer,
            typed_prefix="",
        )
        elements: list[dict[str, Any]] = []
        text = [*rendered.body, *rendered.typed, *self._mentions(message, recipient)]
        if text:
            content = shorten("\n".join(text), self.capabilities.max_length)
            elements.append({"tag": "markdown", "content": content})
        if rendered.fields:
            fields = [
                {"is_short": True, "text": {"tag": "lark_md", "content": f"**{label}**\n{value}"}}
                for label, value in rendered.fields
            ]
            elements.append({"tag": "div", "fields": fields})
        if rendered.links:
            buttons = [
                {
                    "tag": "button",
                    "text": {"tag": "plain_text", "content": b.label},
                    "type": "primary" if b.primary else "default",
                    "url": b.url,
                }
                for b in rendered.links
            ]
            elements.append({"tag": "action", "actions": buttons})
        return {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": rendered.title},
                "template": TEMPLATES[message.severity],
            },
            "elements": elements,
        }

    def _mentions(self, message: Message, recipient: str | None) -> list[str]:
        ids = [recipient] if recipient else []
        for mention in message.mentions:
            person = self._directory.get(mention.lstrip("@"))
            user_id = person.identities.get(PLATFORM) if person else None
            if user_id and user_id not in ids:
                ids.append(user_id)
        return [" ".join(f"<at id={user_id}></at>" for user_id in ids)] if ids else []


def _check(status: int, answer: Any, after: str, *, name: str) -> None:
    """Feishu answers ``{"code": 0}`` (older bots ``{"StatusCode": 0}``) when delivered."""
    code = None
    message = ""
    if isinstance(answer, dict):
        code = answer.get("code", answer.get("StatusCode"))
        message = str(answer.get("msg", answer.get("StatusMessage", "")))[:200]
    if status == 429 or code in THROTTLED:
        reason = f"Feishu holds back the bot of {name} ({code or status}: {message})"
        raise AdapterError(
            t("delivery.failed", reason=reason), retry_after=retry_after(after, THROTTLED_WAIT)
        )
    if status >= 500 or code is None:
        raise AdapterError(t("delivery.failed", reason=f"Feishu answered {status}"))
    if code != 0:
        reason = f"Feishu refused the message to {name} ({code}: {message})"
        raise AdapterError(t("delivery.failed", reason=reason), permanent=code in PERMANENT)
