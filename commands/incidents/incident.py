"""/incident: open, triage, acknowledge, update, resolve and write up an incident."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from commands.core.context import CommandContext, SystemContext
from commands.core.effects import without_echo
from commands.core.grammar import (
    SEVERITIES,
    Choice,
    Integer,
    Mention,
    SeverityLevel,
    Word,
    free_text,
)
from commands.core.named import person_named, service_named
from commands.core.registry import Arg, Flag, Handler, ParsedCommand, verb_of
from commands.incidents import actions as incident_actions
from commands.incidents import public
from commands.incidents import rooms as incident_rooms
from commands.incidents.rows import save, timeline_of, to_view
from commands.oncall import paging
from playbooks.effects import Conversation
from playbooks.errors import InvalidTransition, NotFound, UsageError
from playbooks.incidents import actions as action_rules
from playbooks.incidents import machine as lifecycle
from playbooks.incidents import rooms as room_rules
from playbooks.incidents import views
from playbooks.incidents.machine import Incident, Move, PagesFollow, Result
from playbooks.incidents.policy import SeverityPolicy
from playbooks.lists import listed
from playbooks.messages import Button, ButtonStyle, Message, Text, t
from playbooks.people import Role
from playbooks.releases.plan import Service
from storage.models import IncidentRow, Timer
from storage.repositories import incidents as repo
from storage.unit_of_work import unit_of_work

MAX_TITLE = 200
MAX_TEXT = 2000
SEVERITY_LIST = ",".join(SEVERITIES)


def _load(ctx: CommandContext | SystemContext, incident_id: int) -> tuple[IncidentRow, Incident]:
    row = repo.get(ctx.session, incident_id=incident_id, for_update=True)
    if row is None:
        raise NotFound(t("incident.unknown", id=incident_id))
    return row, to_view(row)


def _text(value: str | None, *, limit: int, cmd: ParsedCommand, what: str) -> str:
    needed = t("incident.text_needed", what=t(f"incident.what.{what}"))
    return free_text(value, limit=limit, needed=needed, usage=cmd.spec.usage())


def _finish(ctx: CommandContext, row: IncidentRow, result: Result, detail: str) -> Message:
    save(ctx.session, row, result)
    reply = result.reply
    assert reply is not None
    ctx.effects += without_echo(result.effects, here=ctx.conversation, reply=reply)
    ctx.audit_detail = f"incident {row.id}: {detail}"
    return reply


def open_(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    title = _text(cmd.args["title"], limit=MAX_TITLE, cmd=cmd, what="title")
    severity: str = cmd.flags["sev"] or "P2"
    service: Service | None = None
    if cmd.flags["service"] is not None:
        service = service_named(ctx, cmd.flags["service"])
    policy = ctx.incidents.policy
    if cmd.flags["policy"] is not None:
        policy = ctx.incidents.policies.get(cmd.flags["policy"].lower(), policy)
        if policy.name != cmd.flags["policy"].lower():
            known = ", ".join(sorted(ctx.incidents.policies))
            raise UsageError(
                t("incident.unknown_policy", value=cmd.flags["policy"], known=known),
                usage=cmd.spec.usage(),
            )
    row, result = create(
        ctx,
        title=title,
        severity=severity,
        service=service.name if service else None,
        channel=ctx.conversation,
        opened_by=ctx.actor.handle,
        platform=ctx.conversation.platform,
        policy=policy,
    )
    return _finish(ctx, row, result, f"open {severity} {title}")


def create(
    ctx: CommandContext | SystemContext,
    *,
    title: str,
    severity: str,
    service: str | None,
    channel: Conversation,
    opened_by: str,
    platform: str,
    commander: str | None = None,
    policy: SeverityPolicy | None = None,
) -> tuple[IncidentRow, Result]:
    """A new incident row under the policy in force, opened: its clocks armed and its
    news posted to the service's incident channel (else ``channel``) and, for P0/P1,
    to the tech channel. Bare channel names are on ``platform``."""
    known = ctx.releases.services.get(service) if service else None
    if known is not None and known.incident_channel:
        channel = Conversation.parse(known.incident_channel, default_platform=platform)
    in_force = (policy or ctx.incidents.policy).for_incident(ctx.now.date())
    # Its clocks are set before the row is written, so that opening it is one INSERT.
    respond_due, start_due, resolve_due = lifecycle.deadlines(in_force, severity, start=ctx.now)
    row = repo.add(
        ctx.session,
        IncidentRow(
            title=title,
            severity=severity,
            state=lifecycle.IncidentState.OPEN.value,
            service=service,
            channel=f"{channel.platform}:{channel.channel}",
            policy=in_force.to_json(),
            opened_at=ctx.now,
            opened_by=opened_by,
            commander=commander or opened_by,
            respond_due=respond_due,
            start_due=start_due,
            resolve_due=resolve_due,
        ),
    )
    in_room = incident_rooms.give_room(ctx, row, shared=channel)
    result = lifecycle.open_incident(
        to_view(row), now=ctx.now, tech_channel=tech_channel(ctx, platform)
    )
    page = paging.page_for_incident(ctx, row)
    if in_room:
        paged = list(page.paged) if page else []
        result = incident_rooms.opened(ctx, row, result, shared=channel, paged=paged)
    return row, result


def tech_channel(ctx: CommandContext | SystemContext, platform: str) -> Conversation | None:
    tech = ctx.incidents.tech_channel
    return Conversation.parse(tech, default_platform=platform) if tech else None


def _move(the_move: Move, *, note_flag: bool = False) -> Handler:
    def handler(ctx: CommandContext, cmd: ParsedCommand) -> Message:
        row, incident = _load(ctx, cmd.args["id"])
        note = (cmd.flags.get("note") or "").strip() if note_flag else ""
        result = lifecycle.move(
            incident, the_move, actor=ctx.actor.handle, now=ctx.now, note=note[:MAX_TEXT]
        )
        if the_move is Move.CLOSE:
            _open_actions_allow_closing(ctx, incident, result, forced=bool(cmd.flags["force"]))
        pages = lifecycle.pages_follow(incident, result.incident, the_move)
        if pages is PagesFollow.STOP:
            paging.stop_for_incident(ctx, incident.id, actor=ctx.actor.handle)
        elif pages is PagesFollow.ANSWER:
            paging.ack_for_incident(ctx, incident.id, actor=ctx.actor.handle)
        reply = _finish(ctx, row, result, the_move.value)
        incident_rooms.after_move(ctx, incident, result.incident)
        if pages is PagesFollow.PAGE:  # with the incident saved open again
            paging.page_if_none(ctx, row)
        return reply

    return handler


def _open_actions_allow_closing(
    ctx: CommandContext, incident: Incident, result: Result, *, forced: bool
) -> None:
    """Open P0/P1 follow-up actions keep an incident from closing; ``--force`` closes it
    anyway, and its timeline says which actions were left open."""
    blocking = action_rules.blocking(incident_actions.of_incident(ctx.session, incident.id))
    if not blocking:
        return
    numbers = action_rules.numbers(blocking)
    if not forced:
        raise InvalidTransition(
            t(
                "action.close_blocked",
                id=incident.id,
                count=len(blocking),
                numbers=listed(f"#{a.id}" for a in blocking),
            )
        )
    result.timeline.append(
        lifecycle.TimelineEntry(ctx.now, ctx.actor.handle, action_rules.FORCED_KIND, numbers)
    )


def severity(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    reason = _text(cmd.flags["reason"], limit=MAX_TEXT, cmd=cmd, what="reason")
    row, incident = _load(ctx, cmd.args["id"])
    result = lifecycle.change_severity(
        incident,
        cmd.args["severity"],
        actor=ctx.actor.handle,
        now=ctx.now,
        reason=reason,
        tech_channel=tech_channel(ctx, incident.channel.platform),
    )
    result, room = incident_rooms.raised(ctx, row, incident, result)
    reply = _finish(ctx, row, result, f"severity {incident.severity} → {cmd.args['severity']}")
    page = paging.page_if_none(ctx, row)  # raised to a severity that pages: page now
    if room is not None and page is not None:
        ctx.effects += room_rules.invitations(room, page.paged)
    return reply


def assign(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    person = person_named(ctx, cmd.args["person"])
    row, incident = _load(ctx, cmd.args["id"])
    result = lifecycle.assign(
        incident, cmd.args["role"], person.handle, actor=ctx.actor.handle, now=ctx.now
    )
    return _finish(ctx, row, result, f"{cmd.args['role']} @{person.handle}")


def update(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    if cmd.flags.get("public"):  # meant for the status page: public.py
        return public.update(ctx, cmd)
    row, incident = _load(ctx, cmd.args["id"])
    if not (cmd.args["text"] or "").strip():  # the Update button: say how to write one
        return Message.of(t("incident.update_how", id=incident.id))
    text = _text(cmd.args["text"], limit=MAX_TEXT, cmd=cmd, what="update")
    return _finish(
        ctx,
        row,
        lifecycle.status_update(incident, actor=ctx.actor.handle, now=ctx.now, text=text),
        "update",
    )


def note(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    text = _text(cmd.args["text"], limit=MAX_TEXT, cmd=cmd, what="note")
    row, incident = _load(ctx, cmd.args["id"])
    result = Result(
        incident, timeline=[lifecycle.TimelineEntry(ctx.now, ctx.actor.handle, "note", text)]
    )
    result.reply = Message.of(t("incident.noted", id=incident.id))
    return _finish(ctx, row, result, "note")


def done(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    row, incident = _load(ctx, cmd.args["id"])
    item: str = cmd.args["item"]
    if item in incident.checklist:
        who = incident.checklist[item]
        return Message.of(
            t(
                "incident.checklist_done",
                id=incident.id,
                item=t(f"incident.checklist.{item}"),
                actor=who,
            )
        )
    result = lifecycle.tick_checklist(incident, item, actor=ctx.actor.handle, now=ctx.now)
    return _finish(ctx, row, result, f"done {item}")


def notify(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    """Send a communication step's notice to its audience (severity.yaml ``audiences``)."""
    item: str = cmd.args["item"]
    text = _text(cmd.args["text"], limit=MAX_TEXT, cmd=cmd, what="notice")
    row, incident = _load(ctx, cmd.args["id"])
    audience = ctx.incidents.audiences.get(item, ())
    if not audience:
        raise UsageError(
            t("incident.no_audience", id=incident.id, item=item), usage=cmd.spec.usage()
        )
    people = [entry[1:] for entry in audience if entry.startswith("@")]
    channels = [
        Conversation.parse(entry, default_platform=incident.channel.platform)
        for entry in audience
        if not entry.startswith("@")
    ]
    result = lifecycle.send_notice(
        incident,
        item,
        actor=ctx.actor.handle,
        now=ctx.now,
        text=text,
        channels=channels,
        people=people,
    )
    return _finish(ctx, row, result, f"notice {item}")


