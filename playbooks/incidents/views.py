"""How incidents read: the card, the list, the timeline and the postmortem draft."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from playbooks.incidents.actions import Action
from playbooks.incidents.actions import fields as action_fields
from playbooks.incidents.actions import line as action_line
from playbooks.incidents.machine import (
    HANDLING,
    Incident,
    Move,
    TimelineEntry,
    buttons,
    checklist_steps,
)
from playbooks.messages import (
    Message,
    MessageField,
    Severity,
    Text,
    in_lines,
    raw,
    t,
    text_from_str,
)
from playbooks.people import BOT


def _clock(due: datetime | None, done: datetime | None, breached: bool, now: datetime) -> Text:
    if due is None:
        return raw("-")
    if done is not None:
        key = "incident.sla.met" if done <= due else "incident.sla.late"
        return t(key, at=done, due=due)
    if breached or now > due:
        return t("incident.sla.breached", due=due, over=now - due)
    return t("incident.sla.left", left=due - now, due=due)


def acknowledger(i: Incident, timeline: Sequence[TimelineEntry]) -> str | None:
    """Who answered: the person whose move (an ack, or starting, mitigating or resolving
    first) set the incident's acknowledgement time."""
    if i.acked_at is None:
        return None
    handling = {move.value for move in HANDLING}
    return next(
        (e.actor for e in timeline if e.at == i.acked_at and e.kind in handling),
        None,
    )


def show(
    i: Incident,
    *,
    now: datetime,
    acked_by: str | None = None,
    actions: Sequence[Action] = (),
    today: date | None = None,
) -> Message:
    rule = i.policy.rule(i.severity)
    acked = (
        t("incident.acked_by", actor=acked_by or "-", at=i.acked_at)
        if i.acked_at is not None
        else t("incident.not_acked")
    )
    fields = [
        MessageField(t("incident.field.state"), t(f"incident.state.{i.state}")),
        MessageField(t("incident.field.acked"), acked),
        MessageField(t("incident.field.severity"), raw(i.severity)),
        MessageField(t("incident.field.service"), raw(i.service or "-")),
        MessageField(
            t("incident.field.commander"),
            t("incident.no_commander") if i.commander == BOT else raw(f"@{i.commander}"),
        ),
        MessageField(
            t("incident.field.respond", deadline=rule.respond.describe()),
            _clock(i.respond_due, i.acked_at, i.respond_breached, now),
        ),
    ]
    if rule.start is not None:
        fields.append(
            MessageField(
                t("incident.field.start", deadline=rule.start.describe()),
                _clock(i.start_due, i.started_at, i.start_breached, now),
            )
        )
    if rule.resolve is not None:
        fields.append(
            MessageField(
                t("incident.field.resolve", deadline=rule.resolve.describe()),
                _clock(i.resolve_due, i.resolved_at, i.resolve_breached, now),
            )
        )
    if i.comms_lead:
        fields.append(MessageField(t("incident.field.comms"), raw(f"@{i.comms_lead}")))
    if i.scribe:
        fields.append(MessageField(t("incident.field.scribe"), raw(f"@{i.scribe}")))
    for item, after in checklist_steps(i).items():
        who = i.checklist.get(item)
        value = (
            t("incident.checklist.ticked", actor=who)
            if who
            else t("incident.checklist.open", due=i.opened_at + after, id=i.id, item=item)
        )
        fields.append(MessageField(t(f"incident.checklist.{item}"), value))
    fields += action_fields(actions, today=today or now.date())
    return Message(
        blocks=(t("incident.header", id=i.id, severity=i.severity, title=i.title),),
        fields=tuple(fields),
        buttons=buttons(i),
        severity=Severity.DANGER if i.freezes_releases else Severity.INFO,
    )


def listing(incidents: Sequence[Incident], *, now: datetime) -> Message:
    if not incidents:
        return Message.of(t("incident.none"))
    return Message(
        blocks=(t("incident.list_header", count=len(incidents)),),
        fields=tuple(
            MessageField(
                raw(f"#{i.id} {i.severity}"),
                t(
                    "incident.list_line",
                    title=i.title,
                    state=t(f"incident.state.{i.state}"),
                    service=i.service or "-",
                    age=now - i.opened_at,
                ),
            )
            for i in incidents
        ),
    )


