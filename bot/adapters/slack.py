"""Slack through slack-bolt's AsyncApp: slash commands, mentions and button presses in,
Block Kit out. HTTP mode serves ``POST /slack/events``; Socket Mode connects out when an
app-level token is set. No Slack type leaves this module."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from aiohttp import ClientError, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters import slack_blocks
from bot.adapters.base import Capabilities, Host, RoomMade, RoomRefused
from bot.adapters.inbound import command_line, mentioned_line, run, typed
from bot.adapters.members import Remembered
from bot.adapters.slack_inbound import bolt_request
from bot.errors import StartupError
from bot.http_input import request_locale
from bot.i18n import Translator
from bot.settings import Settings
from commands.core.invocations import ButtonPress, CommandInvocation
from playbooks.effects import Conversation
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import Message, t
from playbooks.people import Directory

PLATFORM = "slack"
log = logging.getLogger("shipwatch.slack")

# Errors that no retry can mend: the message is set aside for an admin at once.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "user_not_found",
        "cannot_dm_bot",
        "invalid_blocks",
        "msg_too_long",
        "restricted_action",
    }
)

MEMBER_PAGES = 20  # of 1,000 members each: past that, a channel is not listed

# A message that can no longer be edited is posted anew instead.
UNEDITABLE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class SlackAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        callback_buttons=True,
        edits=True,
        ephemeral=True,
        max_length=3000,
        conversations_at_once=4,
    )

    def __init__(
        self,
        *,
        bot_token: str,
        signing_secret: str | None,
        app_token: str | None,
        api_url: str,
        directory: Directory,
    ) -> None:
        self._directory = directory
        self._app_token = app_token
        self._signed = signing_secret is not None
        self._client = AsyncWebClient(token=bot_token, base_url=api_url)
        self._bolt = AsyncApp(
            client=self._client,
            signing_secret=signing_secret,
            # Socket Mode requests come over our own authenticated connection; without a
            # signing secret there is no HTTP route at all (see routes()).
            request_verification_enabled=signing_secret is not None,
            logger=log,
        )
        self._bolt.command(re.compile(r"^/"))(self._on_command)
        self._bolt.action(re.compile(r".+"))(self._on_action)
        self._bolt.event("app_mention")(self._on_mention)
        self._host: Host | None = None
        self._socket: Any = None
        self._members: Remembered[frozenset[str]] = Remembered()

    @classmethod
    def from_settings(cls, settings: Settings, *, directory: Directory) -> SlackAdapter:
        assert settings.slack_bot_token is not None
        secret = settings.slack_signing_secret
        app_token = settings.slack_app_token
        if secret is None and app_token is None:
            raise StartupError(
                "SHIPWATCH_SLACK_BOT_TOKEN is set but neither SHIPWATCH_SLACK_SIGNING_SECRET "
                "(HTTP mode) nor SHIPWATCH_SLACK_APP_TOKEN (Socket Mode) is; set one."
            )
        return cls(
            bot_token=settings.slack_bot_token.get_secret_value(),
            signing_secret=secret.get_secret_value() if secret else None,
            app_token=app_token.get_secret_value() if app_token else None,
            api_url=settings.slack_api_url,
            directory=directory,
        )

    # --- lifecycle ------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        # Only a signing secret proves a request came from Slack: Socket Mode alone serves
        # nothing over HTTP, or anyone could post a command as anyone.
        return [web.post("/slack/events", self._events)] if self._signed else []

    async def start(self, host: Host) -> None:
        self._host = host
        if self._app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self._bolt, self._app_token)
            await self._socket.connect_async()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        self._host = None

    # --- in -------------------------------------------------------------------------------

    async def _events(self, request: web.Request) -> web.Response:
        if self._host is None:
            return web.json_response({"error": "starting"}, status=503)
        # Bolt checks the signature and its 5-minute window, answers url_verification, and
        # acknowledges before our listener runs, inside Slack's 3 seconds.
        tr = self._host.translator(request_locale(request, "en"))
        checked = await bolt_request(request, tr)
        if isinstance(checked, web.Response):
            log.warning("slack request refused: unreadable body", extra={"status": checked.status})
            return checked
        response = await self._bolt.async_dispatch(checked)
        if response.status == 401:
            log.warning("slack request refused: signature missing, wrong or stale")
        return await to_aiohttp_response(response)

    async def _on_command(self, ack: Any, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        text = slack_blocks.unescape(str(body.get("text", "")))
        line = command_line(str(body.get("command", "")), text)
        invocation = CommandInvocation(
            platform=PLATFORM,
            user_id=str(body.get("user_id", "")),
            conversation=Conversation(PLATFORM, str(body.get("channel_id", ""))),
            text=line,
            event_id=body.get("trigger_id"),
        )
        await self._answer(invocation, respond)

    async def _on_action(self, ack: Any, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id", ""
        )
        press = ButtonPress(
            platform=PLATFORM,
            user_id=str((body.get("user") or {}).get("id", "")),
            conversation=Conversation(PLATFORM, str(channel)),
            action_id=str(action.get("value") or action.get("action_id", "")),
            event_id=f"action:{action.get('action_ts', '')}:{action.get('action_id', '')}",
        )
        await self._answer(press, respond)

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        line = mentioned_line(str(event.get("text", "")))
        line = slack_blocks.unescape(line) if line is not None else None
        if line is None or self._host is None:
            return
        channel = str(event.get("channel", ""))
        user = str(event.get("user", ""))
        reply = await typed(
            self._host,
            platform=PLATFORM,
            user_id=user,
            channel=channel,
            line=line,
            event_id=body.get("event_id"),  # Slack's retries carry the same id
        )
        if reply is None:
            return
        kwargs = self._render(reply.message, reply.tr)
        try:
            if reply.private:
                await self._client.chat_postEphemeral(channel=channel, user=user, **kwargs)
            else:
                await self._client.chat_postMessage(channel=channel, **kwargs)
        except (SlackApiError, ClientError, TimeoutError) as error:
            log.warning("reply to a mention failed", extra={"reason": _reason(error)})

    async def _answer(self, invocation: CommandInvocation | ButtonPress, respond: Any) -> None:
        """Reply through the request's response_url: it works in any conversation, even
        one the bot has not joined; refusals are shown to the asker alone."""
        if self._host is None:
            return
        _, reply = await run(self._host, invocation)
        if reply is None:
            return
        try:
            await respond(
                response_type="ephemeral" if reply.private else "in_channel",
                replace_original=False,
                **self._render(reply.message, reply.tr),
            )
        except (ClientError, TimeoutError, ValueError) as error:
            log.warning("reply failed", extra={"reason": _reason(error)})

    # --- out ------------------------------------------------------------------------------

    def _render(self, message: Message, tr: Translator) -> dict[str, Any]:
        chart = self._host.chart_url(message.image) if message.image and self._host else None
        return slack_blocks.render(message, tr, mention=self._slack_id, chart_url=chart)

    def _slack_id(self, handle: str) -> str | None:
        person = self._directory.get(handle)
        return person.identities.get(PLATFORM) if person else None

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        return await self._send(channel, message, tr)

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        # A user id as the channel posts to the app's direct conversation with them.
        return await self._send(user_id, message, tr)

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        """By conversations.members (channels:read, groups:read), remembered a while."""
        members = await self._members.get(channel_id, lambda: self._channel_members(channel_id))
        return None if members is None else user_id in members

    async def _channel_members(self, channel_id: str) -> frozenset[str] | None:
        members: set[str] = set()
        cursor = ""
        try:
            for _ in range(MEMBER_PAGES):
                response = await self._client.conversations_members(
                    channel=channel_id.lstrip("#"), cursor=cursor or None, limit=1000
                )
                page = response.get("members")
                if not isinstance(page, list):
                    return None
                members.update(str(m) for m in page)
                cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
                if not cursor:
                    return frozenset(members)
        except SlackApiError as error:
            data = error.response.data
            code = data.get("error") if isinstance(data, dict) else None
            log.info("cannot list a channel's members", extra={"reason": f"slack: {code}"})
        except (ClientError, TimeoutError) as error:
            log.info("cannot list a channel's members", extra={"reason": type(error).__name__})
        return None  # too many to list, or not allowed: the direct message is sent

    async def open_room(
        self, name: str, *, topic: str, summary: Message, tr: Translator
    ) -> RoomMade:
        """conversations.create (channels:manage), its topic (conversations.setTopic), the
        summary posted and pinned (pins:write). A missing scope is a refusal: the shared
        channel is kept. The topic and the pin are a nicety: their failure is logged."""
        try:
            response = await self._client.conversations_create(name=name)
        except SlackApiError as error:
            raise _room_error(error) from None
        except (ClientError, TimeoutError) as error:
            raise AdapterError(t("delivery.failed", reason=_reason(error))) from None
        room_id = str((response.get("channel") or {}).get("id", ""))
        try:
            await self._client.conversations_setTopic(channel=room_id, topic=topic[:250])
        except (SlackApiError, ClientError, TimeoutError) as error:
            log.warning("room topic not set", extra={"reason": _reason(error)})
        ref = await self._send(room_id, summary, tr)
        ts = (ref or "").partition(" ")[2]
        try:
            await self._client.pins_add(channel=room_id, timestamp=ts)
        except (SlackApiError, ClientError, TimeoutError) as error:
            log.warning("room summary not pinned", extra={"reason": _reason(error)})
        return RoomMade(room_id, ref)

    async def invite_to_room(
        self, room_id: str, user_ids: Sequence[str], *, tr: Translator
    ) -> None:
        """conversations.invite (channels:manage); those already in are not an error."""
        try:
            await self._client.conversations_invite(channel=room_id, users=",".join(user_ids))
        except SlackApiError as error:
            if error.response.get("error") == "already_in_channel":
                return
            raise _room_error(error) from None
        except (ClientError, TimeoutError) as error:
            raise AdapterError(t("delivery.failed", reason=_reason(error))) from None

    async def close_room(self, room_id: str, *, tr: Translator) -> None:
        """conversations.archive (channels:manage)."""
        try:
            await self._client.conversations_archive(channel=room_id)
        except SlackApiError as error:
            if error.response.get("error") == "already_archived":
                return
            raise _room_error(error) from None
        except (ClientError, TimeoutError) as error:
            raise AdapterError(t("delivery.failed", reason=_reason(error))) from None

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        channel, _, ts = ref.partition(" ")
        if not ts:
            return None
        try:
            await self._client.chat_update(channel=channel, ts=ts, **self._render(message, tr))
        except SlackApiError as error:
            if error.response.get("error") in UNEDITABLE:
                return None
            raise _adapter_error(error) from None
        except (ClientError, TimeoutError) as error:
            raise AdapterError(t("delivery.failed", reason=_reason(error))) from None
        return ref

    async def _send(self, channel: str, message: Message, tr: Translator) -> str | None:
        try:
            response = await self._client.chat_postMessage(
                channel=channel.lstrip("#") if channel.startswith("#") else channel,
                **self._render(message, tr),
            )
        except SlackApiError as error:
            raise _adapter_error(error) from None
        except (ClientError, TimeoutError) as error:
            raise AdapterError(t("delivery.failed", reason=_reason(error))) from None
        channel_id = str(response.get("channel", channel))
        if message.image:
            await self._upload_chart(channel_id, message.image, tr)
        # chat.update wants the channel's id, which a post by name learns only now.
        return f"{channel_id} {response.get('ts', '')}"

    async def _upload_chart(self, channel_id: str, chart_id: str, tr: Translator) -> None:
        """The chart as an image in the conversation. Best effort: the message, which
        links the chart, is delivered already, and a retry would repeat it."""
        png = await self._host.chart_png(chart_id) if self._host else None
        if png is None:
            return
        try:
            await self._client.files_upload_v2(
                channel=channel_id,
                content=png,
                filename=f"chart-{chart_id}.png",
                title=tr(t("chart.link")),
            )
        except Exception as error:  # whatever went wrong, the message must not be sent twice
            log.warning("chart upload failed", extra={"reason": _reason(error)})


def _reason(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return f"slack: {error.response.get('error', 'error')}"
    return f"{type(error).__name__}: {error}"


# Slack's answers that no retry will change: the app lacks a scope, is not in the channel,
# or the workspace forbids it. The incident keeps the shared channel.
ROOM_REFUSALS = frozenset(
    {
        "missing_scope",
        "not_in_channel",
        "restricted_action",
        "not_allowed_token_type",
        # A channel of that name exists (made by someone, or by a process that died before
        # recording it): making another would split the incident's conversation.
        "name_taken",
    }
)


def _room_error(error: SlackApiError) -> Exception:
    code = str(error.response.get("error", ""))
    if code in ROOM_REFUSALS:
        return RoomRefused(code)
    return _adapter_error(error)


def _adapter_error(error: SlackApiError) -> AdapterError:
    code = str(error.response.get("error", ""))
    if error.response.status_code == 429:
        retry_after = float(error.response.headers.get("Retry-After", "1") or 1)
        return Throttled(
            t("delivery.failed", reason="slack: rate limited"), retry_after=retry_after
        )
    return AdapterError(t("delivery.failed", reason=f"slack: {code}"), permanent=code in PERMANENT)