def show(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    row, incident = _load(ctx, cmd.args["id"])
    acked_by = views.acknowledger(incident, timeline_of(ctx.session, row))
    return views.show(
        incident,
        now=ctx.now,
        acked_by=acked_by,
        actions=incident_actions.of_incident(ctx.session, incident.id),
        today=incident_actions.today_for(ctx, ctx.actor.handle),
    )


def timeline(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    row, incident = _load(ctx, cmd.args["id"])
    return views.timeline(incident, timeline_of(ctx.session, row))


def postmortem(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    row, incident = _load(ctx, cmd.args["id"])
    return Message.of(
        views.postmortem(
            incident,
            timeline_of(ctx.session, row),
            now=ctx.now,
            actions=incident_actions.of_incident(ctx.session, incident.id),
        )
    )


def listing(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    wanted = [s.strip().upper() for s in (cmd.flags["sev"] or "").split(",") if s.strip()]
    bad = [s for s in wanted if s not in SEVERITIES]
    if bad:
        raise UsageError(
            t("grammar.bad_severity", value=bad[0], valid=", ".join(SEVERITIES)),
            usage=cmd.spec.usage(),
        )
    rows = repo.search(
        ctx.session,
        unresolved_only=bool(cmd.flags["open"]),
        severities=wanted,
        service=(cmd.flags["service"] or "").lower() or None,
    )
    return views.listing([to_view(r) for r in rows], now=ctx.now)


def triage(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    """The seed's questions one at a time, with Yes/No buttons; stateless: each button
    carries the answers so far."""
    answers: str = (cmd.args["answers"] or "").lower()
    if any(a not in "yn" for a in answers) or len(answers) > len(lifecycle.TRIAGE):
        raise UsageError(t("incident.triage_bad_answers"), usage=cmd.spec.usage())
    index, proposed = lifecycle.triage(answers)
    target = cmd.flags["id"]
    suffix = f" --id {target}" if target else ""
    if proposed is None:
        question = lifecycle.TRIAGE[index][0]
        return Message(
            blocks=(
                t(
                    "incident.triage_question",
                    number=index + 1,
                    total=len(lifecycle.TRIAGE),
                    question=t(f"incident.triage.{question}"),
                ),
            ),
            buttons=(
                Button(
                    t("incident.button.yes"),
                    f"/incident triage {answers}y{suffix}",
                    ButtonStyle.DANGER,
                ),
                Button(t("incident.button.no"), f"/incident triage {answers}n{suffix}"),
            ),
        )
    reply_buttons: tuple[Button, ...] = ()
    if target:
        reply_buttons = (
            Button(
                t("incident.button.set_severity", severity=proposed),
                f'/incident sev {target} {proposed} --reason "triage"',
                ButtonStyle.PRIMARY,
            ),
        )
    return Message(blocks=(t("incident.triage_result", severity=proposed),), buttons=reply_buttons)


# ---------------------------------------------------------------- clocks


def _decided(
    ctx: SystemContext, timer: Timer, decide: Callable[[Incident], Result]
) -> IncidentRow | None:
    """The timer's incident, as ``decide`` leaves it (None: the incident is gone)."""
    row = repo.get(ctx.session, incident_id=int(timer.payload["incident_id"]), for_update=True)
    if row is None:
        return None
    result = decide(to_view(row))
    save(ctx.session, row, result)
    ctx.effects += result.effects
    return row


def _on_timer(decide: Callable[[Incident], Result]) -> Callable[[SystemContext, Timer], None]:
    def handler(ctx: SystemContext, timer: Timer) -> None:
        _decided(ctx, timer, decide)

    return handler


def _timer_handlers() -> dict[str, Callable[[SystemContext, Timer], None]]:
    def with_now(fn: Callable[..., Result]) -> Callable[[SystemContext, Timer], None]:
        def handler(ctx: SystemContext, timer: Timer) -> None:
            item = timer.payload.get("item")
            extra = (item,) if item else ()
            _on_timer(lambda i: fn(i, *extra, now=ctx.now))(ctx, timer)

        return handler

    def update_due(ctx: SystemContext, timer: Timer) -> None:
        said = timer.payload.get("said")
        _on_timer(lambda i: lifecycle.update_due(i, now=ctx.now, said=said))(ctx, timer)

    def checklist_due(ctx: SystemContext, timer: Timer) -> None:
        item, ahead = str(timer.payload["item"]), bool(timer.payload.get("ahead"))
        _on_timer(lambda i: lifecycle.checklist_due(i, item, now=ctx.now, ahead=ahead))(ctx, timer)

    def respond_due(ctx: SystemContext, timer: Timer) -> None:
        row = _decided(ctx, timer, lambda i: lifecycle.respond_due(i, now=ctx.now))
        if row is not None and row.state == lifecycle.IncidentState.OPEN.value:
            paging.respond_missed(ctx, row)

    return {
        lifecycle.KIND_RESPOND: respond_due,
        lifecycle.KIND_START_WARN: with_now(lifecycle.start_warning),
        lifecycle.KIND_START: with_now(lifecycle.start_due),
        lifecycle.KIND_RESOLVE_WARN: with_now(lifecycle.resolve_warning),
        lifecycle.KIND_RESOLVE: with_now(lifecycle.resolve_due),
        lifecycle.KIND_UPDATE: update_due,
        lifecycle.KIND_CHECKLIST: checklist_due,
    }


TIMER_HANDLERS = _timer_handlers()

_ID = Arg("id", Integer(metavar="ID"))


_spec = verb_of("incident", default_role=Role.RESPONDER, changes_state=True)


SPECS = (
    _spec(
        "open",
        open_,
        args=(Arg("title", Word(metavar="TITLE"), rest=True),),
        flags=(
            Flag("sev", SeverityLevel()),
            Flag("service", Word(metavar="SERVICE")),
            Flag("policy", Word(metavar="POLICY")),
        ),
    ),
    _spec(
        "triage",
        triage,
        args=(Arg("answers", Word(metavar="ANSWERS"), required=False),),
        flags=(Flag("id", Integer(metavar="ID")),),
        role=None,
        changes_state=False,
    ),
    _spec("ack", _move(Move.ACK), args=(_ID,)),
    _spec(
        "sev",
        severity,
        args=(_ID, Arg("severity", SeverityLevel())),
        flags=(Flag("reason", Word(metavar="TEXT")),),
    ),
    _spec(
        "assign",
        assign,
        args=(_ID, Arg("role", Choice(("commander", "comms", "scribe"))), Arg("person", Mention())),
    ),
    _spec(
        "update",
        update,
        args=(_ID, Arg("text", Word(metavar="TEXT"), rest=True, required=False)),
        flags=(Flag("public"),),
    ),
    _spec("note", note, args=(_ID, Arg("text", Word(metavar="TEXT"), rest=True))),
    _spec("done", done, args=(_ID, Arg("item", Choice(lifecycle.CHECKLIST)))),
    _spec(
        "notify",
        notify,
        args=(
            _ID,
            Arg("item", Choice(lifecycle.CHECKLIST)),
            Arg("text", Word(metavar="TEXT"), rest=True),
        ),
    ),
    _spec("start", _move(Move.START), args=(_ID,)),
    _spec("mitigate", _move(Move.MITIGATE), args=(_ID,)),
    _spec(
        "resolve",
        _move(Move.RESOLVE, note_flag=True),
        args=(_ID,),
        flags=(Flag("note", Word(metavar="TEXT")),),
    ),
    _spec("reopen", _move(Move.REOPEN), args=(_ID,)),
    _spec(
        "close",
        _move(Move.CLOSE),
        args=(_ID,),
        flags=(Flag("force"),),
        role=Role.INCIDENT_COMMANDER,
    ),
    _spec(
        "list",
        listing,
        flags=(
            Flag("open"),
            Flag("sev", Word(metavar=SEVERITY_LIST)),
            Flag("service", Word(metavar="SERVICE")),
        ),
        role=None,
        changes_state=False,
    ),
    _spec("show", show, args=(_ID,), role=None, changes_state=False),
    _spec("timeline", timeline, args=(_ID,), role=None, changes_state=False),
    _spec("postmortem", postmortem, args=(_ID,), role=None, changes_state=False),
)


def postmortem_document(engine: Engine, *, incident_id: int, now: datetime) -> Text | None:
    """The postmortem draft as Markdown (for ``GET /incidents/ID/postmortem.md``), or None
    when there is no such incident."""
    with unit_of_work(engine) as session:
        row = repo.get(session, incident_id=incident_id)
        if row is None:
            return None
        return views.postmortem(
            to_view(row),
            timeline_of(session, row),
            now=now,
            actions=incident_actions.of_incident(session, incident_id),
        )
