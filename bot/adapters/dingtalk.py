"""DingTalk: custom robots (signed webhooks, 20 messages a minute each) post markdown and
actionCard messages; the enterprise robot's callback (``bot/adapters/dingtalk_callback.py``)
brings commands in and is answered through the message's session webhook; the app's robot
(``bot/adapters/dingtalk_app.py``) sends direct messages to people without a robot of
their own."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote_plus

from aiohttp import web

from bot.action_links import LinkSigner
from bot.adapters import dingtalk_callback
from bot.adapters.after_answer import AfterAnswer
from bot.adapters.base import Capabilities, Host
from bot.adapters.dingtalk_app import DingTalkApp
from bot.adapters.fitting import fit
from bot.adapters.inbound import Reply
from bot.adapters.link_buttons import COLOURS, Rendered, dingtalk_text, render, shorten
from bot.adapters.robots import (
    SendLimit,
    dingtalk_sign,
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
from playbooks.messages import Message, t
from playbooks.people import Directory

log = logging.getLogger("shipwatch.adapters.dingtalk")
PLATFORM = "dingtalk"
PER_MINUTE = 20
# Errors that no retry can mend: a wrong keyword, signature or IP whitelist (310000), a
# robot token that does not exist or was removed (300001, 300005), a dissolved group.
PERMANENT = frozenset({300001, 300005, 310000, 400013, 400101})
# "Send too fast": the robot is held back a while. Past 20 messages a minute DingTalk
# answers 410100 and holds the robot for ten minutes; a wait, never a failure.
BLOCKED = 410100
THROTTLED = frozenset({130101, 130102, BLOCKED})
THROTTLED_WAIT = 60.0
BLOCKED_WAIT = 600.0


@dataclass(frozen=True, slots=True)
class DingTalkLimits:
    """What one DingTalk robot message holds (open.dingtalk.com, "custom robot" and
    "message types"): a markdown or actionCard text kept to 5,000 characters (the
    documented body limit is 20,000 bytes; Chinese text is three bytes a character), a
    title of which a notification shows about 60."""

    text_chars: int = 5000
    title_chars: int = 60


LIMITS = DingTalkLimits()


@dataclass(frozen=True, slots=True)
class Target:
    """Where one message goes: a robot's signed webhook, or a session webhook."""

    url: str
    name: str  # for errors and logs, never the URL (it carries the token)
    secret: str | None
    recipient: str | None  # the one reader (links are issued to them), None for a group
    limited: bool


class DingTalkAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        callback_buttons=False,
        edits=False,
        ephemeral=False,
        max_length=LIMITS.text_chars,
        conversations_at_once=4,
    )

    def __init__(
        self,
        *,
        robots: Mapping[str, Robot],
        app_secret: str | None,
        api_url: str,
        http: HttpClient,
        clock: Clock,
        signer: LinkSigner | None,
        directory: Directory,
        app: DingTalkApp | None = None,
        max_body_bytes: int = 64 * 1024,
        default_locale: str = "en",
    ) -> None:
        self._default_locale = default_locale  # SHIPWATCH_LOCALE, for callers naming none
        self._robots = dict(robots)
        self._by_conversation = {
            r.conversation: r.channel for r in robots.values() if r.conversation
        }
        self._app_secret = app_secret
        self._app = app
        self._api_url = api_url.rstrip("/")
        self._http = http
        self._after_answer = AfterAnswer()
        self._clock = clock
        self._signer = signer
        self._directory = directory
        self._max_body_bytes = max_body_bytes
        self._limits: dict[str, SendLimit] = {}
        self._sessions = dingtalk_callback.Sessions()
        self._signatures = dingtalk_callback.Signatures()
        self._host: Host | None = None

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/dingtalk/callback", self._callback)]

    async def start(self, host: Host) -> None:
        self._host = host

    def _translator(self, locale: str) -> Translator:
        return translator_of(self._host, locale)

    async def stop(self) -> None:
        await self._after_answer.stop()
        self._host = None
        await self._http.close()

    async def settled(self) -> None:
        """Until the commands taken on from callbacks so far have run and been answered."""
        await self._after_answer.settled()

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        await self._send(self._channel_target(channel), message, tr)
        return None

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        return None  # robots cannot edit what they sent: revisions are posted anew

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        if f"@{user_id}" not in self._robots and self._app is not None:
            body = self._body(message, tr, recipient=user_id, at_recipient=False)
            await self._app.send(user_id, body)
            return None
        await self._send(self._direct_target(user_id), message, tr)
        return None

    def reaches(self, user_id: str) -> bool:
        """Whether a direct message to ``user_id`` has a lasting way to go: their own robot,
        or the app's robot. A one-to-one session answers them, but it lives in memory and
        expires, so a page chosen for it could die later; it does not count here."""
        return f"@{user_id}" in self._robots or self._app is not None

    # --- inbound ---------------------------------------------------------------------------

    async def _callback(self, request: web.Request) -> web.Response:
        checked = await dingtalk_callback.read(
            request,
            app_secret=self._app_secret,
            now=self._clock.now(),
            max_bytes=self._max_body_bytes,
            translator=self._translator,
            default_locale=self._default_locale,
            session_base=self._api_url,
            seen=self._signatures,
        )
        if isinstance(checked, web.Response):
            return checked
        if checked.line is None or self._host is None:
            return web.json_response({})
        self._sessions.remember(checked)
        channel = self._by_conversation.get(checked.conversation_id, checked.conversation_id)
        # DingTalk waits a few seconds for the callback's answer: answer now, work after
        # (the reply goes through the message's session webhook either way).
        self._after_answer.typed(
            self._host,
            platform=PLATFORM,
            user_id=checked.user_id,
            channel=channel,
            line=checked.line,
            event_id=checked.msg_id,
            conversation=checked.conversation_id,
            answer=lambda reply: self._answer(checked, channel, reply),
        )
        return web.json_response({})

    async def _answer(self, msg: dingtalk_callback.Callback, channel: str, reply: Reply) -> None:
        recipient = msg.user_id if msg.direct else None
        try:
            if msg.session_webhook and msg.session_expires > self._clock.now():
                target = Target(msg.session_webhook, "session", None, recipient, limited=False)
            else:
                target = self._channel_target(channel)
            await self._send(target, reply.message, reply.tr)
        except Throttled:
            await hand_over(self._host, PLATFORM, channel, reply, log=log)
        except AdapterError as error:
            reason = error.text.params.get("reason")
            log.warning("reply not delivered", extra={"channel": channel, "reason": reason})

    # --- outbound --------------------------------------------------------------------------

    def _channel_target(self, channel: str) -> Target:
        robot = self._robots.get(channel)
        if robot is not None:
            return self._robot_target(robot, recipient=None)
        session = self._sessions.for_conversation(channel, self._clock.now())
        if session is not None:
            return Target(session, "session", None, None, limited=False)
        raise _no_robot(channel)

    def _direct_target(self, user_id: str) -> Target:
        robot = self._robots.get(f"@{user_id}")
        if robot is not None:
            return self._robot_target(robot, recipient=user_id)
        session = self._sessions.for_person(user_id, self._clock.now())
        if session is not None:
            return Target(session, "session", None, user_id, limited=False)
        reason = (
            f"no way to reach {user_id} directly on DingTalk; set SHIPWATCH_DINGTALK_APP_KEY "
            f'so the app\'s robot sends direct messages, or add a robot "@{user_id}" under '
            "dingtalk in robots.yaml"
        )
        raise AdapterError(t("delivery.failed", reason=reason), permanent=True)

    def _robot_target(self, robot: Robot, *, recipient: str | None) -> Target:
        url = robot.webhook
        if not url.startswith(("http://", "https://")):
            url = f"{self._api_url}/robot/send?access_token={url}"
        return Target(url, robot.channel, robot.secret, recipient, limited=True)

    async def _send(self, target: Target, message: Message, tr: Translator) -> None:
        robot = f"the DingTalk robot of {target.name}"
        hold_key = f"{PLATFORM}:{target.name}"  # the robot's name: its URL holds its token
        if target.limited:
            await wait_out_hold(self._host, hold_key, robot=robot)
            # The minute's count stays in memory (a table written on every send would be
            # hot); the platform's answer past it, the ten-minute block, is shared.
            limit = self._limits.setdefault(
                target.url, SendLimit(((PER_MINUTE, timedelta(minutes=1)),))
            )
            await take_turn(limit, self._clock, robot=robot)
        url = target.url
        if target.secret is not None:
            stamp = int(self._clock.now().timestamp() * 1000)
            sign = quote_plus(dingtalk_sign(target.secret, stamp))
            url = f"{url}{'&' if '?' in url else '?'}timestamp={stamp}&sign={sign}"
        body = self._body(message, tr, recipient=target.recipient)
        status, answer, after = await post_json(self._http, url, body)
        try:
            _check(status, answer, after, name=target.name)
        except Throttled as error:
            if target.limited:
                await remember_hold(self._host, hold_key, error)
            raise

    def _body(
        self, message: Message, tr: Translator, *, recipient: str | None, at_recipient: bool = True
    ) -> dict[str, Any]:
        prefix = "@Shipwatch " if self._app_secret else ""
        rendered = render(
            message,
            tr,
            platform=PLATFORM,
            recipient=recipient,
            signer=self._signer,
            typed_prefix=prefix,
            escape=dingtalk_text,
        )
        title = shorten(rendered.title, LIMITS.title_chars)

        def note(lines: int) -> str:
            return dingtalk_text(tr(t("links.left_out", lines=lines)))

        chart = self._host.chart_url(message.image) if message.image and self._host else None
        if rendered.links:  # an actionCard cannot @ anyone; it goes to its reader alone
            buttons = [{"title": b.label, "actionURL": b.url} for b in rendered.links]
            text = _markdown(rendered, message, [], note=note, chart=chart)
            card = {"title": title, "text": text, "btnOrientation": "1", "btns": buttons}
            return {"msgtype": "actionCard", "actionCard": card}
        at_ids, at_mobiles = self._mentions(message, recipient if at_recipient else None)
        text = _markdown(rendered, message, [*at_ids, *at_mobiles], note=note, chart=chart)
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": text},
            "at": {"atUserIds": at_ids, "atMobiles": at_mobiles, "isAtAll": False},
        }

    def _mentions(self, message: Message, recipient: str | None) -> tuple[list[str], list[str]]:
        """Handles become DingTalk user ids; a "+86…" mention is a mobile number."""
        mobiles = [m.lstrip("+") for m in message.mentions if m.startswith("+")]
        handles = [m for m in message.mentions if not m.startswith("+")]
        return platform_ids(self._directory, PLATFORM, handles, first=recipient), mobiles


