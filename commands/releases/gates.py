"""The gates a start or a retry passes before traffic moves: open P0/P1 incidents on the
service, guards still reading bad (a retry), the deploy windows; each may be forced past
by a release manager with a reason, audited and said in the release channel."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from commands.core.context import CommandContext
from commands.core.registry import ParsedCommand
from commands.incidents.rows import to_view as incident_view
from commands.incidents.rows import window_view
from commands.releases import launch_rows
from playbooks.effects import Post
from playbooks.errors import PermissionDenied
from playbooks.incidents.machine import FREEZING
from playbooks.launch.plan import WindowPolicy
from playbooks.messages import Message, Text, joined, t
from playbooks.people import Role
from playbooks.releases import gates, machine
from playbooks.releases.gates import Hold
from playbooks.releases.machine import Release, Result
from playbooks.releases.plan import Service
from storage.repositories import incidents as incident_repo
from storage.repositories import maintenance as maintenance_repo


@dataclass(slots=True)
class Passed:
    """How a move got through its gates: ``reason`` when a release manager (``actor``)
    forced it, ``holds`` what it was forced past (the window is said on its own),
    ``notes`` lines the reply carries either way."""

    actor: str = ""
    reason: str = ""
    window_forced: bool = False
    holds: list[Hold] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)


def check(
    ctx: CommandContext,
    cmd: ParsedCommand,
    service: Service,
    *,
    what: str,
    windows: WindowPolicy | None,
    reason: str,
    retrying: Release | None = None,
) -> Passed:
    """Every hold on a start (``what="start"``) or a retry, in the order a person weighs
    them: incidents, guards, the window (``windows`` None: not judged now). Refused with the
    first as the sentence unless forced; ``reason`` is the release manager's, or ""."""
    force = bool(cmd.flags["force"])
    if force and not ctx.actor.has_role(Role.RELEASE_MANAGER):
        raise PermissionDenied(command=f"/release {what} --force", role=Role.RELEASE_MANAGER.value)
    rows = incident_repo.search(
        ctx.session, unresolved_only=True, severities=sorted(FREEZING), service=service.name
    )
    oldest_first = [incident_view(row) for row in reversed(rows)]
    holds = gates.incident_holds(service.name, oldest_first, what=what)
    frozen = maintenance_repo.freezing(ctx.session, service=service.name, now=ctx.now)
    holds += gates.maintenance_holds(service.name, [window_view(w) for w in frozen], what=what)
    passed = Passed()
    if retrying is not None:
        holds += gates.guard_holds(retrying, now=ctx.now)
        unread = gates.unread(retrying, now=ctx.now)
        if unread:
            passed.notes.append(t("release.retry_unread", guards=", ".join(unread)))
    window = (
        launch_rows.closed_window(ctx, windows, service=service.name, what=what)
        if windows is not None
        else None
    )
    if (holds or window is not None) and not force:
        # The first hold in a sentence, the others named after it, the window in its own.
        first = holds[0].refusal if holds else window
        assert first is not None
        others = [hold.line for hold in holds[1:]]
        if holds and window is not None:
            others.append(window)
        hint = t("window.force_hint", service=service.name)
        raise machine.Refused(first, details=(*others, hint))
    if force:
        passed.actor = ctx.actor.handle
        passed.reason = reason
        passed.holds = holds
        passed.window_forced = window is not None
    return passed


def said(result: Result, passed: Passed, *, window_line: str) -> str:
    """Put what a forced move went past into its history entry, its reply and its post in
    the release channel; the words for the audit entry."""
    lines = [hold.line for hold in passed.holds]
    if lines:
        lines.insert(0, t("release.forced_past", actor=passed.actor, reason=passed.reason))
    if passed.window_forced:
        lines.append(t(window_line, reason=passed.reason))
    held = [hold.words for hold in passed.holds]
    past = [hold.line for hold in passed.holds]
    if passed.window_forced:
        past.append(t("release.reason.outside_window"))
    if past and result.history:
        first = result.history[0]
        forced = t("release.reason.forced_past", held=joined(past), reason=passed.reason)
        result.history[0] = replace(
            first, reason=joined([first.reason, forced]) if first.reason else forced
        )
    reply = result.reply
    assert reply is not None
    announced = reply.blocks[:1]
    result.effects = [
        replace(e, message=_with(e.message, lines))
        if isinstance(e, Post) and e.message.blocks[:1] == announced
        else e
        for e in result.effects
    ]
    result.reply = _with(reply, [*lines, *passed.notes])
    # The window has its own words in the audit entry (``_finish_passed``).
    return f"; forced past {', '.join(held)}: {passed.reason}" if held else ""


def _with(message: Message, lines: list[Text]) -> Message:
    return replace(message, blocks=(*message.blocks, *lines)) if lines else message
