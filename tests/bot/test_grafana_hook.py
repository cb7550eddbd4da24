"""Grafana alerting's webhook contact point, over real HTTP on loopback, on SQLite and
PostgreSQL, with the payload of Grafana's documentation: what opens and resolves an
incident, what is folded, and what is refused with nothing stored."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlmodel import func, select

from bot.http import serve
from storage.models import AlertGroup, IncidentRow, SeenEvent
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory

TOKEN = "grafana-token-for-tests"
pytestmark = pytest.mark.usefixtures("database_url")

# The example body of Grafana's "Configure the webhook notifier for Alerting" page
# (grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/
# integrations/webhook-notifier/), as Grafana sends it.
DOCUMENTED: dict[str, Any] = {
    "receiver": "My Super Webhook",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {
                "description": "The system has high memory usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone us-1",
            },
            "startsAt": "2021-10-12T09:51:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
        },
        {
            "status": "firing",
            "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
            "annotations": {
                "description": "The system has high CPU usage",
                "runbook_url": "https://myrunbook.com/runbook/1234",
                "summary": "This alert was triggered for zone eu-1",
            },
            "startsAt": "2021-10-12T09:56:03.157076+02:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
            "fingerprint": "bc97ff14869b13e3",
            "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1},
        },
    ],
    "groupLabels": {},
    "commonLabels": {"team": "blue"},
    "commonAnnotations": {},
    "externalURL": "https://play.grafana.org/",
    "version": "1",
    "groupKey": "{}:{}",
    "truncatedAlerts": 0,
    "title": "[FIRING:2]  (blue)",
    "state": "alerting",
    "message": "**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n - zone = us-1\n",
}


def resolved(body: dict[str, Any]) -> dict[str, Any]:
    """The same group once Grafana finds it normal again (state ``ok``)."""
    done = copy.deepcopy(body)
    done["status"], done["state"] = "resolved", "ok"
    done["title"] = done["title"].replace("FIRING", "RESOLVED")
    for item in done["alerts"]:
        item["status"] = "resolved"
        item["endsAt"] = "2021-10-12T10:20:03.157076+02:00"
    return done


def for_service(service: str, alertname: str) -> dict[str, Any]:
    """The documented body for one alert of ``service``, grouped by alertname and service."""
    body = copy.deepcopy(DOCUMENTED)
    first = body["alerts"][0]
    first["labels"] = {"alertname": alertname, "service": service, "severity": "critical"}
    first["fingerprint"] = f"{service}-{alertname}"
    body["alerts"] = [first]
    body["groupLabels"] = {"alertname": alertname, "service": service}
    body["commonLabels"] = dict(first["labels"])
    body["groupKey"] = f'{{}}:{{alertname="{alertname}", service="{service}"}}'
    return body


class Client:
    def __init__(self, h: Harness, port: int, session: aiohttp.ClientSession) -> None:
        self.h, self.port, self.session = h, port, session

    async def grafana(
        self, body: Any, *, token: str | None = TOKEN, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.session.post(
            f"http://127.0.0.1:{self.port}/hooks/grafana", data=data, headers=all_headers
        ) as response:
            answer = await response.json()
        await self.h.app.settle()
        return response.status, answer


@pytest.fixture
async def client(make_harness: HarnessFactory) -> AsyncIterator[Client]:
    h = await make_harness(grafana_token=TOKEN, hook_max_bytes=64 * 1024)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Client(h, port, session)
    finally:
        await runner.cleanup()


def incidents(h: Harness) -> list[IncidentRow]:
    with unit_of_work(h.app.engine) as session:
        rows = session.exec(select(IncidentRow).order_by(IncidentRow.id)).all()  # type: ignore[arg-type]
        for row in rows:
            session.expunge(row)
        return list(rows)


def count(h: Harness, model: type[Any]) -> int:
    with unit_of_work(h.app.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


async def test_the_documented_payload_opens_an_incident_and_its_resolution_resolves_it(
    client: Client,
) -> None:
    status, answer = await client.grafana(DOCUMENTED)
    assert (status, answer) == (200, {"status": "ok", "action": "opened", "incident": 1})
    [row] = incidents(client.h)
    assert row.title == "High memory usage: This alert was triggered for zone us-1"
    assert row.opened_by == "grafana"
    assert row.severity == "P3"  # no label the default rules grade
    assert row.state == "open"
    assert await client.grafana(DOCUMENTED) == (200, {"status": "duplicate"})
    assert count(client.h, SeenEvent) == 1
    status, answer = await client.grafana(resolved(DOCUMENTED))
    assert (status, answer) == (200, {"status": "ok", "action": "resolved", "incident": 1})
    assert incidents(client.h)[0].state == "resolved"


async def test_groups_of_one_service_fold_into_one_incident(client: Client) -> None:
    first = await client.grafana(for_service("web", "QueueBacklog"))
    second = await client.grafana(for_service("web", "DiskAlmostFull"))
    assert first[1]["action"] == "opened"
    assert second[1] == {"status": "ok", "action": "joined", "incident": 1}
    assert len(incidents(client.h)) == 1
    assert incidents(client.h)[0].severity == "P1"  # severity: critical
    assert count(client.h, AlertGroup) == 2


@pytest.mark.parametrize(
    ("body", "status", "sentence"),
    [
        ({**DOCUMENTED, "version": "4"}, 400, "Grafana webhook payload version 4"),
        ({k: v for k, v in DOCUMENTED.items() if k != "alerts"}, 400, "Grafana alerting"),
        ({k: v for k, v in DOCUMENTED.items() if k != "groupKey"}, 400, "groupKey"),
        ({**DOCUMENTED, "status": "alerting"}, 400, "use firing or resolved"),
        ([DOCUMENTED], 400, "must be a JSON object"),
    ],
)
async def test_bad_bodies_get_a_sentence_and_store_nothing(
    client: Client, body: Any, status: int, sentence: str
) -> None:
    got, answer = await client.grafana(body)
    assert got == status
    assert sentence in answer["error"]
    assert count(client.h, IncidentRow) == 0
    assert count(client.h, SeenEvent) == 0


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_a_wrong_token_is_401(client: Client, token: str | None) -> None:
    got, _ = await client.grafana(DOCUMENTED, token=token)
    assert got == 401
    assert count(client.h, IncidentRow) == 0


async def test_a_closed_hook_names_its_setting(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            closed = Client(h, port, session)
            got, answer = await closed.grafana(DOCUMENTED)
    finally:
        await runner.cleanup()
    assert got == 503
    assert "SHIPWATCH_GRAFANA_TOKEN" in answer["error"]
