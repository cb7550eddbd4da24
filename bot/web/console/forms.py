"""A form on a console page: its token checked, its command run as the person would type
it (``actions.run_command``), and the answer shown once on the page it came from."""

from __future__ import annotations

import hmac

from aiohttp import web

from bot.hooks import APP_KEY
from bot.web.console import flash
from bot.web.console.actions import run_command
from bot.web.console.viewer import viewer_of
from playbooks.messages import t


async def token_checked(request: web.Request) -> None:
    """A POST without this session's form token does nothing: 403 with one sentence."""
    viewer = viewer_of(request)
    form = await request.post()
    given = form.get("csrf")
    if not isinstance(given, str) or not hmac.compare_digest(given, viewer.csrf):
        tr = request.app[APP_KEY].translator(viewer.locale, viewer.tz)
        raise web.HTTPForbidden(text=tr(t("web.form_stale")), headers={"Cache-Control": "no-store"})


async def run_and_return(request: web.Request, command: str, *, back: str) -> web.Response:
    """Run ``command`` (the form's token checked first), then 303 back to ``back``, where
    the reply is shown once."""
    await token_checked(request)
    viewer = viewer_of(request)
    outcome = await run_command(request, command)
    response = web.HTTPSeeOther(location=back)
    if outcome.reply is not None:
        tr = request.app[APP_KEY].translator(viewer.locale, viewer.tz)
        reply = outcome.reply
        lines = [tr(block) for block in reply.blocks]
        lines += [f"{tr(f.label)}: {tr(f.value)}" for f in reply.fields]
        said = flash.Said("\n".join(lines), refused=outcome.status != "ok")
        flash.remember(response, viewer, said)
    raise response
