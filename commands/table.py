"""Every command family Shipwatch knows, assembled into one table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from commands.core.pipeline import InboundHandler, ObservationHandler, TimerHandler
from commands.core.registry import CommandTable
from commands.general import admin, housekeeping, me, reminders, web
from commands.general import help as general
from commands.incidents import (
    actions,
    alerts,
    heartbeats,
    incident,
    maintenance,
    maintenance_after,
    public,
    rooms,
    stats,
)
from commands.oncall import ack_reminders, handoff, pages, paging, rotations
from commands.oncall import budget as page_budget
from commands.procedures import playbook
from commands.releases import launch, lifecycle, watch, windows
from commands.reports import notes, summary

_H = TypeVar("_H")


class DuplicateHandler(Exception):
    """Two modules handle the same timer, observation or inbound kind: one would silently
    replace the other, so the bot refuses to start."""


def merged(*tables: Mapping[str, _H]) -> dict[str, _H]:
    """The handler tables of several modules as one, refusing a kind handled twice."""
    handlers: dict[str, _H] = {}
    for table in tables:
        for kind, handler in table.items():
            if kind in handlers:
                raise DuplicateHandler(f"two handlers for {kind!r}")
            handlers[kind] = handler
    return handlers


def build_table() -> CommandTable:
    return CommandTable(
        (
            *general.SPECS,
            *reminders.SPECS,
            *lifecycle.SPECS,
            *launch.SPECS,
            *playbook.SPECS,
            *windows.SPECS,
            *incident.SPECS,
            *actions.SPECS,
            *stats.SPECS,
            *public.SPECS,
            *heartbeats.SPECS,
            *maintenance.SPECS,
            *rotations.SPECS,
            *summary.SPECS,
            *notes.SPECS,
            *me.SPECS,
            *pages.SPECS,
            *admin.SPECS,
            *web.SPECS,
        )
    )


def timer_handlers() -> Mapping[str, TimerHandler]:
    return merged(
        reminders.TIMER_HANDLERS,
        watch.TIMER_HANDLERS,
        incident.TIMER_HANDLERS,
        actions.TIMER_HANDLERS,
        paging.TIMER_HANDLERS,
        admin.TIMER_HANDLERS,
        launch.TIMER_HANDLERS,
        playbook.TIMER_HANDLERS,
        summary.TIMER_HANDLERS,
        notes.TIMER_HANDLERS,
        handoff.TIMER_HANDLERS,
        ack_reminders.TIMER_HANDLERS,
        page_budget.TIMER_HANDLERS,
        alerts.TIMER_HANDLERS,
        heartbeats.TIMER_HANDLERS,
        maintenance.TIMER_HANDLERS,
        maintenance_after.TIMER_HANDLERS,
        rooms.TIMER_HANDLERS,
        housekeeping.TIMER_HANDLERS,
    )


def observation_handlers() -> Mapping[str, ObservationHandler]:
    return merged(
        watch.OBSERVATION_HANDLERS,
        admin.OBSERVATION_HANDLERS,
        summary.OBSERVATION_HANDLERS,
        paging.OBSERVATION_HANDLERS,
    )


def inbound_handlers() -> Mapping[str, InboundHandler]:
    return merged(
        alerts.INBOUND_HANDLERS,
        heartbeats.INBOUND_HANDLERS,
    )