def _markdown(
    rendered: Rendered,
    message: Message,
    mentions: list[str],
    *,
    note: Callable[[int], str],
    chart: str | None = None,
) -> str:
    """The message as DingTalk markdown within its length. What must not be lost (the
    heading, the chart, the commands to type, the @mentions) is kept whole; a long body is
    shortened with a line saying how much was left out."""
    colour = COLOURS[message.severity]
    title = f'<font color="{colour}">{rendered.heading}</font>' if colour else rendered.heading
    body = [*rendered.body, *(f"**{label}**: {value}" for label, value in rendered.fields)]
    tail = [f"![chart]({chart})"] if chart else []  # DingTalk shows an image by its URL
    tail += rendered.typed
    if mentions:
        tail.append(" ".join(f"@{m}" for m in mentions))

    def hard_breaks(parts: list[str]) -> list[str]:
        # A line break inside a block must be a hard break in DingTalk's markdown.
        return [part.replace("\n", "  \n") for part in parts]

    parts = fit(
        hard_breaks([f"#### {title}"]),
        hard_breaks(body),
        hard_breaks(tail),
        limit=LIMITS.text_chars,
        joiner="\n\n",
        note=note,
    )
    return "\n\n".join(parts)


def _check(status: int, answer: Any, after: str, *, name: str) -> None:
    """DingTalk answers 200 with an errcode; 0 is delivered."""
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    errmsg = str(answer.get("errmsg", ""))[:200] if isinstance(answer, dict) else ""
    if status == 429 or errcode in THROTTLED:
        reason = f"DingTalk holds back the robot of {name} ({errcode or status}: {errmsg})"
        default = BLOCKED_WAIT if errcode == BLOCKED else THROTTLED_WAIT
        raise Throttled(
            t("delivery.failed", reason=reason), retry_after=retry_after(after, default)
        )
    if status >= 500 or (status == 200 and errcode is None):
        raise AdapterError(t("delivery.failed", reason=f"DingTalk answered {status}"))
    if status != 200:
        raise AdapterError(
            t("delivery.failed", reason=f"DingTalk answered {status}"),
            permanent=400 <= status < 500,
        )
    if errcode != 0:
        reason = f"DingTalk refused the message to {name} ({errcode}: {errmsg})"
        raise AdapterError(t("delivery.failed", reason=reason), permanent=errcode in PERMANENT)


def _no_robot(channel: str) -> AdapterError:
    reason = f"no DingTalk robot posts to {channel}; add one under dingtalk in robots.yaml"
    return AdapterError(t("delivery.failed", reason=reason), permanent=True)
