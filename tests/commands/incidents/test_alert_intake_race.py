"""Two new groups of one service at two replicas at the same moment: one incident, always."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select

from bot.alert_payloads import from_alertmanager
from commands.core import pipeline
from commands.core.invocations import Inbound, Outcome
from commands.incidents.alerts import KIND
from storage.models import IncidentRow
from storage.unit_of_work import unit_of_work
from tests.conftest import HarnessFactory
from tests.fakes.alertmanager import alert, notification

ROUNDS = 8


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_new_groups_of_a_service_at_two_replicas_open_one_incident(
    make_harness: HarnessFactory,
) -> None:
    replicas = [await make_harness(), await make_harness()]
    now = replicas[0].clock.now()
    both_ready = threading.Barrier(2)

    def post(replica: int, service: str, alertname: str) -> Outcome:
        body = notification(alert(alertname, service=service), group_by=("alertname", "service"))
        n = from_alertmanager(body)
        inbound = Inbound(source="alertmanager", kind=KIND, payload=n, event_id=n.event_id())
        both_ready.wait(timeout=10)  # the two deliveries leave together
        return pipeline.run_inbound(inbound, runtime=replicas[replica].app.runtime, now=now)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for round_ in range(ROUNDS):
            service = f"svc{round_}"
            outcomes = await asyncio.gather(
                asyncio.wrap_future(pool.submit(post, 0, service, "HighErrorRate")),
                asyncio.wrap_future(pool.submit(post, 1, service, "HighLatency")),
            )
            assert [o.status for o in outcomes] == ["ok", "ok"], outcomes
            actions = sorted(str(o.data["action"]) for o in outcomes)
            assert actions == ["joined", "opened"], (round_, outcomes)
            assert len({o.data["incident"] for o in outcomes}) == 1, (round_, outcomes)
    with unit_of_work(replicas[0].app.engine) as session:
        assert session.exec(select(func.count()).select_from(IncidentRow)).one() == ROUNDS
