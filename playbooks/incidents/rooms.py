"""A room per incident: its name, its pinned summary, who is brought in, and when it
closes. Pure: the platform work is done by effects (OpenRoom, InviteToRoom, CloseRoom)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from playbooks.effects import (
    ArmTimer,
    CancelTimer,
    CloseRoom,
    Conversation,
    Effect,
    InviteToRoom,
    OpenRoom,
    Post,
)
from playbooks.incidents.machine import (
    FREEZING,
    Incident,
    IncidentState,
    Result,
    TimelineEntry,
    clocks_line,
)
from playbooks.messages import Message, MessageField, Severity, Text, raw, t
from playbooks.people import BOT

KIND_CLOSE = "incident.room_close"
MAX_NAME = 80  # Slack's limit on a channel name; the strictest of the platforms
_ADDRESS = re.compile(r"^#inc-(\d+)$")
# Who is brought in when they act on the incident: those who take it in hand.
HANDS_ON = frozenset({"ack", "start", "mitigate", "resolve"})


def address(incident_id: int) -> str:
    """How Shipwatch addresses an incident's room on every platform: ``#inc-42``."""
    return f"#inc-{incident_id}"


def incident_of(channel: str) -> int | None:
    """The incident whose room ``channel`` addresses, if it is one."""
    found = _ADDRESS.match(channel)
    return int(found.group(1)) if found else None


def platform_name(incident_id: int, title: str, *, platform: str = "") -> str:
    """``inc-42-checkout-returns-500``: lowercase letters, digits and hyphens, at most 80
    characters (Slack's rule, the strictest). Accents are dropped; a title with letters
    that have no such spelling (Chinese) gives the id alone, as does an empty one. The
    console, a terminal, keeps the short name (``inc-42``)."""
    base = f"inc-{incident_id}"
    if platform == "console":
        return base
    folded = unicodedata.normalize("NFKD", title)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    if not folded.isascii():
        return base
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if not slug:
        return base
    return f"{base}-{slug}"[:MAX_NAME].rstrip("-")


def summary_key(incident_id: int) -> str:
    return f"incident:{incident_id}:room-summary"


def summary(i: Incident) -> Message:
    """The room's pinned summary: what, how bad, who, and the clocks; edited as it changes."""
    none = t("incident.room.nobody")

    def who(handle: str | None) -> Text:
        return raw(f"@{handle}") if handle and handle != BOT else none

    fields = [
        MessageField(t("incident.room.field.severity"), raw(i.severity)),
        MessageField(t("incident.room.field.state"), t(f"incident.state.{i.state}")),
        MessageField(t("incident.room.field.service"), raw(i.service) if i.service else none),
        MessageField(t("incident.role.commander"), who(i.commander)),
        MessageField(t("incident.role.comms"), who(i.comms_lead)),
        MessageField(t("incident.role.scribe"), who(i.scribe)),
    ]
    if i.unresolved:
        fields.append(MessageField(t("incident.room.field.clocks"), clocks_line(i)))
    return Message(
        blocks=(t("incident.room.summary", id=i.id, title=i.title),),
        fields=tuple(fields),
        severity=_loudness(i),
    )


def _loudness(i: Incident) -> Severity:
    if not i.unresolved:
        return Severity.SUCCESS
    return Severity.DANGER if i.severity in FREEZING else Severity.WARNING


def opened_in_room(
    result: Result,
    *,
    name: str,
    shared: Conversation,
    close_after: timedelta,
    paged: Sequence[str] = (),
) -> Result:
    """An incident just opened with ``result.incident.channel`` its room: the room is made
    first (its posts wait for it), its people brought in, and the shared channel and the
    tech channel get one line naming the room instead of the whole post."""
    i = result.incident
    room = i.channel
    line = _room_line(i, name)
    effects: list[Effect] = [
        _open_room(i, room, name=name, fallback=shared, close_after=close_after),
        *invitations(room, [i.opened_by, i.commander, *paged]),
    ]
    for effect in result.effects:
        if isinstance(effect, Post) and effect.conversation != room:
            effects.append(Post(effect.conversation, Message.of(line, severity=_loudness(i))))
        else:
            effects.append(effect)
    effects.append(Post(shared, Message.of(line, severity=_loudness(i))))
    reply = result.reply or Message.of(line)
    return replace(result, effects=effects, reply=replace(reply, blocks=(line, *reply.blocks)))


