"""Write a transition's effects in the command's own transaction (the transactional outbox)."""

from __future__ import annotations

import dataclasses
import json
import random
import string
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from commands.core import ways
from playbooks.effects import (
    ArmTimer,
    CancelTimer,
    CloseRoom,
    Conversation,
    DirectMessage,
    Effect,
    InviteToRoom,
    Measure,
    OpenRoom,
    Post,
    ReadReport,
    SetTraffic,
    Unwatch,
    Watch,
)
from playbooks.messages import Message, message_to_json
from playbooks.people import Directory
from storage import notices
from storage.repositories import actions, outbox, rooms, timers

BUTTON_LIFETIME = timedelta(days=7)
TRAFFIC = "traffic"  # the outbox "platform" of traffic changes, delivered to backends


@dataclass(slots=True)
class Applied:
    armed: list[tuple[str, datetime]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    enqueued: int = 0
    # The platforms those messages are for (None: not known, as for an incident room's work).
    enqueued_on: set[str] | None = field(default_factory=set)
    measure: list[Measure | ReadReport] = field(default_factory=list)
    watch: list[Watch | Unwatch] = field(default_factory=list)  # in memory, in order

    def queued_for(self, platform: str) -> None:
        self.enqueued += 1
        if self.enqueued_on is not None:
            self.enqueued_on.add(platform)


def with_tokens(
    session: Session,
    message: Message,
    *,
    conversation: Conversation,
    now: datetime,
    new_token: Callable[[], str],
) -> Message:
    """Give every button a short token that stands for its command."""
    if not message.buttons:
        return message
    tokens = _new_tokens(session, len(message.buttons), new_token)
    actions.issue(
        session,
        [(token, button.command) for token, button in zip(tokens, message.buttons, strict=True)],
        platform=conversation.platform,
        channel=conversation.channel,
        now=now,
        expires_at=now + BUTTON_LIFETIME,
    )
    buttons = tuple(
        dataclasses.replace(button, action_id=token)
        for token, button in zip(tokens, message.buttons, strict=True)
    )
    return dataclasses.replace(message, buttons=buttons)


class SeededTokens:
    """Button tokens drawn from a seeded generator (drills), so a drill's output is the
    same from run to run. Called from the database threads: a token is drawn whole under
    a lock, so two requests at once never interleave their draws (nor share a token)."""

    ALPHABET = string.ascii_lowercase + string.digits

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            return "".join(self._rng.choice(self.ALPHABET) for _ in range(6))


def _new_tokens(session: Session, count: int, new_token: Callable[[], str]) -> list[str]:
    """``count`` different tokens no button holds yet. Seeded tokens repeat from run to
    run, and a database kept between drills may hold them already: the database is asked
    (one query) and those are drawn again. A random token (48 bits) is new."""
    seeded = isinstance(new_token, SeededTokens)
    tokens: list[str] = []
    while len(tokens) < count:
        drawn = [new_token() for _ in range(count - len(tokens))]
        taken = set(tokens) | (actions.taken(session, drawn) if seeded else set())
        tokens += [token for token in dict.fromkeys(drawn) if token not in taken][
            : count - len(tokens)
        ]
    return tokens


def apply(
    session: Session,
    effects: Iterable[Effect],
    *,
    now: datetime,
    directory: Directory,
    new_token: Callable[[], str],
    reachable: frozenset[str],
    can_reach: Callable[[str, str], bool] | None = None,
) -> Applied:
    applied = Applied()
    arming: list[timers.Arming] = []  # written together, before a cancel and at the end
    for effect in said_once(effects):
        match effect:
            case Post(
                conversation=conversation,
                message=message,
                edit_key=edit_key,
                priority=priority,
                revision_only=revision_only,
            ):
                message = with_tokens(
                    session, message, conversation=conversation, now=now, new_token=new_token
                )
                outbox.enqueue(
                    session,
                    platform=conversation.platform,
                    address=conversation.channel,
                    kind=outbox.REVISION if revision_only and edit_key else "post",
                    message=message_to_json(message),
                    now=now,
                    edit_key=edit_key,
                    priority=priority,
                )
                applied.queued_for(conversation.platform)
            case DirectMessage(person=handle, priority=priority, unless_in=unless_in):
                routes = ways.routes(directory, effect, reachable, can_reach or ways.anyone)
                if effect.page_id is not None and routes.missing:
                    ways.note(session, effect, now=now, kind="no_way", text=routes.missing)
                for platform, address, follow_up in routes.each:
                    message = with_tokens(
                        session,
                        effect.message,
                        conversation=Conversation(platform, f"@{handle}"),
                        now=now,
                        new_token=new_token,
                    )
                    outbox.enqueue(
                        session,
                        platform=platform,
                        address=address,
                        kind="direct",
                        message=message_to_json(message),
                        now=now,
                        priority=priority,
                        unless_member_of=_unless_member_of(directory, handle, unless_in),
                        follow_up=follow_up,
                    )
                    if effect.page_id is not None and routes.chosen:
                        ways.note(session, effect, now=now, kind="way", text=platform)
                    applied.queued_for(platform)
            case ArmTimer(key=key, kind=kind, due_at=due_at, payload=payload):
                arming.append(timers.Arming(key, kind, due_at, payload))
                # Only the last word on a key counts for the scheduler (a move that cancels
                # a timer and arms it again, say).
                applied.cancelled = [k for k in applied.cancelled if k != key]
                applied.armed = [(k, d) for k, d in applied.armed if k != key]
                applied.armed.append((key, due_at))
            case CancelTimer(key=key):
                _arm(session, arming, now=now)  # an arm before the cancel happens first
                applied.armed = [(k, d) for k, d in applied.armed if k != key]
                if timers.cancel(session, key=key):
                    applied.cancelled.append(key)
            case SetTraffic(service=service):
                # Per-service order: a later change never overtakes an earlier one.
                outbox.enqueue(
                    session,
                    platform=TRAFFIC,
                    address=service,
                    kind=TRAFFIC,
                    message=effect.to_json(),
                    now=now,
                )
                applied.queued_for(TRAFFIC)
            case OpenRoom() | InviteToRoom() | CloseRoom():
                _room_work(session, effect, directory=directory, now=now)
                applied.enqueued += 1
                applied.enqueued_on = None  # the room's platforms: not known here
            case Measure() | ReadReport():
                applied.measure.append(effect)
            case Watch() | Unwatch():
                applied.watch.append(effect)
    _arm(session, arming, now=now)
    _tell_other_replicas(session, applied)
    return applied


def _arm(session: Session, arming: list[timers.Arming], *, now: datetime) -> None:
    if arming:
        timers.arm_many(session, arming, now=now)
        arming.clear()


def _room_work(
    session: Session,
    effect: OpenRoom | InviteToRoom | CloseRoom,
    *,
    directory: Directory,
    now: datetime,
) -> None:
    """A room's platform work goes to the outbox in the room's own conversation, so the
    posts addressed to the room wait behind its making; the room row is written with it."""
    room = effect.conversation
    kind, payload, edit_key = outbox.ROOM_CLOSE, {}, None
    if isinstance(effect, OpenRoom):
        rooms.ask(
            session,
            incident_id=effect.incident_id,
            platform=room.platform,
            address=room.channel,
            name=effect.name,
            fallback=effect.fallback.channel,
            close_after_seconds=int(effect.close_after.total_seconds()),
            now=now,
        )
        kind, edit_key = outbox.ROOM_OPEN, effect.summary_key
        payload = {
            "name": effect.name,
            "topic": effect.topic,
            "summary": message_to_json(effect.summary),
        }
    elif isinstance(effect, InviteToRoom):
        kind = outbox.ROOM_INVITE
        handles = rooms.newly_invited(
            session, platform=room.platform, address=room.channel, people=list(effect.people)
        )
        if not handles:
            return  # everyone named is asked in already
        people = [directory.get(handle) for handle in handles]
        payload = {
            "people": handles,
            # Those with no identity on the room's platform cannot be brought in.
            "users": [
                p.identities[room.platform] for p in people if p and room.platform in p.identities
            ],
        }
    outbox.enqueue(
        session,
        platform=room.platform,
        address=room.channel,
        kind=kind,
        message=payload,
        now=now,
        edit_key=edit_key,
    )


def _unless_member_of(
    directory: Directory, handle: str, unless_in: tuple[Conversation, ...]
) -> dict[str, Any] | None:
    """Where the news is posted, with the person's own id on each platform: whether they
    are a member is asked when the message is sent (membership changes; the platform
    knows it, the configuration only where the platform cannot tell)."""
    if not unless_in:
        return None
    person = directory.get(handle)
    identities = person.identities if person else {}
    where = [[c.platform, c.channel, identities.get(c.platform)] for c in dict.fromkeys(unless_in)]
    return {"person": handle, "in": where}


def _tell_other_replicas(session: Session, applied: Applied) -> None:
    """Sent with the commit: other replicas arm these timers, deliver these messages and
    follow these releases' guards within a moment, not at their next sweep."""
    if applied.armed or applied.cancelled:
        notices.notify(session, "timers")
    if applied.enqueued:
        notices.notify(session, "outbox")
    if applied.watch:
        notices.notify(session, "guards")


def said_once(effects: Iterable[Effect]) -> list[Effect]:
    """The same message to the same conversation or person twice in one transaction (a P0
    whose incident channel is also the tech channel, say) is said once."""
    seen: set[tuple[str, str]] = set()
    kept: list[Effect] = []
    for effect in effects:
        if isinstance(effect, Post | DirectMessage):
            to = str(effect.conversation) if isinstance(effect, Post) else f"@{effect.person}"
            said = (to, json.dumps(message_to_json(effect.message), sort_keys=True, default=str))
            if said in seen:
                continue
            seen.add(said)
        kept.append(effect)
    return kept


def without_echo(effects: Iterable[Effect], *, here: Conversation, reply: Message) -> list[Effect]:
    """Drop the post that would repeat the reply in the conversation the command was typed
    in (a release or incident announced in its own channel): it is said once."""
    return [
        e
        for e in effects
        if not (
            isinstance(e, Post)
            and e.conversation == here
            and e.message.blocks[:1] == reply.blocks[:1]
        )
    ]
