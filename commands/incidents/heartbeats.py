"""Heartbeats: a beat arriving, the timer of a beat overdue, and /heartbeats.

A missed beat is told to the alert intake as a group of its own (``heartbeat:NAME``), so
it opens one incident an outage, folds into a storm, pages, and is held by a maintenance
window, as any alert is; the beat after it resolves the group and so the incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commands.core.context import CommandContext, SystemContext
from commands.core.registry import CommandSpec, ParsedCommand
from commands.incidents import alerts as intake
from playbooks.effects import ArmTimer, Conversation
from playbooks.incidents import heartbeats as rules
from playbooks.incidents.heartbeats import Beat
from playbooks.messages import Message
from storage.models import HeartbeatRow, Timer
from storage.repositories import channels
from storage.repositories import heartbeats as repo

KIND = "heartbeat"  # the inbound kind of a beat


def beat(ctx: SystemContext, name: str) -> Mapping[str, Any]:
    """``POST /hooks/heartbeat/NAME``: note the beat, move the timer of the next one, and
    if the heartbeat was missing, say it is back (resolving its incident)."""
    heartbeat = ctx.incidents.heartbeats.get(name)
    if heartbeat is None:  # the route checks; this replica's config may be older
        return {"action": "unknown", "summary": name}
    row = repo.get(ctx.session, name=name, for_update=True)
    action = "first" if row is None else "beat"
    if row is None:
        row = repo.add(ctx.session, HeartbeatRow(name=name, last_beat_at=ctx.now, beats=1))
    else:
        row.last_beat_at, row.beats = ctx.now, row.beats + 1
    if row.missing_since is not None:
        row.missing_since = None
        action = "back"
        back = rules.back(heartbeat, service_labels=ctx.incidents.alerts.service_labels)
        intake.on_notification(ctx, back)
    ctx.session.add(row)
    due = rules.due_at(heartbeat, ctx.now)
    ctx.effects.append(ArmTimer(rules.timer_key(name), rules.KIND, due, {"name": name}))
    return {"action": action, "heartbeat": name, "next_due": due.isoformat(), "summary": name}


def on_due(ctx: SystemContext, timer: Timer) -> None:
    """The next beat is due by now. If it has not come, the heartbeat is missing: an alert
    fires (unless a maintenance window holds it; its end looks again)."""
    name = str(timer.payload["name"])
    heartbeat = ctx.incidents.heartbeats.get(name)
    row = repo.get(ctx.session, name=name, for_update=True)
    if heartbeat is None or row is None:
        return  # no longer configured, or never beat: nothing is expected of it
    stored = Beat(row.last_beat_at, row.beats, row.missing_since)
    if not rules.overdue(heartbeat, stored, now=ctx.now):
        if row.missing_since is None:
            # Its interval or grace changed since the timer was armed: keep time by them.
            due = rules.due_at(heartbeat, row.last_beat_at)
            ctx.effects.append(ArmTimer(rules.timer_key(name), rules.KIND, due, {"name": name}))
        return
    missed = rules.missed(
        heartbeat,
        service_labels=ctx.incidents.alerts.service_labels,
        locale=_language_of_news(ctx, heartbeat.service),
    )
    answer = intake.on_notification(ctx, missed)
    if answer.get("action") != "held":
        row.missing_since = ctx.now
        ctx.session.add(row)


def _language_of_news(ctx: SystemContext, service: str) -> str:
    """The language of the channel an incident of ``service`` opened by an alert is told
    in (the service's incident channel, else alerts.yaml's): its title is written in it."""
    known = ctx.releases.services.get(service)
    where = known.incident_channel if known and known.incident_channel else None
    channel = Conversation.parse(
        where or ctx.incidents.alerts.channel, default_platform=ctx.home_platform
    )
    found = channels.locale(ctx.session, platform=channel.platform, channel=channel.channel)
    return found or ctx.default_locale


def listing(ctx: CommandContext, cmd: ParsedCommand) -> Message:
    beats = {
        row.name: Beat(row.last_beat_at, row.beats, row.missing_since)
        for row in repo.every(ctx.session)
    }
    return rules.listing(ctx.incidents.heartbeats, beats, now=ctx.now)


SPECS = (
    CommandSpec(
        family="heartbeats",
        verb=None,
        handler=listing,
        summary="help.heartbeats.summary",
    ),
)

INBOUND_HANDLERS = {KIND: beat}
TIMER_HANDLERS = {rules.KIND: on_due}