def raised_into_room(
    result: Result,
    *,
    room: Conversation,
    name: str,
    close_after: timedelta,
    people: Sequence[str] = (),
) -> Result:
    """An incident raised into a severity that has rooms, opened without one: the room is
    made now (its summary as the incident stands), everyone who has had a hand in it so
    far brought in (``people``: paged, acknowledged, given a role), and the severity's news
    in the shared channel (and the tech channel) names the room, where its news goes from
    now on."""
    i = result.incident
    line = _room_line(i, name)
    effects: list[Effect] = [
        _open_room(i, room, name=name, fallback=i.channel, close_after=close_after),
        *invitations(room, [i.opened_by, i.commander, i.comms_lead or "", i.scribe or "", *people]),
    ]
    news = result.reply.blocks[:1] if result.reply is not None else ()
    for effect in result.effects:
        if isinstance(effect, Post) and news and effect.message.blocks[:1] == news:
            effect = replace(effect, message=_with_line(effect.message, line))
        effects.append(effect)
    reply = _with_line(result.reply, line) if result.reply is not None else None
    return replace(result, effects=effects, reply=reply)


def _room_line(i: Incident, name: str) -> Text:
    """The one line the shared and tech channels get: the incident and its room."""
    return t("incident.room.line", id=i.id, severity=i.severity, title=i.title, room=name)


def _open_room(
    i: Incident, room: Conversation, *, name: str, fallback: Conversation, close_after: timedelta
) -> OpenRoom:
    """Make ``room`` for ``i``: its topic, its pinned summary as the incident stands, and
    where its news goes if the platform will not make it (``fallback``)."""
    return OpenRoom(
        incident_id=i.id,
        conversation=room,
        name=name,
        topic=f"#{i.id} [{i.severity}] {i.title}"[:250],
        summary=summary(i),
        summary_key=summary_key(i.id),
        fallback=fallback,
        close_after=close_after,
    )


def _with_line(message: Message, line: Text) -> Message:
    return replace(message, blocks=(*message.blocks, line))


def invitations(room: Conversation, people: Iterable[str]) -> list[Effect]:
    wanted = tuple(dict.fromkeys(p for p in people if p and p != BOT))
    return [InviteToRoom(room, wanted)] if wanted else []


def changed(before: Incident, after: Incident, timeline: Sequence[TimelineEntry]) -> list[Effect]:
    """What a change to an incident with a room does there: people who took it in hand or
    were given a role are brought in, and the pinned summary is edited when it reads
    differently."""
    if incident_of(after.channel.channel) is None:
        return []
    roles = [
        new
        for old, new in (
            (before.commander, after.commander),
            (before.comms_lead, after.comms_lead),
            (before.scribe, after.scribe),
        )
        if new and new != old
    ]
    hands = [entry.actor for entry in timeline if entry.kind in HANDS_ON]
    effects = invitations(after.channel, [*hands, *roles])
    if summary(before) != summary(after):
        effects.append(
            Post(after.channel, summary(after), edit_key=summary_key(after.id), revision_only=True)
        )
    return effects


def _close_key(incident_id: int) -> str:
    return f"incident:{incident_id}:room_close"


def after_move(
    before: Incident, after: Incident, *, now: datetime, close_after: timedelta
) -> list[Effect]:
    """Closing the incident closes its room after a grace (a last word may still be said
    there); reopening it keeps the room."""
    if incident_of(after.channel.channel) is None:
        return []
    if after.state is IncidentState.CLOSED and before.state is not IncidentState.CLOSED:
        return [
            ArmTimer(_close_key(after.id), KIND_CLOSE, now + close_after, {"incident_id": after.id})
        ]
    if before.state is IncidentState.CLOSED and after.state is not IncidentState.CLOSED:
        return [CancelTimer(_close_key(after.id))]
    return []


def close_due(i: Incident) -> list[Effect]:
    """The grace after closing has passed: a last word in the room, then it is closed."""
    if i.state is not IncidentState.CLOSED or incident_of(i.channel.channel) is None:
        return []
    return [
        Post(i.channel, Message.of(t("incident.room.closing", id=i.id))),
        CloseRoom(i.channel),
    ]
