"""How incidents read: the card, the list, the timeline and the postmortem draft."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from playbooks.incidents import HANDLING, Incident, TimelineEntry, buttons, checklist_steps
from playbooks.messages import Message, MessageField, Severity, Text, raw, t
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


def show(i: Incident, *, now: datetime, acked_by: str | None = None) -> Message:
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
            MessageField(
                t("incident.timeline_when", at=e.at, actor=e.actor),
                raw(f"{e.kind}: {e.text}" if e.text else e.kind),
            )
            for e in entries
        ),
    )


def postmortem(i: Incident, entries: Sequence[TimelineEntry], *, now: datetime) -> str:
    """A Markdown draft. Headings stay in English: it is a document teams edit and file,
    and most postmortem templates are; the facts come from the timeline."""
    end = i.resolved_at or now
    lines = [
        f"# Postmortem: #{i.id} {i.title}",
        "",
        "## Summary",
        "",
        f"- Severity: {i.severity} (policy {i.policy.name})",
        f"- Service: {i.service or '-'}",
        f"- State: {i.state.value}",
        f"- Opened: {_iso(i.opened_at)} by @{i.opened_by}",
        f"- Commander: {'(nobody took command)' if i.commander == BOT else '@' + i.commander}",
        "",
        "## Impact",
        "",
        f"- Duration: {_span(end - i.opened_at)}"
        + ("" if i.resolved_at else " (not resolved yet)"),
        f"- Severity: {i.severity}",
        f"- Services: {i.service or '-'}",
        "",
        "## SLA",
        "",
        f"- Respond by {_iso(i.respond_due)}: " + _met(i.respond_due, i.acked_at),
        *(
            [f"- Start handling by {_iso(i.start_due)}: " + _met(i.start_due, i.started_at)]
            if i.start_due is not None
            else []
        ),
        f"- Resolve by {_iso(i.resolve_due)}: " + _met(i.resolve_due, i.resolved_at),
        "",
        "## Timeline",
        "",
        *(
            f"- {_iso(e.at)} @{e.actor} {e.kind}" + (f": {e.text}" if e.text else "")
            for e in entries
        ),
        "",
        "## Root cause",
        "",
        "_To be written._",
        "",
        "## Action items",
        "",
        "- [ ] _To be written._",
        "",
    ]
    return "\n".join(lines)


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value is not None else "-"


def _met(due: datetime | None, done: datetime | None) -> str:
    if due is None:
        return "-"
    if done is None:
        return "open"
    return "met" if done <= due else f"breached by {_span(done - due)}"


def _span(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"
