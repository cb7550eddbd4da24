"""What a person does on a page runs as the command they would have typed in chat: the
same pipeline, the same role checks, the same audit line, with ``web`` as the platform.
A refusal comes back as the reply the chat would have shown (blockers and all)."""

from __future__ import annotations

import uuid

from aiohttp import web

from bot.hooks import APP_KEY
from bot.web.console.viewer import viewer_of
from commands.core.invocations import CommandInvocation, Outcome
from playbooks.effects import Conversation

PLATFORM = "web"


async def run_command(request: web.Request, text: str) -> Outcome:
    """Run ``text`` (``/incident ack 42``) as the signed-in person. Each call is one
    event: a form sent twice runs twice only if the command itself allows it."""
    viewer = viewer_of(request)
    app = request.app[APP_KEY]
    return await app.dispatch(
        CommandInvocation(
            platform=PLATFORM,
            user_id=viewer.person.handle,
            conversation=Conversation(PLATFORM, f"@{viewer.person.handle}"),
            text=text,
            event_id=f"web:{uuid.uuid4().hex}",
        )
    )
