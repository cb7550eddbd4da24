"""Every command family Shipwatch knows, assembled into one table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from commands.core.pipeline import InboundHandler, ObservationHandler, TimerHandler
from commands.core.registry import CommandTable
from commands.general import admin, me, reminders
from commands.general import help as general
from commands.incidents import alerts as alert_intake
from commands.incidents import incident as incidents
from commands.incidents import public as public_incidents
from commands.oncall import ack_reminders as page_reminders
from commands.oncall import budget as page_budget
from commands.oncall import handoff, paging
from commands.oncall import pages as page_commands
from commands.oncall import rotations as oncall
from commands.procedures import playbook as playbook_commands
from commands.releases import launch
from commands.releases import lifecycle as releases
from commands.releases import watch as release_watch
from commands.releases import windows as deploy_windows
from commands.reports import notes as summary_notes
from commands.reports import summary as summaries

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
            *releases.SPECS,
            *launch.SPECS,
            *playbook_commands.SPECS,
            *deploy_windows.SPECS,
            *incidents.SPECS,
            *public_incidents.SPECS,
            *oncall.SPECS,
            *summaries.SPECS,
            *summary_notes.SPECS,
            *me.SPECS,
            *page_commands.SPECS,
            *page_reminders.SPECS,
            *admin.SPECS,
        )
    )


def timer_handlers() -> Mapping[str, TimerHandler]:
    return merged(
        reminders.TIMER_HANDLERS,
        release_watch.TIMER_HANDLERS,
        incidents.TIMER_HANDLERS,
        paging.TIMER_HANDLERS,
        admin.TIMER_HANDLERS,
        launch.TIMER_HANDLERS,
        playbook_commands.TIMER_HANDLERS,
        summaries.TIMER_HANDLERS,
        summary_notes.TIMER_HANDLERS,
        handoff.TIMER_HANDLERS,
        page_reminders.TIMER_HANDLERS,
        page_budget.TIMER_HANDLERS,
        alert_intake.TIMER_HANDLERS,
    )


def observation_handlers() -> Mapping[str, ObservationHandler]:
    return merged(
        release_watch.OBSERVATION_HANDLERS,
        admin.OBSERVATION_HANDLERS,
        summaries.OBSERVATION_HANDLERS,
    )


def inbound_handlers() -> Mapping[str, InboundHandler]:
    return merged(
        alert_intake.INBOUND_HANDLERS,
    )