def timeline(i: Incident, entries: Sequence[TimelineEntry]) -> Message:
    return Message(
        blocks=(t("incident.timeline_header", id=i.id, title=i.title),),
        fields=tuple(
            MessageField(t("incident.timeline_when", at=e.at, actor=e.actor), _entry(e))
            for e in entries
        ),
    )


def _entry(e: TimelineEntry) -> Text:
    kind = t(f"incident.kind.{e.kind}") if e.kind in KINDS else raw(e.kind)
    if not e.text:
        return kind
    return t("incident.timeline_entry", kind=kind, text=text_from_str(e.text))


# Every kind of timeline line the bot writes; another (from a later version) shows as stored.
KINDS = frozenset(
    {
        *(m.value for m in Move),
        "severity",
        "update",
        "assign",
        "checklist",
        "notice",
        "sla",
        "note",
        "alert",
        "action",
        "action_done",
        "action_dropped",
        "forced",
        "public_update",
        "public_title",
        "command",  # a command typed in the incident's room
    }
)


def postmortem(
    i: Incident,
    entries: Sequence[TimelineEntry],
    *,
    now: datetime,
    actions: Sequence[Action] = (),
) -> Text:
    """A Markdown draft in the reader's language: the headings of the plans' own reviews
    (事后总结, 根因分析, 改进措施), the facts from the timeline. Times are ISO 8601 in UTC,
    as a document filed and shared across zones wants them."""
    end = i.resolved_at or now
    commander = t("postmortem.nobody") if i.commander == BOT else raw(f"@{i.commander}")
    lines = [
        t("postmortem.title", id=i.id, title=i.title),
        BLANK,
        t("postmortem.summary"),
        BLANK,
        t("postmortem.severity_policy", severity=i.severity, policy=i.policy.name),
        t("postmortem.service", service=i.service or "-"),
        t("postmortem.state", state=t(f"incident.state.{i.state}")),
        t("postmortem.opened", at=_iso(i.opened_at), actor=i.opened_by),
        t("postmortem.commander", who=commander),
        BLANK,
        t("postmortem.impact"),
        BLANK,
        t(
            "postmortem.duration",
            duration=_minutes(end - i.opened_at),
            open=BLANK if i.resolved_at else t("postmortem.not_resolved"),
        ),
        t("postmortem.severity", severity=i.severity),
        t("postmortem.services", services=i.service or "-"),
        BLANK,
        t("postmortem.sla"),
        BLANK,
        t("postmortem.respond", due=_iso(i.respond_due), outcome=_met(i.respond_due, i.acked_at)),
        *(
            [t("postmortem.start", due=_iso(i.start_due), outcome=_met(i.start_due, i.started_at))]
            if i.start_due is not None
            else []
        ),
        t(
            "postmortem.resolve",
            due=_iso(i.resolve_due),
            outcome=_met(i.resolve_due, i.resolved_at),
        ),
        BLANK,
        t("postmortem.timeline"),
        BLANK,
        *(t("postmortem.entry", at=_iso(e.at), actor=e.actor, entry=_entry(e)) for e in entries),
        BLANK,
        t("postmortem.root_cause"),
        BLANK,
        t("postmortem.to_write"),
        BLANK,
        t("postmortem.actions"),
        BLANK,
        *(
            [
                t(
                    "postmortem.action",
                    mark=" " if a.is_open else "x",
                    line=action_line(a, today=now.date()),
                )
                for a in actions
            ]
            or [t("postmortem.action_todo")]
        ),
        BLANK,
    ]
    return in_lines(lines)


BLANK = raw("")


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value is not None else "-"


def _met(due: datetime | None, done: datetime | None) -> Text:
    if due is None:
        return raw("-")
    if done is None:
        return t("postmortem.outcome.open")
    if done <= due:
        return t("postmortem.outcome.met")
    return t("postmortem.outcome.breached", late=_minutes(done - due))


def _minutes(value: timedelta) -> timedelta:
    """A span to the minute, as the draft states it."""
    return timedelta(minutes=int(value.total_seconds() // 60))
