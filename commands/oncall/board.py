"""What the web console's on-call page reads, in one transaction: each team's layers (who
holds each now and next, and the shifts over the weeks shown, overrides and swaps
applied, as ``/oncall schedule`` computes them) and the pages still open, with whom each
notification reached, on which platform, and who acknowledged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from commands.oncall.paging import to_view
from commands.oncall.rotations import HORIZON, schedule_of
from playbooks.oncall.paging import Page
from playbooks.oncall.rotations import LAYERS, Shift
from playbooks.oncall.teams import Team
from playbooks.people import Directory
from storage.models import OutboxMessage, PageEvent
from storage.repositories import outbox
from storage.repositories import pages as page_repo
from storage.unit_of_work import unit_of_work

OPEN_PAGES = 50  # the most open pages shown


@dataclass(frozen=True, slots=True)
class LayerNow:
    layer: str
    now: Shift
    next: Shift | None  # the shift after, within the horizon


@dataclass(frozen=True, slots=True)
class TeamBoard:
    team: Team
    layers: tuple[LayerNow, ...]
    shifts: Mapping[str, Sequence[Shift]]  # layer → its shifts over the weeks shown


@dataclass(frozen=True, slots=True)
class Reach:
    """One notification of a page: when, whom, for which step, on which platform, and how
    its delivery stands (sent, pending, dead, covered: seen in a channel already, held:
    over the person's page budget)."""

    at: datetime
    person: str
    step: str  # the step's target: primary, secondary, manager or @person
    platform: str | None
    delivery: str


@dataclass(frozen=True, slots=True)
class OpenPage:
    page: Page
    reached: tuple[Reach, ...]
    events: tuple[PageEvent, ...]  # the page's timeline, as /pages --id shows it


@dataclass(frozen=True, slots=True)
class Board:
    teams: tuple[TeamBoard, ...]
    pages: tuple[OpenPage, ...]


def board(
    engine: Engine,
    teams: Mapping[str, Team],
    directory: Directory,
    *,
    now: datetime,
    since: datetime,
    until: datetime,
) -> Board:
    """Every team's layers over [since, until) and the open (or acknowledged, not yet
    resolved) pages."""
    with unit_of_work(engine) as session:
        boards = tuple(
            _team(session, team, now=now, since=since, until=until)
            for _, team in sorted(teams.items())
        )
        pages = _open_pages(session, directory)
    return Board(boards, pages)


def _team(
    session: Session, team: Team, *, now: datetime, since: datetime, until: datetime
) -> TeamBoard:
    plan = schedule_of(session, team, now=now)
    layers = []
    shifts = {}
    for layer in (name for name in LAYERS if name in team.rotations):
        ahead = plan.shifts(layer, now, now + HORIZON)
        layers.append(LayerNow(layer, ahead[0], ahead[1] if len(ahead) > 1 else None))
        shifts[layer] = plan.shifts(layer, since, until)
    return TeamBoard(team, tuple(layers), shifts)


def _open_pages(session: Session, directory: Directory) -> tuple[OpenPage, ...]:
    rows = page_repo.search(session, open_only=True, limit=OPEN_PAGES)
    timelines = {row.id: page_repo.events(session, page_id=row.id or 0) for row in rows}
    notified = [e.at for events in timelines.values() for e in events if e.kind == "notify"]
    sent = outbox.directs_at(session, times=notified)
    return tuple(
        OpenPage(to_view(row), _reached(events, sent, directory), tuple(events))
        for row in rows
        if (events := timelines[row.id]) is not None
    )


def _reached(
    events: Sequence[PageEvent], sent: Sequence[OutboxMessage], directory: Directory
) -> tuple[Reach, ...]:
    held = {(e.at, e.person) for e in events if e.kind == "held"}
    reached = []
    for event in events:
        if event.kind != "notify":
            continue
        person = directory.get(event.person)
        # Where a direct message to them goes: one of their identities, or the console.
        addresses = {("console", event.person), *(person.identities.items() if person else ())}
        found = next(
            (
                row
                for row in sent
                if row.created_at == event.at and (row.platform, row.address) in addresses
            ),
            None,
        )
        if found is not None:
            platform, delivery = found.platform, found.state
        else:
            platform, delivery = None, "held" if (event.at, event.person) in held else "unknown"
        reached.append(Reach(event.at, event.person, event.text, platform, delivery))
    return tuple(reached)
