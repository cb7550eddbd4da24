"""The page behind a one-time action link: the GET names the action in the reader's
language and does nothing; its form's POST runs the button's command once, as the person
the link was issued to, while the button's token lasts."""

from __future__ import annotations

import html
import logging

from aiohttp import web
from sqlalchemy import Engine

from bot.action_links import event_id, signer_from
from bot.hooks import APP_KEY
from bot.http_input import request_locale
from bot.i18n import Translator
from commands.core.invocations import ButtonPress
from playbooks.effects import Conversation
from playbooks.messages import Message, Text, t
from storage.models import ActionToken
from storage.repositories import actions, ledger
from storage.unit_of_work import unit_of_work

log = logging.getLogger("shipwatch.action_links")
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def routes() -> list[web.RouteDef]:
    return [web.get("/act/{link}", _open), web.post("/act/{link}", _confirm)]


async def _open(request: web.Request) -> web.Response:
    return await _handle(request, run=False)


async def _confirm(request: web.Request) -> web.Response:
    return await _handle(request, run=True)


async def _handle(request: web.Request, *, run: bool) -> web.Response:
    app = request.app[APP_KEY]
    signer = signer_from(app.settings.action_link_secret, public_url=app.settings.public_url)
    default_tr = app.translator(request_locale(request, app.settings.locale))
    if signer is None:
        return _page(default_tr, 404, t("links.off"))
    parsed = signer.read(request.match_info["link"])
    if parsed is None:
        log.warning("action link refused", extra={"reason": "bad signature"})
        return _page(default_tr, 403, t("links.invalid"))
    platform, user_id, token = parsed
    person = app.config.directory.by_identity(platform, user_id)
    tr = app.translator(person.locale) if person and person.locale else default_tr
    now = app.clock.now()
    row, used = await app.db.run(_read_link, app.engine, platform=platform, token=token)
    if row is None:
        return _page(tr, 404, t("links.unknown"))
    if row.channel.startswith("@") and (person is None or person.handle != row.channel[1:]):
        # A direct message's button belongs to its recipient alone.
        log.warning("action link refused", extra={"reason": "not the recipient"})
        return _page(tr, 403, t("links.not_yours"))
    if row.expires_at <= now:
        return _page(tr, 410, t("links.expired"))
    if used:
        return _page(tr, 409, t("links.used"))
    who = person.name if person else user_id
    if not run:
        return _page(tr, 200, t("links.confirm", command=row.command, who=who), form=True)
    outcome = await app.dispatch(
        ButtonPress(
            platform=platform,
            user_id=user_id,
            conversation=Conversation(row.platform, row.channel),
            action_id=token,
            event_id=event_id(token),
        )
    )
    if outcome.status == "duplicate":
        return _page(tr, 409, t("links.used"))
    heading = t("links.done" if outcome.status == "ok" else "links.not_done", command=row.command)
    return _page(tr, 200, heading, result=outcome.reply)


def _read_link(engine: Engine, *, platform: str, token: str) -> tuple[ActionToken | None, bool]:
    """The button behind a link, and whether its one use is spent."""
    with unit_of_work(engine) as session:
        row = actions.get(session, token=token)
        return row, ledger.seen(session, source=platform, event_id=event_id(token))


def _page(
    tr: Translator,
    status: int,
    heading: Text,
    *,
    form: bool = False,
    result: Message | None = None,
) -> web.Response:
    parts = [f"<h1>{html.escape(tr(heading))}</h1>"]
    if result is not None:
        lines = [tr(block) for block in result.blocks]
        lines += [f"{tr(f.label)}: {tr(f.value)}" for f in result.fields]
        parts += [f"<p>{html.escape(line)}</p>" for line in lines]
    if form:
        button = html.escape(tr(t("links.confirm_button")))
        parts.append(f'<form method="post"><button type="submit">{button}</button></form>')
    lang = "zh-CN" if tr.locale == "zh" else "en"
    body = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>Shipwatch</title><style>{_STYLE}</style></head>"
        f"<body><main>{''.join(parts)}</main></body></html>"
    )
    return web.Response(text=body, status=status, content_type="text/html", headers=_HEADERS)


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:32rem;padding:0 1rem}"
    "h1{font-size:1.2rem}button{font-size:1rem;padding:.5rem 1.5rem}"
    "p{white-space:pre-wrap}"
)
