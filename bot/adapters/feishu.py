"""Feishu / Lark: custom bots (signed webhooks; 5 messages a second and 100 a minute each)
post interactive cards: a header coloured by severity, markdown, fields and link buttons;
the app's bot (``bot/adapters/feishu_app.py``) sends direct messages and answers commands
typed to it (``bot/adapters/feishu_events.py``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.action_links import LinkSigner
from bot.adapters import feishu_events
from bot.adapters.after_answer import AfterAnswer
from bot.adapters.base import Capabilities, Host, RoomMade, RoomRefused
from bot.adapters.feishu_app import FeishuApp
from bot.adapters.fitting import fit
from bot.adapters.inbound import Reply
from bot.adapters.link_buttons import feishu_text, render
from bot.adapters.members import Remembered
from bot.adapters.robots import (
    SendLimit,
    feishu_sign,
    hand_over,
    platform_ids,
    post_json,
    remember_hold,
    retry_after,
    take_turn,
    translator_of,
    wait_out_hold,
)
from bot.clock import Clock
from bot.config.robots import Robot
from bot.http_client import HttpClient
from bot.i18n import Translator
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import Message, Severity, t
from playbooks.people import Directory

log = logging.getLogger("shipwatch.adapters.feishu")
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


@dataclass(frozen=True, slots=True)
class FeishuLimits:
    """What one Feishu message holds (open.feishu.cn, "custom bot" and "send message"):
    a custom bot's request body at most 20 KB, an app's card 30 KB; a card is kept within
    the smaller, less room for the signature and envelope."""

    card_bytes: int = 19_000


LIMITS = FeishuLimits()


class FeishuAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        callback_buttons=False,
        edits=True,  # the app's own messages (PATCH); a custom bot's have no reference
        ephemeral=False,
        max_length=LIMITS.card_bytes,
        conversations_at_once=4,
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
        app: FeishuApp | None = None,
        verification_token: str | None = None,
        max_body_bytes: int = 64 * 1024,
        default_locale: str = "en",
    ) -> None:
        self._default_locale = default_locale  # SHIPWATCH_LOCALE, for callers naming none
        self._robots = dict(robots)
        self._by_conversation = {
            r.conversation: r.channel for r in robots.values() if r.conversation
        }
        self._app = app
        self._verification_token = verification_token
        self._max_body_bytes = max_body_bytes
        self._host: Host | None = None
        self._api_url = api_url.rstrip("/")
        self._http = http
        self._after_answer = AfterAnswer()
        self._clock = clock
        self._signer = signer
        self._directory = directory
        self._limits: dict[str, SendLimit] = {}
        self._members: Remembered[frozenset[str]] = Remembered()

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/feishu/events", self._events)]

    async def start(self, host: Host) -> None:
        self._host = host

    async def stop(self) -> None:
        await self._after_answer.stop()
        self._host = None
        await self._http.close()

    async def settled(self) -> None:
        """Until the commands taken on from callbacks so far have run and been answered."""
        await self._after_answer.settled()

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        if channel not in self._robots and self._app is not None and channel[:1] not in "#@":
            card = self.card(message, tr, recipient=None)
            return await self._app.send(channel, card, id_type="chat_id")
        await self._send(self._robot(channel), message, tr, recipient=None)
        return None

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        # Only what the app sent has a reference, and only that can be edited: a custom
        # bot's posts come back with none, so their revisions are posted anew.
        if self._app is None:
            return None
        return await self._app.update(ref, self.card(message, tr, recipient=None))

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        if f"@{user_id}" not in self._robots and self._app is not None:
            card = self.card(message, tr, recipient=user_id, at_recipient=False)
            return await self._app.send(user_id, card, id_type="open_id")
        await self._send(self._robot(f"@{user_id}"), message, tr, recipient=user_id)
        return None

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        """Through the app, for a chat named by its chat_id or by a robot that names its
        chat (robots.yaml conversation:); robots alone cannot say (people.yaml answers)."""
        robot = self._robots.get(channel_id)
        chat = robot.conversation if robot is not None else channel_id
        if self._app is None or not chat or chat[:1] in "#@":
            return None
        app = self._app
        members = await self._members.get(chat, lambda: app.chat_members(chat))
        return None if members is None else user_id in members

    # --- incident rooms: a group the app creates; custom bots cannot -------------------------

    async def open_room(
        self, name: str, *, topic: str, summary: Message, tr: Translator
    ) -> RoomMade:
        """A private group chat named as on every platform, described by the incident's
        title; the summary posted there and pinned (best effort)."""
        if self._app is None:
            raise RoomRefused("a custom bot cannot create chats; set up the Feishu app")
        try:
            chat = await self._app.create_chat(name=name, description=topic, members=[])
        except AdapterError as error:
            if error.permanent:
                raise RoomRefused(str(error.text.params.get("reason", "refused"))) from None
            raise
        ref = await self.post(chat, summary, tr=tr)
        if ref:
            try:
                await self._app.pin(ref)
            except AdapterError as error:
                log.warning("room summary not pinned", extra={"reason": error.text.key})
        return RoomMade(chat, ref)

    async def invite_to_room(
        self, room_id: str, user_ids: Sequence[str], *, tr: Translator
    ) -> None:
        if self._app is None:
            return
        try:
            await self._app.add_members(room_id, list(user_ids))
        except AdapterError as error:
            if error.permanent:
                raise RoomRefused(str(error.text.params.get("reason", "refused"))) from None
            raise

    async def close_room(self, room_id: str, *, tr: Translator) -> None:
        if self._app is None:
            return
        try:
            await self._app.only_owner_speaks(room_id)
        except AdapterError as error:
            if error.permanent:
                raise RoomRefused(str(error.text.params.get("reason", "refused"))) from None
            raise

    def reaches(self, user_id: str) -> bool:
        """Whether a direct message to ``user_id`` has a way to go: their own bot, or the app."""
        return f"@{user_id}" in self._robots or self._app is not None

    # --- inbound ---------------------------------------------------------------------------

    async def _events(self, request: web.Request) -> web.Response:
        event = await feishu_events.read(
            request,
            verification_token=self._verification_token,
            max_bytes=self._max_body_bytes,
            translator=self._translator,
            default_locale=self._default_locale,
            handle_of=self._handle_of,
        )
        if isinstance(event, web.Response):
            return event
        if isinstance(event, feishu_events.Challenge):
            return web.json_response({"challenge": event.challenge})
        if event.line is None or self._host is None:
            return web.json_response({})
        channel = self._by_conversation.get(event.chat_id, event.chat_id)
        # Feishu re-sends an event it has no answer to within 3 s: answer now, work after.
        self._after_answer.typed(
            self._host,
            platform=PLATFORM,
            user_id=event.user_id,
            channel=channel,
            line=event.line,
            event_id=event.event_id,
            conversation=event.chat_id,
            answer=lambda reply: self._answer(event, channel, reply),
        )
        return web.json_response({})

    async def _answer(self, event: feishu_events.MessageEvent, channel: str, reply: Reply) -> None:
        recipient = event.user_id if event.direct else None
        try:
            if self._app is not None:
                card = self.card(reply.message, reply.tr, recipient=recipient, at_recipient=False)
                await self._app.send(event.chat_id, card, id_type="chat_id")
            else:
                await self._send(self._robot(channel), reply.message, reply.tr, recipient=None)
        except Throttled:
            await hand_over(self._host, PLATFORM, channel, reply, log=log)
        except AdapterError as error:
            reason = error.text.params.get("reason")
            log.warning("reply not delivered", extra={"channel": channel, "reason": reason})

    def _translator(self, locale: str) -> Translator:
        return translator_of(self._host, locale)

    def _handle_of(self, open_id: str) -> str | None:
        person = self._directory.by_identity(PLATFORM, open_id)
        return person.handle if person else None

    def _robot(self, channel: str) -> Robot:
        robot = self._robots.get(channel)
        if robot is None:
            reason = f"no Feishu bot posts to {channel}; add one under feishu in robots.yaml"
            if channel.startswith("@"):
                reason += " or set SHIPWATCH_FEISHU_APP_ID so the app's bot sends direct messages"
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
        return robot

    async def _send(
        self, robot: Robot, message: Message, tr: Translator, *, recipient: str | None
    ) -> None:
        limit = self._limits.setdefault(
            robot.webhook,
            SendLimit(((5, timedelta(seconds=1)), (100, timedelta(minutes=1)))),
        )
        name = f"the Feishu bot of {robot.channel}"
        hold_key = f"{PLATFORM}:{robot.channel}"  # the bot's name: its hook URL is a secret
        await wait_out_hold(self._host, hold_key, robot=name)
        await take_turn(limit, self._clock, robot=name)
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
        try:
            _check(status, answer, after, name=robot.channel)
        except Throttled as error:
            await remember_hold(self._host, hold_key, error)
            raise

    def card(
        self, message: Message, tr: Translator, *, recipient: str | None, at_recipient: bool = True
    ) -> dict[str, Any]:
        rendered = render(
            message,
            tr,
            platform=PLATFORM,
            recipient=recipient,
            signer=self._signer,
            # In a group the app's bot hears only messages that mention it.
            typed_prefix="@Shipwatch " if self._verification_token else "",
            escape=feishu_text,
        )
        elements: list[dict[str, Any]] = []
        mentioned = self._mentions(message, recipient if at_recipient else None)
        body = list(rendered.body)
        fields = rendered.fields
        if _json_bytes(fields) > LIMITS.card_bytes // 2:
            # Fields that would crowd out the rest become lines of the text, which is
            # shortened, with a note, where the card would be too big.
            body += [f"**{label}**: {value}" for label, value in fields]
            fields = []
        text = [*body, *rendered.typed, *mentioned]
        if text:
            elements.append({"tag": "markdown", "content": "\n".join(text)})
        if fields:
            columns = [
                {"is_short": True, "text": {"tag": "lark_md", "content": f"**{label}**\n{value}"}}
                for label, value in fields
            ]
            elements.append({"tag": "div", "fields": columns})
        if message.image and self._host is not None:
            # A custom bot's card shows only images uploaded to Feishu: link the chart.
            link = f"[{tr(t('chart.link'))}]({self._host.chart_url(message.image)})"
            elements.append({"tag": "markdown", "content": link})
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
        card = {
            # A shared card: the app may edit it later for everyone in the chat (a
            # progress report refreshed in place).
            "config": {"wide_screen_mode": True, "update_multi": True},
            "header": {
                "title": {"tag": "plain_text", "content": rendered.title},
                "template": TEMPLATES[message.severity],
            },
            "elements": elements,
        }
        if text and _json_bytes(card) > LIMITS.card_bytes:
            # Everything but the text, then the text fitted into what room is left: the
            # commands to type and the mentions are kept, the body shortened with a note.
            content = elements[0]
            content["content"] = ""
            room = LIMITS.card_bytes - _json_bytes(card)
            kept = fit(
                [],
                body,
                [*rendered.typed, *mentioned],
                limit=room,
                joiner="\n",
                note=lambda lines: feishu_text(tr(t("links.left_out", lines=lines))),
                measure=_json_bytes,
            )
            content["content"] = "\n".join(kept)
        return card

    def _mentions(self, message: Message, recipient: str | None) -> list[str]:
        ids = platform_ids(self._directory, PLATFORM, message.mentions, first=recipient)
        return [" ".join(f"<at id={user_id}></at>" for user_id in ids)] if ids else []


def _json_bytes(value: Any) -> int:
    """How many bytes ``value`` adds to a JSON request body."""
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _check(status: int, answer: Any, after: str, *, name: str) -> None:
    """Feishu answers ``{"code": 0}`` (older bots ``{"StatusCode": 0}``) when delivered."""
    code = None
    message = ""
    if isinstance(answer, dict):
        code = answer.get("code", answer.get("StatusCode"))
        message = str(answer.get("msg", answer.get("StatusMessage", "")))[:200]
    if status == 429 or code in THROTTLED:
        reason = f"Feishu holds back the bot of {name} ({code or status}: {message})"
        raise Throttled(
            t("delivery.failed", reason=reason), retry_after=retry_after(after, THROTTLED_WAIT)
        )
    if status >= 500 or code is None:
        raise AdapterError(t("delivery.failed", reason=f"Feishu answered {status}"))
    if code != 0:
        reason = f"Feishu refused the message to {name} ({code}: {message})"
        raise AdapterError(t("delivery.failed", reason=reason), permanent=code in PERMANENT)
