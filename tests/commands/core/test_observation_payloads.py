"""What the bot observed crosses into the application as the typed payload the reading room
defines: a payload of the wrong shape is refused where it is built or where it is handed
over, by name, never as a KeyError deep inside a handler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from sqlmodel import Session

from commands.core.context import SystemContext
from commands.core.invocations import Observation
from commands.core.observations import WrongPayload
from commands.general.admin import DeadLetter
from commands.releases.watch import READINGS, GuardReadings, TrafficFailed
from commands.table import observation_handlers
from playbooks.people import Directory
from playbooks.releases.guards import Reading
from storage.engine import make_engine
from tests.conftest import HarnessFactory

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class OldReadings:
    """Guard readings as some other module might have shaped them: the right kind, the
    wrong type."""

    kind: ClassVar[str] = READINGS
    release_id: int


def test_a_payload_missing_a_field_cannot_be_built() -> None:
    with pytest.raises(TypeError, match="stage"):
        GuardReadings(release_id=1, attempt=1, at=AT, readings={})  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="admin_channel"):
        DeadLetter(outbox_id=3, conversation="console:#gone", reason="gone")  # type: ignore[call-arg]


def test_an_observation_carries_a_payload_type_not_a_dict() -> None:
    with pytest.raises(TypeError, match="not dict"):
        Observation({"release_id": 1, "attempt": 1})  # type: ignore[arg-type]
    readings = GuardReadings(
        release_id=1, attempt=1, stage=0, at=AT, readings={"error_rate": Reading.of(0.001)}
    )
    assert Observation(readings).kind == "release.readings"


def test_a_handler_handed_another_payload_says_which_it_reads(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    handle = observation_handlers()[READINGS]
    with Session(engine) as session:
        ctx = SystemContext(session=session, now=AT, directory=Directory({}), tz=UTC)
        failed = TrafficFailed(service="web", percent=5.0, key="k", reason="503", outbox_id=1)
        wanted = r"'release\.readings' reads a GuardReadings, not a TrafficFailed"
        with pytest.raises(WrongPayload, match=wanted):
            handle(ctx, failed)
        with pytest.raises(WrongPayload, match="not a dict"):
            handle(ctx, {"release_id": 1})
    assert ctx.effects == []
    engine.dispose()


async def test_the_wrong_payload_through_the_pipeline_is_an_error_that_changes_nothing(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    h = await make_harness()
    outcome = await h.app.dispatch(Observation(OldReadings(release_id=1)))
    assert (outcome.status, outcome.command) == ("error", "observe:release.readings")
    [failure] = [r for r in caplog.records if r.getMessage() == "observation failed"]
    assert failure.exc_info is not None
    assert isinstance(failure.exc_info[1], WrongPayload)
    assert "reads a GuardReadings, not a OldReadings" in str(failure.exc_info[1])
    await h.app.settle()
    assert h.adapter.sent == []

    # The payload the handler reads goes through: readings for no release change nothing.
    readings = GuardReadings(release_id=99, attempt=1, stage=0, at=AT, readings={})
    outcome = await h.app.dispatch(Observation(readings))
    assert outcome.status == "ok"
