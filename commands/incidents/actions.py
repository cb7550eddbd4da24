"""/incident action: add, list, finish and drop an incident's follow-up actions, and remind
their owners when they fall due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from sqlmodel import Session

from commands.core.context import CommandContext, SystemContext
from commands.core.grammar import Choice, Mention, SeverityLevel, Word, free_text
from commands.core.named import person_named
from commands.core.registry import Arg, Flag, ParsedCommand, verb_of
from commands.incidents.rows import save, to_view
from playbooks.errors import NotFound, PermissionDenied, UsageError
from playbooks.incidents import actions as rules
from playbooks.incidents.actions import Action, ActionState
from playbooks.incidents.machine import Result
from playbooks.messages import Message, t
from playbooks.people import Role
from storage.models import IncidentAction, Timer
from storage.repositories import incident_actions as repo
from storage.repositories import incidents as incident_repo

SUBCOMMANDS = ("add", "list", "done", "drop")
# the options each takes; another one given is refused, not silently ignored
OPTIONS = {
    "add": ("owner", "due", "priority"),
    "list": ("mine", "open"),
    "done": ("note",),
    "drop": ("reason",),
}
MAX_NOTE = 2000


def to_action(row: IncidentAction) -> Action:
    assert row.id is not None
    return Action(
        id=row.id,
        incident_id=row.incident_id,
        text=row.text,
        owner=row.owner,
        priority=row.priority,
        state=ActionState(row.state),
        created_at=row.created_at,
        created_by=row.created_by,
        due=row.due,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        note=row.note,
    )


def of_incident(session: Session, incident_id: int) -> list[Action]:
    return [to_action(r) for r in repo.of_incident(session, incident_id=incident_id)]


def of_owner(session: Session, owner: str) -> list[Action]:
    return [to_action(r) for r in repo.search(session, owner=owner, open_only=True)]


def week_for_report(
    ctx: SystemContext,
    *,
    start: datetime,
    end: datetime,
    today: date,
    services: Sequence[str] = (),
) -> rules.WeekOfActions:
    """The actions a weekly report over (start, end] speaks of, of ``services``' incidents."""
    found = [to_action(r) for r in repo.for_report(ctx.session, start=start, services=services)]
    return rules.week_of(found, start=start, end=end, today=today)


def _zone_of(ctx: CommandContext | SystemContext, handle: str) -> tzinfo:
    person = ctx.directory.get(handle)
    return person.tz if person is not None and person.tz is not None else ctx.tz


def today_for(ctx: CommandContext | SystemContext, handle: str) -> date:
    return ctx.now.astimezone(_zone_of(ctx, handle)).date()


def _number(word: str, *, usage: str) -> int:
    value = word.lstrip("#")
    if not value.isdigit() or len(value) > 12:
        raise UsageError(t("action.bad_number", value=word), usage=usage)
    return int(value)


def _split(words: str | None) -> tuple[str, str]:
    first, _, rest = (words or "").strip().partition(" ")
    return first, rest.strip()


def _load_row(ctx: CommandContext, word: str, *, usage: str) -> IncidentAction:
    if not word:
        raise UsageError(t("action.number_needed"), usage=usage)
    number = _number(word, usage=usage)
    row = repo.get(ctx.session, action_id=number, for_update=True)
    if row is None:
        raise NotFound(t("action.unknown", n=number))
    return row


def _record(ctx: CommandContext, row: IncidentAction, outcome: rules.Outcome) -> None:
    """The action as the rules left it, and its lines on its incident's timeline."""
    after = outcome.action
    row.state, row.closed_at, row.closed_by, row.note = (
        after.state.value,
        after.closed_at,
        after.closed_by,
        after.note,
    )
    ctx.session.add(row)
    incident = incident_repo.get(ctx.session, incident_id=row.incident_id)
    assert incident is not None
    save(ctx.session, incident, Result(to_view(incident), timeline=outcome.timeline))
    ctx.effects += outcome.effects


