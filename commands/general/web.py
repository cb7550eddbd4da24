"""/web: a one-time link that signs the person in to the web console, and /web signout,
which ends all of their console sessions.

The link goes by direct message, never into the conversation the command was typed in:
whoever opens a link posted in a shared channel would be signed in as its owner. The
terminal console is one person's own, so there the link is the reply."""

from __future__ import annotations

from commands.core.context import CommandContext
from commands.core.registry import CommandSpec, ParsedCommand
from playbooks.effects import DirectMessage
from playbooks.messages import Message, Severity, raw, t
from storage.repositories import web_sessions

# Where the command is typed in a terminal on the server itself: the reply is private.
PRIVATE_PLATFORMS = frozenset({"console"})


def sign_in(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    if ctx.sign_in is None:
        return Message.of(t("web.link.off"), severity=Severity.WARNING)
    person = ctx.directory.get(ctx.actor.handle)
    if person is None:
        return Message.of(t("web.link.guest"), severity=Severity.WARNING)
    url = raw(ctx.sign_in.link(person.handle, ctx.now))
    minutes = ctx.sign_in.minutes
    if ctx.conversation.platform in PRIVATE_PLATFORMS:
        return Message.of(t("web.link.here", url=url, minutes=minutes))
    letter = Message.of(t("web.link.letter", url=url, minutes=minutes))
    ctx.effects.append(DirectMessage(person.handle, letter))
    return Message.of(t("web.link.sent", minutes=minutes))


def sign_out(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    ended = web_sessions.revoke_all(ctx.session, handle=ctx.actor.handle)
    ctx.audit_detail = f"sessions={ended}"
    return Message.of(t("web.signout.done", count=ended) if ended else t("web.signout.none"))


SPECS = (
    CommandSpec(family="web", verb=None, handler=sign_in, summary="help.web.summary"),
    CommandSpec(
        family="web",
        verb="signout",
        handler=sign_out,
        summary="help.web.signout.summary",
        changes_state=True,
    ),
)
