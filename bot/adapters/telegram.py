"""The Telegram adapter (python-telegram-bot): long polling or our own webhook route in,
HTML messages with inline keyboards out, on Shipwatch's event loop."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import Any, Literal, TypeVar

from aiohttp import web
from telegram import CallbackQuery, LinkPreviewOptions, ReplyParameters, Update
from telegram import Message as TelegramMessage
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, CallbackContext, TypeHandler

from bot.adapters import inbound
from bot.adapters.after_answer import AfterAnswer
from bot.adapters.base import Capabilities, Host, RoomMade, RoomRefused
from bot.adapters.members import Remembered
from bot.adapters.telegram_limits import RateLimited, SendLimiter
from bot.adapters.telegram_render import Rendered, render, rest
from bot.adapters.telegram_send import FloodControl, bot_call, chat_id, markup, thread_of
from bot.adapters.telegram_updates import command_from, press_from
from bot.errors import StartupError
from bot.http_input import BadBody, decode_json, error_response, read_body, request_locale
from bot.i18n import Translator
from bot.settings import Settings
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import Message, t

log = logging.getLogger("shipwatch.telegram")
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few KiB; aiohttp's own default limit
# A person is waiting for a reply: it waits longer for its slot than the outbox does, and
# past that goes to the outbox, delivered in order when the chat's limit allows.
REPLY_WAIT = 5.0
# The rest of a long message follows its first part: each part may wait this long for its
# slot, all of them together CONTINUATION_BUDGET, so one chat holds its delivery lane briefly;
# parts that cannot go by then are handed to the outbox (never the whole resent).
CONTINUATION_WAIT = 5.0
CONTINUATION_BUDGET = 20.0
CONTINUATION_TRIES = 2
NOT_MODIFIED = "message is not modified"  # how the Bot API answers an edit to the same text
TOAST_LENGTH = 200  # what answerCallbackQuery shows
TOAST_WITHIN = 1.0  # seconds a button press may take and still be answered with a toast
_RECENT_UPDATES = 2048
_UPDATES = ["message", "callback_query"]

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
T = TypeVar("T")
PartOutcome = Literal["sent", "later", "refused"]


TOPIC_NAME = 128  # Telegram's limit on a forum topic's name


class TelegramAdapter:
    platform = "telegram"
    capabilities = Capabilities(
        callback_buttons=True,
        edits=True,
        ephemeral=False,
        max_length=4096,
        conversations_at_once=4,
    )

    def __init__(
        self,
        token: str,
        *,
        mode: str = "polling",
        secret: str | None = None,
        api_url: str = "https://api.telegram.org/bot",
        limiter: SendLimiter | None = None,
        poll_timeout: float = 10.0,
        forum_chat: str | None = None,
    ) -> None:
        if mode == "webhook" and not secret:
            raise ValueError("webhook mode needs a secret token")
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(api_url)
            .base_file_url(file_url(api_url))
            .job_queue(None)
        )
        if mode == "webhook":
            builder = builder.updater(None)
        self._app: TelegramApp = builder.build()
        self._app.add_handler(TypeHandler(Update, self._on_update))
        self._after_answer = AfterAnswer()
        self._app.add_error_handler(self._on_error)
        self._mode = mode
        self._secret = (secret or "").encode()
        self._api_url = api_url
        self._limiter = limiter or SendLimiter()
        self._poll_timeout = poll_timeout
        self._forum_chat = forum_chat
        self._host: Host | None = None
        self._username = ""
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._members: Remembered[bool] = Remembered()

    # --- lifecycle -------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        if self._mode != "webhook":
            return []  # polling: Telegram has no webhook to call, so none is served
        return [web.post(WEBHOOK_PATH, self._webhook)]

    async def start(self, host: Host) -> None:
        try:
            await self._app.initialize()  # getMe: the token works, and our @username
        except InvalidToken:
            await self._app.shutdown()
            raise StartupError(
                "Telegram refused SHIPWATCH_TELEGRAM_TOKEN; copy the token BotFather gave "
                "you (like 123456789:AA…) or ask /token again."
            ) from None
        except TelegramError as error:
            await self._app.shutdown()
            raise StartupError(
                f"Cannot reach the Telegram Bot API at {self._api_url} ({error.message}); "
                "check the network or SHIPWATCH_TELEGRAM_API_URL."
            ) from None
        self._username = self._app.bot.username
        self._host = host
        await self._app.start()
        log.info("telegram ready", extra={"bot": self._username, "mode": self._mode})

    def polls(self) -> bool:
        return self._app.updater is not None

    async def start_polling(self) -> None:
        """Only one process may call getUpdates at a time (Telegram answers a second with
        409 Conflict), so polling is a duty the running Shipwatch starts and stops."""
        updater = self._app.updater
        if updater is not None and not updater.running:
            # start_polling deletes any webhook first, so the two modes never overlap.
            await updater.start_polling(
                timeout=timedelta(seconds=self._poll_timeout),
                allowed_updates=_UPDATES,
                error_callback=_polling_failed,
            )
            log.info("telegram polling", extra={"bot": self._username})

    async def stop_polling(self) -> None:
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()

    async def stop(self) -> None:
        await self.stop_polling()
        await self._after_answer.stop()
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()
        self._host = None

    # --- outbound --------------------------------------------------------------------------

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        return await self._deliver(channel, message, tr)

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        # A private chat's id is the person's user id (they must have started the bot).
        return await self._deliver(user_id, message, tr)

    async def _deliver(self, channel: str, message: Message, tr: Translator) -> str:
        chart = self._host.chart_url(message.image) if message.image and self._host else None
        ref = await self._send(channel, render(message, tr, chart_url=chart))
        if message.image:
            await self._send_chart(channel, message.image, tr)
        return ref

    async def _send_chart(self, channel: str, chart_id: str, tr: Translator) -> None:
        """The chart as a photo under the message. Best effort: the message, which links
        the chart, is delivered already, and a retry would repeat it."""
        png = await self._host.chart_png(chart_id) if self._host else None
        if png is None:
            return
        try:
            await self._limited(channel, CONTINUATION_WAIT)
            await self._app.bot.send_photo(chat_id(channel), photo=png, caption=tr(t("chart.link")))
        except Exception as error:  # whatever went wrong, the message must not be sent twice
            log.warning("chart photo failed", extra={"reason": f"{type(error).__name__}"})

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        """By getChatMember, remembered a while per chat and person."""
        key = f"{channel_id} {user_id}"
        return await self._members.get(key, lambda: self._chat_member(channel_id, user_id))

    async def _chat_member(self, channel_id: str, user_id: str) -> bool | None:
        if not user_id.isdigit():
            return None
        try:
            chat = chat_id(channel_id)
            member = await self._app.bot.get_chat_member(chat_id=chat, user_id=int(user_id))
        except BadRequest as error:
            # Telegram's answer for someone who never joined the chat.
            return False if "not found" in error.message.lower() else None
        except (TelegramError, AdapterError) as error:
            log.info("cannot ask who is in a chat", extra={"reason": type(error).__name__})
            return None
        if member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR):
            return True
        if member.status == ChatMemberStatus.RESTRICTED:
            return bool(getattr(member, "is_member", False))
        return member.status == ChatMemberStatus.MEMBER

    # --- incident rooms: topics of a forum supergroup (a bot cannot create groups) ----------

    async def open_room(
        self, name: str, *, topic: str, summary: Message, tr: Translator
    ) -> RoomMade:
        """createForumTopic in the configured forum supergroup; the summary posted in the
        topic and pinned (best effort). No forum configured, or a chat that is not one, or
        no right to manage topics: refused, and the shared chat is kept."""
        if not self._forum_chat:
            raise RoomRefused("SHIPWATCH_TELEGRAM_FORUM_CHAT is not set")
        forum = self._forum_chat
        try:
            made = await self._call(
                forum, self._app.bot.create_forum_topic(chat_id(forum), topic[:TOPIC_NAME])
            )
        except AdapterError as error:
            if error.permanent:
                raise RoomRefused(str(error.text.params.get("reason", "refused"))) from None
            raise
        room = f"{forum}/{made.message_thread_id}"
        ref = await self._deliver(room, summary, tr)
        try:
            message_id = int(ref.rpartition(" ")[2])
            await self._app.bot.pin_chat_message(
                chat_id(forum), message_id, disable_notification=True
            )
        except (TelegramError, ValueError) as error:
            log.warning("room summary not pinned", extra={"reason": type(error).__name__})
        return RoomMade(room, ref)

    async def invite_to_room(
        self, room_id: str, user_ids: Sequence[str], *, tr: Translator
    ) -> None:
        """Nothing to do: every member of the forum supergroup sees its topics."""
        return None

    async def close_room(self, room_id: str, *, tr: Translator) -> None:
        """closeForumTopic: the topic stays readable, closed to new messages."""
        thread = thread_of(room_id)
        if thread is None:
            return
        try:
            await self._call(room_id, self._app.bot.close_forum_topic(chat_id(room_id), thread))
        except AdapterError as error:
            if error.permanent:
                raise RoomRefused(str(error.text.params.get("reason", "refused"))) from None
            raise

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        """Edit a message sent earlier in place (its first part, if it was split); None
        when Telegram will not edit it (deleted, too old), so it is posted anew."""
        channel, _, message_id = ref.rpartition(" ")
        if not channel or not message_id.isdigit():
            return None
        rendered = render(message, tr)
        await self._limited(channel, None)

        async def edit() -> None:
            try:
                await self._app.bot.edit_message_text(
                    rendered.chunks[0],
                    chat_id=chat_id(channel),
                    message_id=int(message_id),
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup(rendered),
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            except BadRequest as error:
                # The message reads so already: the edit has nothing to do, it did not fail.
                if NOT_MODIFIED not in error.message.lower():
                    raise

        try:
            await self._call(channel, edit())
        except AdapterError as error:
            if error.permanent:
                return None
            raise
        return ref

    async def _send(
        self,
        channel: str,
        rendered: Rendered,
        *,
        quote: int | None = None,
        first_wait: float | None = None,
    ) -> str:
        """Send every part; the reference is the chat and the first part's message id.

        Only the first part may fail the send: once it is out, a retry would repeat it, so
        the rest are delivered within ``CONTINUATION_BUDGET`` or logged as lost."""
        await self._limited(channel, first_wait)
        first = await self._send_part(channel, rendered, 0, quote=quote)
        ref = f"{channel} {first.message_id}"
        deadline = self._limiter.now() + CONTINUATION_BUDGET
        for index in range(1, len(rendered.chunks)):
            outcome = await self._send_rest(channel, rendered, index, deadline)
            if outcome == "sent":
                continue
            parts = {"chat": channel, "sent": index, "parts": len(rendered.chunks)}
            if outcome == "later" and await self._hand_over(
                channel, rest(rendered, index), locale="en"
            ):
                log.info("rest of a telegram message queued for the chat's next slots", extra=parts)
            else:
                log.warning("telegram message cut short", extra=parts)
            break
        return ref

    async def _send_rest(
        self, channel: str, rendered: Rendered, index: int, deadline: float
    ) -> PartOutcome:
        """One later part, tried while the budget lasts: sent, to go later (the chat's
        limit, a network failure), or refused for good (then nothing after it goes)."""
        for _ in range(CONTINUATION_TRIES):
            left = deadline - self._limiter.now()
            if left <= 0:
                return "later"
            try:
                await self._limited(channel, min(CONTINUATION_WAIT, left))
                await self._send_part(channel, rendered, index, quote=None)
                return "sent"
            except AdapterError as error:
                reason = str(error.text.params.get("reason", ""))
                log.warning("telegram part not sent", extra={"chat": channel, "reason": reason})
                if error.permanent:
                    return "refused"
        return "later"

    async def _hand_over(self, channel: str, message: Message, *, locale: str) -> bool:
        """Give what cannot go now to the outbox; whether it was taken."""
        if self._host is None:
            return False
        try:
            await self._host.enqueue_reply(self.platform, channel, message, locale=locale)
        except Exception:
            log.exception("telegram message not handed to the outbox", extra={"chat": channel})
            return False
        return True

    async def _send_part(
        self, channel: str, rendered: Rendered, index: int, *, quote: int | None
    ) -> TelegramMessage:
        last = index == len(rendered.chunks) - 1
        return await self._call(
            channel,
            self._app.bot.send_message(
                chat_id(channel),
                rendered.chunks[index],
                message_thread_id=thread_of(channel),
                parse_mode=ParseMode.HTML,
                reply_markup=markup(rendered) if last else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_parameters=(
                    ReplyParameters(quote, allow_sending_without_reply=True)
                    if quote is not None
                    else None
                ),
            ),
        )

    async def _call(self, channel: str, call: Awaitable[T]) -> T:
        """A Bot API call; a RetryAfter is written down for every process (a restarted one,
        another replica) to wait out, not only this one's limiter."""
        try:
            return await bot_call(channel, self._limiter, call)
        except FloodControl as error:
            if self._host is not None and error.retry_after is not None:
                reason = str(error.text.params.get("reason", ""))
                key = f"{self.platform}:{channel}"
                await self._host.hold_sends(key, seconds=error.retry_after, reason=reason)
            raise

    async def _limited(self, channel: str, max_wait: float | None) -> None:
        held = await self._host.sends_held_for(f"{self.platform}:{channel}") if self._host else 0
        if held > 0:
            self._limiter.hold(channel, held)
            reason = f"Telegram asked to wait for chat {channel}; free in {held:.0f}s"
            raise Throttled(t("delivery.failed", reason=reason), retry_after=held)
        try:
            await self._limiter.acquire(channel, max_wait=max_wait)
        except RateLimited as limited:
            reason = f"Telegram send limit for chat {channel}; next slot in {limited.wait:.0f}s"
            raise Throttled(t("delivery.failed", reason=reason), retry_after=limited.wait) from None

    # --- inbound ---------------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        # A header's undecodable bytes arrive as surrogate escapes: back to the same bytes.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            log.warning(
                "telegram webhook refused: wrong or missing secret token",
                extra={"remote": request.remote},
            )
            return web.json_response({"error": "wrong or missing secret token"}, status=403)
        if self._host is None:
            return web.json_response({"error": "not started yet"}, status=503)
        tr = self._host.translator(request_locale(request, "en"))
        body = await read_body(request, MAX_UPDATE_BYTES)
        if body is None:
            return error_response(tr, 413, t("http.too_large", limit=MAX_UPDATE_BYTES))
        try:
            update = Update.de_json(decode_json(body), self._app.bot)
        except BadBody as error:
            return error_response(tr, 400, error.text)
        except Exception:
            return web.json_response({"error": "the body is not a Telegram update"}, status=400)
        # Processed before answering: Telegram sends the next update only after this one.
        await self._app.process_update(update)
        return web.json_response({"status": "ok"})

    async def _on_update(
        self, update: Update, context: CallbackContext[Any, Any, Any, Any]
    ) -> None:
        host = self._host
        if host is None or self._repeated(update.update_id):
            return
        if update.callback_query is not None:
            await self._on_press(host, update.callback_query)
            return
        invocation = command_from(update, bot_username=self._username)
        if invocation is None:
            return
        _, reply = await inbound.run(host, invocation)
        if reply is not None:
            quote = update.message.message_id if update.message else None
            channel = invocation.conversation.channel
            # Sent after the update is handled: a chat at its send limit must not hold up
            # the next update (a button press behind it, in polling mode; Telegram's next
            # webhook call, which waits for this one's answer).
            self._after_answer.take(channel, lambda: self._reply(channel, reply, quote=quote))

    async def _on_press(self, host: Host, query: CallbackQuery) -> None:
        """The button is answered within ``TOAST_WITHIN``: with the refusal as a toast when
        the command is that quick, else at once (the client stops spinning) and the reply
        follows as a message when the command has run."""
        press = press_from(query)
        work = asyncio.ensure_future(inbound.run(host, press)) if press is not None else None
        toast: str | None = None
        try:
            if work is not None:
                done, _ = await asyncio.wait({work}, timeout=TOAST_WITHIN)
                if done and not work.cancelled() and work.exception() is None:
                    _, reply = work.result()
                    toast = _toast(reply) if reply is not None and reply.refused else None
        finally:
            # Always answered, or the person's client keeps spinning on the button.
            try:
                await query.answer(text=toast)
            except TelegramError as error:
                log.warning("callback query not answered", extra={"reason": error.message})
        if press is None or work is None or toast is not None:
            return  # a refusal that fits the toast stays between the bot and the presser
        channel = press.conversation.channel

        async def reply_when_done() -> None:
            _, reply = await work
            if reply is not None:
                await self._reply(channel, reply, quote=None)

        self._after_answer.take(channel, reply_when_done)

    async def settled(self) -> None:
        """Until the replies of the updates handled so far have been sent."""
        await self._after_answer.settled()

    async def _reply(self, channel: str, reply: inbound.Reply, *, quote: int | None) -> None:
        try:
            await self._send(
                channel, render(reply.message, reply.tr), quote=quote, first_wait=REPLY_WAIT
            )
        except Throttled as error:
            # The chat is at its limit: the reply waits its turn in the outbox, not dropped.
            if await self._hand_over(channel, reply.message, locale=reply.tr.locale):
                reason = str(error.text.params.get("reason", ""))
                log.info("telegram reply queued", extra={"chat": channel, "reason": reason})
            else:
                log.warning("telegram reply not delivered", extra={"chat": channel})
        except AdapterError as error:
            log.warning(
                "telegram reply not delivered",
                extra={"chat": channel, "reason": str(error.text.params.get("reason", ""))},
            )

    def _repeated(self, update_id: int) -> bool:
        """A cheap first check; the idempotency ledger is the one that counts."""
        if update_id in self._recent:
            return True
        self._recent[update_id] = None
        if len(self._recent) > _RECENT_UPDATES:
            self._recent.popitem(last=False)
        return False

    async def _on_error(self, update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram update failed", exc_info=context.error, extra={"update_id": update_id})


def from_settings(settings: Settings) -> TelegramAdapter:
    """The adapter for these settings, or one sentence saying what to fix."""
    assert settings.telegram_token is not None
    secret = settings.telegram_secret.get_secret_value() if settings.telegram_secret else None
    if settings.telegram_mode == "webhook" and not secret:
        raise StartupError(
            "SHIPWATCH_TELEGRAM_MODE=webhook needs SHIPWATCH_TELEGRAM_SECRET, the secret_token "
            "given to setWebhook; set it, or use SHIPWATCH_TELEGRAM_MODE=polling."
        )
    if secret is not None and not _valid_secret(secret):
        raise StartupError(
            "SHIPWATCH_TELEGRAM_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -, "
            "as Telegram allows for a webhook's secret_token."
        )
    return TelegramAdapter(
        settings.telegram_token.get_secret_value(),
        mode=settings.telegram_mode,
        secret=secret,
        api_url=settings.telegram_api_url,
        forum_chat=settings.telegram_forum_chat,
    )


def file_url(api_url: str) -> str:
    """``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot``."""
    head, sep, tail = api_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else api_url


def _polling_failed(error: TelegramError) -> None:
    log.warning("telegram polling failed; retrying", extra={"reason": error.message})


def _toast(reply: inbound.Reply) -> str | None:
    """A refusal short enough for the little notice over the chat, else None."""
    text = "\n".join(reply.tr(block) for block in reply.message.blocks)
    return text if 0 < len(text) <= TOAST_LENGTH and not reply.message.fields else None


def _valid_secret(secret: str) -> bool:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    return 0 < len(secret) <= 256 and set(secret) <= allowed
