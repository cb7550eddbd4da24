"""Which of a person's ways a direct message goes by: their identities on the platforms
running here, in people.yaml's order or in the order a page's step names (``via``), one
at a time (the next when one fails) or every one at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from playbooks.effects import DirectMessage
from playbooks.people import Directory
from storage.models import PageEvent
from storage.repositories import pages


@dataclass(slots=True)
class Routes:
    # (platform, address, what its failure reports back) for each message to enqueue
    each: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    missing: str = ""  # the ways a step named that the person has none of here
    # Whether a way was chosen (a step's via, or more than one to choose from): then a
    # page's timeline says which; a person with one way is simply notified.
    chosen: bool = False


def anyone(platform: str, user_id: str) -> bool:
    return True


def routes(
    directory: Directory,
    effect: DirectMessage,
    reachable: frozenset[str],
    can_reach: Callable[[str, str], bool],
) -> Routes:
    """Where ``effect`` goes. Someone reachable on no running platform still shows up in
    the console (and, with no console running, in the dead letters an admin reviews)."""
    person = directory.get(effect.person)
    identities = dict(person.identities) if person else {}
    running = [(p, u) for p, u in identities.items() if p in reachable]
    usable = [(p, u) for p, u in running if can_reach(p, u)]
    found = Routes()
    if effect.ways:
        named = [(w, identities[w]) for w in effect.ways if (w, identities.get(w)) in usable]
        found.missing = ", ".join(w for w in effect.ways if w not in dict(named))
        usable = named or usable
    if not usable:
        # The first on a running platform, where the message becomes a dead letter naming
        # what is missing; else the console.
        usable = running[:1] or [("console", effect.person)]
    found.chosen = bool(effect.ways) or effect.every_way or len(usable) > 1
    chosen = usable if effect.every_way else usable[:1]
    for index, (platform, address) in enumerate(chosen):
        follow_up = None
        if effect.page_id is not None:
            left = [] if effect.every_way else [p for p, _ in usable[index + 1 :]]
            follow_up = {
                "page": effect.page_id,
                "person": effect.person,
                "way": platform,
                "next": left,
            }
        found.each.append((platform, address, follow_up))
    return found


def note(session: Session, effect: DirectMessage, *, now: datetime, kind: str, text: str) -> None:
    """A page's timeline line about its ways: which was tried, which it named in vain."""
    assert effect.page_id is not None
    pages.add_event(
        session,
        PageEvent(page_id=effect.page_id, at=now, kind=kind, person=effect.person, text=text),
    )
