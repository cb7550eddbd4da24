"""Email, SMS and push through Apprise: one adapter per way (``email``, ``sms``, ``push``,
``apprise``), each its own delivery lane, so a slow mail server never holds an SMS back.

These targets cannot call back: every button becomes a one-time action link issued to the
one reader (as on DingTalk and Feishu), so a page by email or SMS is acknowledged by
opening its link and confirming. A channel that is an Apprise target (a Teams workflow, a
mailing list) reads the command to type instead: nobody can tell who opened a link there.

Apprise's senders block (smtplib, requests): ``async_notify`` runs them on Apprise's own
worker threads, never on the loop, with a time limit; a target that fails or does not
answer in time is a failure the outbox retries, one Apprise cannot use at all is not
retried. No URL is ever logged or stored: failures name the way and the service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from aiohttp import web

from bot.action_links import LinkSigner
from bot.adapters import link_buttons
from bot.adapters.apprise_targets import Found
from bot.adapters.base import Capabilities, Host
from bot.i18n import Translator
from playbooks.errors import AdapterError
from playbooks.messages import Message, t

log = logging.getLogger("shipwatch.apprise")
DEFAULT_TIMEOUT = 30.0
TITLE_LIMIT = 200


def plain(text: str) -> str:
    return text


def message_text(
    message: Message,
    tr: Translator,
    *,
    way: str,
    recipient: str | None,
    signer: LinkSigner | None,
) -> tuple[str, str]:
    """(title, body) in plain text: the body repeats the title (an SMS shows no title),
    then the rest, the fields, each button's link (or the command to type)."""
    rendered = link_buttons.render(
        message,
        tr,
        platform=way,
        recipient=recipient,
        signer=signer,
        typed_prefix="",
        escape=plain,
    )
    lines = [rendered.title, *rendered.body]
    lines += [f"{label}: {value}" for label, value in rendered.fields]
    lines += [f"{link.label}: {link.url}" for link in rendered.links]
    lines += rendered.typed
    return link_buttons.shorten(rendered.title, TITLE_LIMIT), "\n\n".join(lines)


class AppriseAdapter:
    """One way delivered by Apprise. ``targets``: (way, reference) → the resolved target,
    shared by every way's adapter; a person's id on this platform is the reference their
    people.yaml entry writes (``env:CAROL_EMAIL_URL``), never the URL itself."""

    def __init__(
        self,
        way: str,
        *,
        targets: Mapping[tuple[str, str], Found],
        signer: LinkSigner | None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.platform = way
        self.capabilities = Capabilities(
            callback_buttons=False,
            edits=False,
            ephemeral=False,
            max_length=8000,
            conversations_at_once=4,
        )
        self._targets = targets
        self._signer = signer
        self._timeout = timeout

    def routes(self) -> list[web.RouteDef]:
        return []

    async def start(self, host: Host) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        title, body = message_text(message, tr, way=self.platform, recipient=None, signer=None)
        await self._send(channel, title, body)
        return None

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        title, body = message_text(
            message, tr, way=self.platform, recipient=user_id, signer=self._signer
        )
        await self._send(user_id, title, body)
        return None

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        return None  # sent is sent: an email is not edited

    async def _send(self, ref: str, title: str, body: str) -> None:
        import apprise

        target = self._targets.get((self.platform, ref))
        if target is None:
            reason = f"no {self.platform} target was resolved at start for this address"
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
        sender = apprise.Apprise()
        if not sender.add(target.plugin if target.plugin is not None else target.url):
            reason = f"Apprise cannot use this {target.service} URL"
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
        try:
            result = await asyncio.wait_for(
                sender.async_notify(
                    body=body,
                    title=title,
                    body_format=apprise.NotifyFormat.TEXT,
                    timeout=self._timeout,
                ),
                # Apprise keeps its own limit; this one is for a sender that ignores it.
                timeout=self._timeout + 5,
            )
        except TimeoutError:
            result = None
        status = result.status if result is not None else apprise.AppriseResultStatus.TIMEOUT
        if status == apprise.AppriseResultStatus.SUCCESS:
            log.info(
                "sent through Apprise", extra={"way": self.platform, "service": target.service}
            )
            return
        if status == apprise.AppriseResultStatus.TIMEOUT:
            reason = f"{target.service} did not answer within {self._timeout:g}s"
            raise AdapterError(t("delivery.failed", reason=reason))
        if status == apprise.AppriseResultStatus.FAILURE:
            reason = f"{target.service} did not take the message"
            raise AdapterError(t("delivery.failed", reason=reason))
        reason = f"Apprise sent nothing to {target.service} ({status.name})"
        raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