def action(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    sub: str = cmd.args["sub"]
    stray = [f"--{name}" for name, value in cmd.flags.items() if value and name not in OPTIONS[sub]]
    if stray:
        known = ", ".join(f"--{name}" for name in OPTIONS[sub])
        raise UsageError(
            t("grammar.unknown_flag", value=stray[0], known=known), usage=cmd.spec.usage()
        )
    if sub == "list":
        return _list(ctx, cmd)
    if not ctx.actor.has_role(Role.RESPONDER):
        raise PermissionDenied(command=f"/incident action {sub}", role=Role.RESPONDER.value)
    if sub == "add":
        return _add(ctx, cmd)
    return _close(ctx, cmd, dropping=sub == "drop")


def _add(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    usage = cmd.spec.usage()
    first, rest = _split(cmd.args["words"])
    if not first:
        raise UsageError(t("action.incident_needed"), usage=usage)
    incident_id = _number(first, usage=usage)
    text = free_text(rest, limit=rules.MAX_TEXT, needed=t("action.text_needed"), usage=usage)
    if cmd.flags["owner"] is None:
        raise UsageError(t("action.owner_needed"), usage=usage)
    owner = person_named(ctx, cmd.flags["owner"])
    incident = incident_repo.get(ctx.session, incident_id=incident_id, for_update=True)
    if incident is None:
        raise NotFound(t("incident.unknown", id=incident_id))
    due = None
    if cmd.flags["due"] is not None:
        due = rules.parse_due(cmd.flags["due"], today=today_for(ctx, owner.handle))
    row = repo.add(
        ctx.session,
        IncidentAction(
            incident_id=incident_id,
            text=text,
            owner=owner.handle,
            priority=cmd.flags["priority"] or incident.severity,
            due=due,
            state=ActionState.OPEN.value,
            created_at=ctx.now,
            created_by=ctx.actor.handle,
        ),
    )
    outcome = rules.add(
        to_action(row),
        incident_title=incident.title,
        tz=_zone_of(ctx, owner.handle),
        now=ctx.now,
        here_is_owner=owner.handle == ctx.actor.handle,
        here=ctx.conversation,
    )
    _record(ctx, row, outcome)
    ctx.audit_detail = f"incident {incident_id}: action #{row.id} @{owner.handle}"
    return outcome.reply


def _close(ctx: CommandContext, cmd: ParsedCommand, *, dropping: bool) -> Message:
    usage = cmd.spec.usage()
    first, rest = _split(cmd.args["words"])
    if rest:
        raise UsageError(t("grammar.extra_args_plain", extra=rest, command="/incident action"))
    row = _load_row(ctx, first, usage=usage)
    if dropping:
        reason = free_text(
            cmd.flags["reason"], limit=MAX_NOTE, needed=t("action.reason_needed"), usage=usage
        )
        outcome = rules.drop(to_action(row), actor=ctx.actor.handle, now=ctx.now, reason=reason)
    else:
        note = free_text(cmd.flags["note"], limit=MAX_NOTE, needed=None, usage=usage)
        outcome = rules.done(to_action(row), actor=ctx.actor.handle, now=ctx.now, note=note)
    _record(ctx, row, outcome)
    ctx.audit_detail = f"incident {row.incident_id}: action #{row.id} {outcome.action.state}"
    return outcome.reply


def _list(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    usage = cmd.spec.usage()
    first, rest = _split(cmd.args["words"])
    if rest:
        raise UsageError(t("grammar.extra_args_plain", extra=rest, command="/incident action"))
    incident_id = _number(first, usage=usage) if first else None
    mine = bool(cmd.flags["mine"])
    rows = repo.search(
        ctx.session,
        owner=ctx.actor.handle if mine else None,
        open_only=bool(cmd.flags["open"]),
        incident_id=incident_id,
    )
    if incident_id is not None and incident_repo.get(ctx.session, incident_id=incident_id) is None:
        raise NotFound(t("incident.unknown", id=incident_id))
    found: Sequence[Action] = [to_action(r) for r in rows]
    header = t("action.list_header", count=len(found))
    return rules.listing(found, today=today_for(ctx, ctx.actor.handle), header=header)


def action_due(ctx: SystemContext, timer: Timer) -> None:
    row = repo.get(ctx.session, action_id=int(timer.payload["action_id"]), for_update=True)
    if row is None:
        return
    ctx.effects += rules.remind(to_action(row), tz=_zone_of(ctx, row.owner), now=ctx.now)


TIMER_HANDLERS = {rules.TIMER_KIND: action_due}

_spec = verb_of("incident", default_role=None, changes_state=True)

SPECS = (
    _spec(
        "action",
        action,
        args=(
            Arg("sub", Choice(SUBCOMMANDS)),
            Arg("words", Word(metavar="TEXT"), rest=True, required=False),
        ),
        flags=(
            Flag("owner", Mention()),
            Flag("due", Word(metavar="DATE")),
            Flag("priority", SeverityLevel()),
            Flag("note", Word(metavar="TEXT")),
            Flag("reason", Word(metavar="TEXT")),
            Flag("mine"),
            Flag("open"),
        ),
    ),
)
