"""Every command family Shipwatch knows, assembled into one table."""

from __future__ import annotations

from collections.abc import Mapping

from commands import admin, general, incidents, release_watch, releases, reminders
from commands.pipeline import ObservationHandler, TimerHandler
from commands.registry import CommandTable


def build_table() -> CommandTable:
    return CommandTable(
        (*general.SPECS, *reminders.SPECS, *releases.SPECS, *incidents.SPECS, *admin.SPECS)
    )


def timer_handlers() -> Mapping[str, TimerHandler]:
    return {
        **reminders.TIMER_HANDLERS,
        **release_watch.TIMER_HANDLERS,
        **incidents.TIMER_HANDLERS,
    }


def observation_handlers() -> Mapping[str, ObservationHandler]:
    return {**release_watch.OBSERVATION_HANDLERS}
