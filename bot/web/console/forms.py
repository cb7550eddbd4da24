"""A form on a console page: its command run as the person would type it
(``actions.run_command``), and the answer shown once on the page it came from. The
session middleware has checked the form's token before a handler runs."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.hooks import APP_KEY
from bot.web.console import flash
from bot.web.console.actions import run_command
from bot.web.console.viewer import viewer_of
from playbooks.messages import Message

# Outcomes that did not do what was asked: their answer is shown as a refusal.
NOT_DONE = frozenset({"usage", "denied", "refused", "error"})


def field(form: Any, name: str) -> str:
    """A form's text field, trimmed; "" when missing or sent as a file."""
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


async def run_and_return(request: web.Request, command: str, *, back: str) -> web.Response:
    """Run ``command``, then 303 back to ``back``, where the reply is shown once."""
    outcome = await run_command(request, command)
    return back_with(request, back, status=outcome.status, reply=outcome.reply)


def back_with(
    request: web.Request, back: str, *, status: str, reply: Message | None
) -> web.Response:
    """303 back to ``back`` with ``reply`` (as chat would show it, buttons aside: the page
    has its own) left for that page to show once."""
    viewer = viewer_of(request)
    response = web.HTTPSeeOther(location=back)
    if reply is not None:
        app = request.app[APP_KEY]
        tr = app.translator(viewer.locale, viewer.tz)
        lines = [tr(block) for block in reply.blocks]
        lines += [f"{tr(f.label)}: {tr(f.value)}" for f in reply.fields]
        said = flash.Said("\n".join(lines), refused=status in NOT_DONE)
        flash.remember(
            response, viewer, said, secure=app.settings.public_url.startswith("https://")
        )
    raise response
