"""Discord: application commands and button presses in through the interactions endpoint
(``POST /discord/interactions``); embeds with buttons out through the REST API, as the
application's bot. A command is answered at once with a deferred response (Discord waits
3 seconds, a command may take longer) and its reply then edits that response; a press is
acknowledged at once and its reply follows as a message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.adapters import discord_interactions as interactions
from bot.adapters.after_answer import AfterAnswer
from bot.adapters.base import Capabilities, Host, RoomMade, RoomRefused
from bot.adapters.discord_interactions import Interaction, Ping, Seen
from bot.adapters.discord_render import EPHEMERAL, render
from bot.adapters.discord_rest import DiscordRest, Route, discord_code
from bot.adapters.inbound import PRIVATE, Reply, run
from bot.adapters.robots import translator_of
from bot.clock import Clock
from bot.http_input import request_locale
from bot.i18n import Translator
from commands.core.invocations import ButtonPress, CommandInvocation
from playbooks.effects import Conversation
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import Message, t
from playbooks.people import Directory

log = logging.getLogger("shipwatch.adapters.discord")
PLATFORM = "discord"
PONG, DEFERRED_MESSAGE, DEFERRED_UPDATE = 1, 5, 6
PUBLIC_THREAD = 11
THREAD_NAME = 100  # Discord's limit on a channel's (a thread's) name
ARCHIVE_AFTER_MINUTES = 10080  # a week without messages before Discord hides the thread
REPLY_WAIT = 5.0  # a person waits for the reply: it may wait this long for its bucket


class DiscordAdapter:
    platform = PLATFORM
    capabilities = Capabilities(
        callback_buttons=True,
        edits=True,
        ephemeral=True,
        max_length=4096,
        conversations_at_once=4,
    )

    def __init__(
        self,
        *,
        rest: DiscordRest,
        application_id: str,
        public_key: Ed25519PublicKey | None,
        clock: Clock,
        directory: Directory,
        rooms_channel: str | None = None,
        default_locale: str = "en",
    ) -> None:
        self._rest = rest
        self._application_id = application_id
        self._key = public_key
        self._clock = clock
        self._directory = directory
        self._rooms_channel = rooms_channel
        self._default_locale = default_locale
        self._host: Host | None = None
        self._seen = Seen()
        self._after_answer = AfterAnswer()
        self._dm_channels: dict[str, str] = {}

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/discord/interactions", self._interactions)]

    async def start(self, host: Host) -> None:
        self._host = host
        self._rest.host = host

    async def stop(self) -> None:
        await self._after_answer.stop()
        self._host = None
        self._rest.host = None
        await self._rest.close()

    async def settled(self) -> None:
        """Until the commands and presses taken on so far have run and been answered."""
        await self._after_answer.settled()

    # --- out -------------------------------------------------------------------------------

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        if not channel.isdigit():
            reason = (
                f"no Discord channel id for {channel}; add it under discord: in channels.yaml "
                '(like "#ops": "123456789012345678")'
            )
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
        return await self._create(channel, message, tr, recipient=None)

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        channel = await self._dm_channel(user_id)
        return await self._create(channel, message, tr, recipient=user_id)

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        channel, _, message_id = ref.partition(" ")
        if not channel or not message_id:
            return None
        body = render(message, tr, mention=self._discord_id)
        route = Route(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            f"/channels/{channel}/messages/{message_id}",
            major=channel,
        )
        try:
            await self._rest.call(route, body, what=f"an edit in {channel}")
        except Throttled:
            raise
        except AdapterError as error:
            if error.permanent:
                return None  # deleted, or no longer the bot's to edit: posted anew
            raise
        return ref

    async def _create(
        self, channel: str, message: Message, tr: Translator, *, recipient: str | None
    ) -> str:
        files = await self._chart(message)
        body = render(
            message,
            tr,
            mention=self._discord_id,
            chart_file=next(iter(files), None),
            recipient=recipient,
        )
        route = Route(
            "POST", "/channels/{channel_id}/messages", f"/channels/{channel}/messages", channel
        )
        answer = await self._rest.call(route, body, files=files, what=f"a message to {channel}")
        message_id = answer.get("id") if isinstance(answer, dict) else None
        return f"{channel} {message_id}" if message_id else channel

    async def _chart(self, message: Message) -> dict[str, bytes]:
        """The report's chart as an attachment of the message itself: one call, so a retry
        never posts the text twice."""
        if not message.image or self._host is None:
            return {}
        png = await self._host.chart_png(message.image)
        return {f"chart-{message.image}.png": png} if png is not None else {}

    async def _dm_channel(self, user_id: str) -> str:
        """The direct message channel with ``user_id`` (POST /users/@me/channels), kept."""
        known = self._dm_channels.get(user_id)
        if known is not None:
            return known
        route = Route("POST", "/users/@me/channels", "/users/@me/channels")
        answer = await self._rest.call(
            route, {"recipient_id": user_id}, what=f"a direct message to {user_id}"
        )
        channel = answer.get("id") if isinstance(answer, dict) else None
        if not channel:
            reason = f"Discord opened no direct message channel with {user_id}"
            raise AdapterError(t("delivery.failed", reason=reason))
        self._dm_channels[user_id] = str(channel)
        return str(channel)

    def _discord_id(self, handle: str) -> str | None:
        person = self._directory.get(handle)
        return person.identities.get(PLATFORM) if person else None

    # --- incident rooms: a public thread in the rooms channel -----------------------------

    async def open_room(
        self, name: str, *, topic: str, summary: Message, tr: Translator
    ) -> RoomMade:
        """POST /channels/{rooms}/threads (Create Public Threads); the summary posted there
        and pinned (best effort). No rooms channel, or no permission: refused, and the
        incident keeps the shared channel."""
        if not self._rooms_channel:
            raise RoomRefused("SHIPWATCH_DISCORD_ROOMS_CHANNEL is not set")
        parent = self._rooms_channel
        route = Route(
            "POST", "/channels/{channel_id}/threads", f"/channels/{parent}/threads", parent
        )
        body = {
            "name": name[:THREAD_NAME],
            "type": PUBLIC_THREAD,
            "auto_archive_duration": ARCHIVE_AFTER_MINUTES,
        }
        answer = await self._room_call(route, body)
        thread = str(answer.get("id", "")) if isinstance(answer, dict) else ""
        if not thread:
            raise AdapterError(t("delivery.failed", reason="Discord made a thread without an id"))
        ref = await self._create(thread, summary, tr, recipient=None)
        message_id = ref.partition(" ")[2]
        if message_id:
            pin = Route(
                "PUT",
                "/channels/{channel_id}/pins/{message_id}",
                f"/channels/{thread}/pins/{message_id}",
                thread,
            )
            try:
                await self._rest.call(pin)
            except AdapterError as error:
                log.warning("room summary not pinned", extra={"reason": discord_code(error)})
        return RoomMade(thread, ref)

    async def invite_to_room(
        self, room_id: str, user_ids: Sequence[str], *, tr: Translator
    ) -> None:
        """PUT /channels/{thread}/thread-members/{user}: each one added to the thread."""
        for user_id in user_ids:
            route = Route(
                "PUT",
                "/channels/{channel_id}/thread-members/{user_id}",
                f"/channels/{room_id}/thread-members/{user_id}",
                room_id,
            )
            await self._room_call(route, None)

    async def close_room(self, room_id: str, *, tr: Translator) -> None:
        """The thread archived and locked: readable, closed to new messages."""
        route = Route("PATCH", "/channels/{channel_id}", f"/channels/{room_id}", room_id)
        await self._room_call(route, {"archived": True, "locked": True})

    async def _room_call(self, route: Route, body: dict[str, Any] | None) -> Any:
        try:
            return await self._rest.call(route, body)
        except Throttled:
            raise
        except AdapterError as error:
            if error.permanent:
                raise RoomRefused(discord_code(error)) from None
            raise

    # --- in --------------------------------------------------------------------------------

    async def _interactions(self, request: web.Request) -> web.StreamResponse:
        host = self._host
        if host is None:
            return web.json_response({"error": "starting"}, status=503)
        got = await interactions.read(
            request,
            key=self._key,
            now=self._clock.now(),
            translator=lambda locale: translator_of(host, locale),
            locale=request_locale(request, self._default_locale),
            seen=self._seen,
        )
        if isinstance(got, web.Response):
            return got
        if isinstance(got, Ping):
            return web.json_response({"type": PONG})
        if got.line is not None:
            # Deferred at once, whatever the command: Discord gives an answer 3 seconds, and
            # a command that writes to the database under load may take longer. Help and
            # /me are for the asker alone from the start.
            private = got.line[1:].split(" ", 1)[0].lower() in PRIVATE
            answer: dict[str, Any] = {"type": DEFERRED_MESSAGE}
            work: Callable[[], Awaitable[None]]
            if private:
                answer["data"] = {"flags": EPHEMERAL}
            work = partial(self._command, got, deferred_private=private)
        else:
            # A press: acknowledged without a loading state; its reply follows.
            answer = {"type": DEFERRED_UPDATE}
            work = partial(self._press, got)
        response = web.json_response(answer)
        # Discord must have the answer before the response is edited: sent now, work after.
        await response.prepare(request)
        await response.write_eof()
        self._after_answer.take(got.channel_id, work)
        return response

    async def _command(self, got: Interaction, *, deferred_private: bool) -> None:
        host = self._host
        if host is None or got.line is None:
            return
        invocation = CommandInvocation(
            platform=PLATFORM,
            user_id=got.user_id,
            conversation=Conversation(PLATFORM, got.channel_id),
            text=got.line,
            event_id=f"interaction:{got.id}",
        )
        outcome, reply = await run(host, invocation)
        if outcome.status == "duplicate":
            return  # the first delivery answered it
        if reply is None:
            await self._webhook(got, "DELETE", "/messages/@original")
            return
        if reply.private and not deferred_private:
            # The deferred response shows to everyone: a refusal is for the asker alone.
            await self._webhook(got, "DELETE", "/messages/@original")
            await self._followup(got, reply, ephemeral=True)
            return
        await self._reply(got, reply, method="PATCH", path="/messages/@original", ephemeral=False)

    async def _press(self, got: Interaction) -> None:
        host = self._host
        if host is None or got.custom_id is None:
            return
        press = ButtonPress(
            platform=PLATFORM,
            user_id=got.user_id,
            conversation=Conversation(PLATFORM, got.channel_id),
            action_id=got.custom_id,
            event_id=f"interaction:{got.id}",
        )
        _, reply = await run(host, press)
        if reply is not None:
            await self._followup(got, reply, ephemeral=reply.private)

    async def _followup(self, got: Interaction, reply: Reply, *, ephemeral: bool) -> None:
        await self._reply(got, reply, method="POST", path="", ephemeral=ephemeral)

    async def _reply(
        self, got: Interaction, reply: Reply, *, method: str, path: str, ephemeral: bool
    ) -> None:
        """The reply through the interaction's webhook; one the bucket holds back longer
        than a person should wait goes to the channel through the outbox instead."""
        files = await self._chart(reply.message)
        body = render(
            reply.message,
            reply.tr,
            mention=self._discord_id,
            chart_file=next(iter(files), None),
            recipient=got.user_id,  # the asker is not pinged by their own answer
        )
        if ephemeral:
            body["flags"] = EPHEMERAL
        try:
            await self._webhook(got, method, path, body, files=files, quiet=False)
        except Throttled:
            if self._host is not None and not ephemeral:
                locale = reply.tr.locale
                await self._host.enqueue_reply(
                    PLATFORM, got.channel_id, reply.message, locale=locale
                )
                log.info("reply queued behind Discord's rate limit")
        except AdapterError as error:
            log.warning("reply not delivered", extra={"reason": discord_code(error)})

    async def _webhook(
        self,
        got: Interaction,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        files: dict[str, bytes] | None = None,
        quiet: bool = True,
    ) -> None:
        """A call on the interaction's webhook (its token is good for 15 minutes)."""
        hook = f"/webhooks/{self._application_id}/{got.token}"
        route = Route(
            method,
            "/webhooks/{application_id}/{token}" + path,
            hook + path,
            major=f"{self._application_id}/{got.token}",
        )
        try:
            await self._rest.call(
                route, body, files=files, max_wait=REPLY_WAIT, what="the interaction's answer"
            )
        except AdapterError as error:
            if not quiet:
                raise
            log.warning("interaction answer not changed", extra={"reason": discord_code(error)})
