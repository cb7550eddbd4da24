"""Mattermost: custom slash commands and interactive buttons in (``bot/adapters/
mattermost_inbound.py``), posts, edits in place, direct messages, chart uploads and incident
rooms out through the REST API v4 with a bot account's token (``bot/adapters/
mattermost_api.py``), messages drawn as ``bot/adapters/mattermost_render.py`` draws them."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from bot.action_links import LinkSigner
from bot.adapters import mattermost_inbound
from bot.adapters.after_answer import AfterAnswer
from bot.adapters.base import Capabilities, Host, RoomMade, RoomRefused
from bot.adapters.inbound import Reply, command_line, run
from bot.adapters.mattermost_api import MattermostApi, MattermostError
from bot.adapters.mattermost_inbound import Press, SlashCommand, read_command, read_press
from bot.adapters.mattermost_render import MESSAGE_CHARS, PLATFORM, Seal, render
from bot.adapters.members import Remembered
from bot.adapters.robots import TIMEOUT, hand_over, remember_hold, translator_of, wait_out_hold
from bot.http_client import HttpClient
from bot.http_input import request_locale
from bot.i18n import Translator
from commands.core.invocations import ButtonPress, CommandInvocation
from playbooks.effects import Conversation
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import Message, message_to_json, t
from playbooks.people import Directory

log = logging.getLogger("shipwatch.adapters.mattermost")
T = TypeVar("T")
_WORD = re.compile(r"[a-z0-9][a-z0-9._-]*")
# Mattermost waits a few seconds for a slash command's answer: a command done by then is
# answered in the response; a slower one is answered through the response URL when done.
ANSWER_WITHIN = 2.5
HOLD_KEY = "mattermost:api"  # the server's rate limit is per token: one hold for all sends
# Refusals that keep an incident's news in the shared channel: no permission (403), a
# channel of that name already there or a name the server will not take (400).
ROOM_REFUSALS = frozenset({400, 403})


class MattermostAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        callback_buttons=True,
        edits=True,
        ephemeral=True,
        max_length=MESSAGE_CHARS,
        conversations_at_once=4,
    )

    def __init__(
        self,
        *,
        url: str,
        token: str,
        command_tokens: Sequence[str],
        team: str | None,
        room_type: str,
        signer: LinkSigner | None,
        public_url: str,
        directory: Directory,
        http: HttpClient | None = None,
        default_locale: str = "en",
        answer_within: float = ANSWER_WITHIN,
    ) -> None:
        # Seconds a slash command's answer is waited for before it is sent later instead.
        self.answer_within = answer_within
        self._http = http or HttpClient()
        self._api = MattermostApi(url=url, token=token, http=self._http)
        self._server = url.rstrip("/")
        self._command_tokens = mattermost_inbound.command_tokens(command_tokens)
        self._team_name = team
        self._room_type = room_type
        self._signer = signer
        self._actions_url = f"{public_url.rstrip('/')}/mattermost/actions"
        self._directory = directory
        self._default_locale = default_locale
        self._host: Host | None = None
        self._after_answer = AfterAnswer()
        self._running: set[asyncio.Task[Any]] = set()
        self._bot_id: str | None = None
        self._team_id: str | None = None
        self._channel_ids: dict[str, str] = {}
        self._usernames: dict[str, str] = {}
        self._members: Remembered[bool] = Remembered()

    # --- lifecycle ------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/mattermost/command", self._command),
            web.post("/mattermost/actions", self._action),
        ]

    async def start(self, host: Host) -> None:
        self._host = host

    async def stop(self) -> None:
        await self._after_answer.stop()
        self._host = None
        await self._http.close()

    async def settled(self) -> None:
        """Until the slash commands answered late have been answered."""
        await self._after_answer.settled()

    # --- in: slash commands -----------------------------------------------------------------

    async def _command(self, request: web.Request) -> web.Response:
        tr = self._translator(request_locale(request, self._default_locale))
        got = await read_command(request, tokens=self._command_tokens, tr=tr)
        if isinstance(got, web.Response):
            return got
        if self._host is None:
            return web.json_response({"error": "starting"}, status=503)
        invocation = CommandInvocation(
            platform=PLATFORM,
            user_id=got.user_id,
            conversation=Conversation(PLATFORM, got.channel_id),
            text=command_line(got.command, got.text),
            event_id=f"command:{got.trigger_id}" if got.trigger_id else None,
        )
        task = asyncio.create_task(run(self._host, invocation), name="mattermost command")
        # Held here until done: a caller that hangs up must not leave the command's task
        # to the garbage collector half-way.
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        done, _ = await asyncio.wait({task}, timeout=self.answer_within)
        if task in done:
            _, reply = task.result()
            return web.json_response(await self._response(reply, got))

        async def later() -> None:
            _, reply = await task
            await self._answer_late(reply, got)

        self._after_answer.take(got.channel_id, later)
        return web.json_response({})

    async def _response(self, reply: Reply | None, got: SlashCommand) -> dict[str, Any]:
        """The command response Mattermost posts: in the channel, or to the asker alone."""
        if reply is None:
            return {}
        recipient = got.user_id if reply.private else ""
        body = await self._render(reply.message, reply.tr, got.channel_id, recipient=recipient)
        props = body.pop("props", {})
        return {
            "response_type": "ephemeral" if reply.private else "in_channel",
            "text": body["message"],
            **props,
        }

    async def _answer_late(self, reply: Reply | None, got: SlashCommand) -> None:
        """Through the response URL Mattermost gave (its own server's, nowhere else)."""
        if reply is None:
            return
        if not got.response_url.startswith(f"{self._server}/hooks/commands/"):
            log.warning("late reply dropped: the response URL is not the server's")
            return
        body = await self._response(reply, got)
        session = await self._http.session()
        try:
            async with session.post(got.response_url, json=body, timeout=TIMEOUT) as response:
                if response.status >= 300:
                    log.warning("late reply refused", extra={"status": response.status})
        except Exception as error:  # the log is where a lost late reply is told
            log.warning("late reply failed", extra={"reason": type(error).__name__})

    # --- in: buttons ------------------------------------------------------------------------

    async def _action(self, request: web.Request) -> web.Response:
        tr = self._translator(request_locale(request, self._default_locale))
        got = await read_press(request, signer=self._signer, tr=tr)
        if isinstance(got, web.Response):
            return got
        if self._host is None:
            return web.json_response({"error": "starting"}, status=503)
        press = ButtonPress(
            platform=PLATFORM,
            user_id=got.user_id,
            conversation=Conversation(PLATFORM, got.channel_id),
            action_id=got.token,
            # One run per button and person: the same press sent again changes nothing.
            event_id=f"act:{got.token}:{got.user_id}",
        )
        outcome, reply = await run(self._host, press)
        if outcome.status == "duplicate":
            person = self._directory.by_identity(PLATFORM, got.user_id)
            said = self._translator(person.locale if person and person.locale else tr.locale)
            return web.json_response({"ephemeral_text": said(t("mattermost.used"))})
        if reply is None:
            return web.json_response({})
        if reply.private:
            return web.json_response({"ephemeral_text": self._plain(reply)})
        await self._reply_in(got, reply)
        return web.json_response({})

    async def _reply_in(self, got: Press, reply: Reply) -> None:
        """A press's answer for everyone, in the channel of the button (a DM's is the DM)."""
        try:
            await self._post_to(got.channel_id, reply.message, reply.tr, recipient="")
        except Throttled:
            await hand_over(self._host, PLATFORM, got.channel_id, reply, log=log)
        except AdapterError as error:
            log.warning("reply not delivered", extra={"reason": _reason(error)})

    def _plain(self, reply: Reply) -> str:
        lines = [reply.tr(block) for block in reply.message.blocks]
        lines += [f"{reply.tr(f.label)}: {reply.tr(f.value)}" for f in reply.message.fields]
        return "\n".join(lines)

    # --- out ------------------------------------------------------------------------------

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        channel_id = await self._channel(channel)
        return await self._post_to(channel_id, message, tr, recipient="")

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        await wait_out_hold(self._host, HOLD_KEY, robot="the Mattermost bot")
        bot_id = await self._me()
        channel_id = await self._held(self._api.direct_channel(bot_id, user_id))
        return await self._post_to(channel_id, message, tr, recipient=user_id)

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        channel_id, _, rest = ref.partition(" ")
        post_id, _, recipient = rest.partition(" ")
        if not post_id:
            return None
        await wait_out_hold(self._host, HOLD_KEY, robot="the Mattermost bot")
        body = await self._render(message, tr, channel_id, recipient=recipient)
        body.setdefault("props", {"attachments": []})  # an edit that drops the attachment
        try:
            await self._held(self._api.patch_post(post_id, body))
        except MattermostError as error:
            if error.status in (403, 404):
                return None  # deleted, or no longer the bot's to edit: posted anew
            raise
        return ref

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        try:
            channel = await self._channel(channel_id)
        except AdapterError:
            return None
        key = f"{channel} {user_id}"
        return await self._members.get(key, lambda: self._api.is_member(channel, user_id))

    async def _post_to(
        self, channel_id: str, message: Message, tr: Translator, *, recipient: str
    ) -> str:
        await wait_out_hold(self._host, HOLD_KEY, robot="the Mattermost bot")
        body = await self._render(message, tr, channel_id, recipient=recipient)
        body["channel_id"] = channel_id
        if message.image:
            file_id = await self._upload_chart(channel_id, message.image, tr)
            if file_id:
                body["file_ids"] = [file_id]
        answer = await self._held(self._api.create_post(body))
        ref = f"{channel_id} {answer.get('id', '')}"
        return f"{ref} {recipient}" if recipient else ref

    async def _upload_chart(self, channel_id: str, chart_id: str, tr: Translator) -> str | None:
        """The chart as a file of the post (it is linked in the text too); a failed upload
        leaves the link alone, but a rate limit waits for the whole post."""
        png = await self._host.chart_png(chart_id) if self._host else None
        if png is None:
            return None
        try:
            return await self._held(self._api.upload(channel_id, f"chart-{chart_id}.png", png))
        except Throttled:
            raise
        except AdapterError as error:
            log.warning("chart upload failed", extra={"reason": _reason(error)})
            return None

    async def _render(
        self, message: Message, tr: Translator, channel_id: str, *, recipient: str
    ) -> dict[str, Any]:
        usernames = await self._usernames_for(message)
        seal = None
        if self._signer is not None:
            seal = Seal(self._actions_url, self._signer, recipient, channel_id)
        chart = self._host.chart_url(message.image) if message.image and self._host else None
        return render(
            message,
            tr,
            usernames=lambda handle: usernames.get(handle),
            seal_with=seal,
            chart_url=chart,
        )

    async def _usernames_for(self, message: Message) -> dict[str, str]:
        """handle → Mattermost username of each person the message names (``@bob``), asked
        of the server once per person and remembered; a person it cannot name is shown as
        written, not mentioned."""
        # Handles are parameters of catalog texts ("opened by @{actor}"): any person whose
        # handle is a word of the message may be named in it.
        said = set(_WORD.findall(json.dumps(message_to_json(message), ensure_ascii=False)))
        said.update(handle.lstrip("@") for handle in message.mentions)
        wanted = {
            person.handle: user_id
            for person in self._directory.people.values()
            if person.handle in said and (user_id := person.identities.get(PLATFORM))
        }
        unknown = [uid for uid in wanted.values() if uid not in self._usernames]
        if unknown:
            try:
                self._usernames.update(await self._api.usernames(unknown))
            except AdapterError as error:
                log.info("usernames not known", extra={"reason": _reason(error)})
        return {
            handle: self._usernames[uid] for handle, uid in wanted.items() if uid in self._usernames
        }

    async def _channel(self, channel: str) -> str:
        """A channel id as given, or a ``#name`` looked up in the team (and remembered)."""
        if not channel.startswith("#"):
            return channel
        name = channel[1:]
        if name in self._channel_ids:
            return self._channel_ids[name]
        team_id = await self._team()
        try:
            found = await self._held(self._api.channel_id(team_id, name))
        except MattermostError as error:
            reason = f"no Mattermost channel {channel} in team {self._team_name} ({error.status})"
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True) from None
        self._channel_ids[name] = found
        return found

    async def _team(self) -> str:
        if self._team_id is None:
            if not self._team_name:
                reason = (
                    "a Mattermost channel is named but SHIPWATCH_MATTERMOST_TEAM is not set; "
                    "set it, or list the channel's id in channels.yaml"
                )
                raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
            self._team_id = await self._held(self._api.team_id(self._team_name))
        return self._team_id

    async def _me(self) -> str:
        if self._bot_id is None:
            me = await self._held(self._api.me())
            self._bot_id = str(me.get("id", ""))
        return self._bot_id

    async def _held(self, call: Awaitable[T]) -> T:
        """Await an API call; a 429 is written down for every process before it is raised."""
        try:
            return await call
        except Throttled as error:
            await remember_hold(self._host, HOLD_KEY, error)
            raise

    # --- incident rooms ---------------------------------------------------------------------

    async def open_room(
        self, name: str, *, topic: str, summary: Message, tr: Translator
    ) -> RoomMade:
        """A channel in the team (private unless SHIPWATCH_MATTERMOST_ROOM_TYPE=O), its
        purpose and header the incident's title; the summary posted and pinned (best
        effort). No permission, or a channel of that name already there, is a refusal."""
        if not self._team_name:
            raise RoomRefused("SHIPWATCH_MATTERMOST_TEAM is not set")
        try:
            team_id = await self._team()
            room_id = await self._held(
                self._api.create_channel(
                    {
                        "team_id": team_id,
                        "name": name[:64],
                        "display_name": name[:64],
                        "purpose": topic[:250],
                        "header": topic[:1024],
                        "type": self._room_type,
                    }
                )
            )
        except MattermostError as error:
            if error.status in ROOM_REFUSALS:
                raise RoomRefused(error.error_id or str(error.status)) from None
            raise
        ref = await self._post_to(room_id, summary, tr, recipient="")
        post_id = ref.split(" ")[1]
        try:
            await self._held(self._api.pin(post_id))
        except AdapterError as error:
            log.warning("room summary not pinned", extra={"reason": _reason(error)})
        return RoomMade(room_id, ref)

    async def invite_to_room(
        self, room_id: str, user_ids: Sequence[str], *, tr: Translator
    ) -> None:
        try:
            await self._held(self._api.add_members(room_id, list(user_ids)))
        except MattermostError as error:
            if error.status in ROOM_REFUSALS:
                raise RoomRefused(error.error_id or str(error.status)) from None
            raise

    async def close_room(self, room_id: str, *, tr: Translator) -> None:
        try:
            await self._held(self._api.archive_channel(room_id))
        except MattermostError as error:
            if error.status == 404:
                return  # archived or deleted already
            if error.status in ROOM_REFUSALS:
                raise RoomRefused(error.error_id or str(error.status)) from None
            raise

    def _translator(self, locale: str) -> Translator:
        return translator_of(self._host, locale)


def _reason(error: AdapterError) -> str:
    return str(error.text.params.get("reason", "error"))
