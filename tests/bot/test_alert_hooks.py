"""Alertmanager and the generic incident hook, over real HTTP on loopback, on SQLite and
PostgreSQL: what opens, joins, resolves, and what is refused with nothing stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.http import serve
from storage.models import AlertGroup, AuditEntry, IncidentRow, SeenEvent
from tests.conftest import Harness, HarnessFactory
from tests.fakes.alertmanager import alert, notification
from tests.support import count, incidents, posts, timeline

TOKEN = "am-token-for-tests"
HOOK_TOKEN = "hook-token-for-tests"
API_TOKEN = "api-token-for-tests"
pytestmark = pytest.mark.usefixtures("database_url")


class Client:
    def __init__(self, h: Harness, port: int, session: aiohttp.ClientSession) -> None:
        self.h, self.port, self.session = h, port, session

    async def post(
        self,
        path: str,
        body: Any,
        *,
        token: str | None = TOKEN,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.session.post(
            f"http://127.0.0.1:{self.port}{path}", data=data, headers=all_headers
        ) as response:
            answer = await response.json()
        await self.h.app.settle()
        return response.status, answer

    async def alertmanager(self, body: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return await self.post("/hooks/alertmanager", body, **kwargs)

    async def get(self, path: str, *, token: str | None = API_TOKEN) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.get(
            f"http://127.0.0.1:{self.port}{path}", headers=headers
        ) as response:
            return response.status, await response.text()


@pytest.fixture
async def client(make_harness: HarnessFactory) -> AsyncIterator[Client]:
    h = await make_harness(
        alertmanager_token=TOKEN,
        incident_hook_token=HOOK_TOKEN,
        api_token=API_TOKEN,
        hook_max_bytes=64 * 1024,
    )
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Client(h, port, session)
    finally:
        await runner.cleanup()


CRITICAL = alert("CheckoutErrors", service="web", severity="critical", instance="web-1")


async def test_firing_opens_an_incident_with_severity_from_labels_for_an_unlisted_name(
    client: Client,
) -> None:
    status, answer = await client.alertmanager(notification(CRITICAL))
    assert (status, answer) == (200, {"status": "ok", "action": "opened", "incident": 1})
    [row] = incidents(client.h)
    assert (row.severity, row.service, row.state) == ("P1", "web", "open")
    assert row.title == "CheckoutErrors: CheckoutErrors on web"
    assert row.channel == "console:#incidents"
    assert row.opened_by == "alertmanager"
    [opened] = posts(client.h, "#incidents")
    assert "Incident #1 [P1] opened by @alertmanager" in opened
    assert len(posts(client.h, "#tech")) == 1  # P1: the tech channel hears at once
    kinds = [kind for _, kind, _ in timeline(client.h, 1)]
    assert kinds == ["open", "alert"]


async def test_repeated_notification_changes_nothing(client: Client) -> None:
    body = notification(CRITICAL)
    await client.alertmanager(body)
    sent, events = len(client.h.adapter.sent), len(timeline(client.h, 1))
    for _ in range(3):  # Alertmanager's repeat_interval sends the group unchanged
        assert await client.alertmanager(body) == (200, {"status": "duplicate"})
    assert len(incidents(client.h)) == 1
    assert len(client.h.adapter.sent) == sent
    assert len(timeline(client.h, 1)) == events
    assert count(client.h, SeenEvent) == 1
    assert count(client.h, AuditEntry) == 1


async def test_group_changes_update_the_same_incident_and_resolve_it(client: Client) -> None:
    await client.alertmanager(notification(CRITICAL))
    second = alert("CheckoutErrors", service="web", severity="critical", instance="web-2")
    updated = await client.alertmanager(notification(CRITICAL, second))
    assert updated == (200, {"status": "ok", "action": "updated", "incident": 1})
    assert "CheckoutErrors: 2/2 firing" in timeline(client.h, 1)[-1][2]
    resolved = notification(
        alert(
            "CheckoutErrors",
            status="resolved",
            service="web",
            severity="critical",
            instance="web-1",
        ),
        alert(
            "CheckoutErrors",
            status="resolved",
            service="web",
            severity="critical",
            instance="web-2",
        ),
    )
    done = await client.alertmanager(resolved)
    assert done == (200, {"status": "ok", "action": "resolved", "incident": 1})
    [row] = incidents(client.h)
    assert row.state == "resolved"
    assert timeline(client.h, 1)[-1][:2] == ("alertmanager", "resolve")
    assert any("resolved" in text for text in posts(client.h, "#incidents"))
    # The resolved notification repeated, and a resolved group nobody knows: nothing.
    assert (await client.alertmanager(resolved))[1] == {"status": "duplicate"}
    unknown = notification(alert("DiskFull", status="resolved", service="web"))
    assert (await client.alertmanager(unknown))[1] == {"status": "ok", "action": "ignored"}
    assert len(incidents(client.h)) == 1


async def test_a_group_firing_again_after_its_incident_resolved_opens_a_new_one(
    client: Client,
) -> None:
    await client.alertmanager(notification(CRITICAL))
    await client.h.say("/incident resolve 1")
    await client.h.advance(minutes=30)  # past the storm window
    again = alert(
        "CheckoutErrors",
        service="web",
        severity="critical",
        instance="web-1",
        starts_at="2026-11-23T02:00:00.000Z",
    )
    assert (await client.alertmanager(notification(again)))[1]["action"] == "opened"
    assert [r.id for r in incidents(client.h)] == [1, 2]


async def test_a_storm_of_groups_for_one_service_folds_into_one_incident(client: Client) -> None:
    names = ["CheckoutErrors", "HighLatency", "PodCrashLooping", "ApiTimeouts", "QueueBacklog"]
    answers = []
    for name in names:
        answers.append((await client.alertmanager(notification(alert(name, service="web"))))[1])
        await client.h.advance(minutes=3)  # each within 10 minutes of the last
    assert [a["action"] for a in answers] == ["opened", *["joined"] * 4]
    assert {a["incident"] for a in answers} == {1}
    assert count(client.h, AlertGroup) == 5
    joined = [p for p in posts(client.h, "#incidents") if "joined" in p]
    assert len(joined) == 4
    # Another service is another incident; a quiet spell ends the storm.
    other_group = notification(
        alert("CheckoutErrors", service="miniapp"), group_by=("alertname", "service")
    )
    other = await client.alertmanager(other_group)
    assert other[1]["incident"] == 2
    await client.h.advance(minutes=11)
    late = await client.alertmanager(notification(alert("DiskFull", service="web")))
    assert late[1] == {"status": "ok", "action": "opened", "incident": 3}
    # The storm incident resolves only once all five groups have.
    for index, name in enumerate(names):
        body = notification(alert(name, status="resolved", service="web"))
        answer = (await client.alertmanager(body))[1]
        assert answer["action"] == "resolved"
        assert incidents(client.h)[0].state == ("resolved" if index == 4 else "open")


async def test_a_page_label_raises_the_incident_and_tells_the_tech_channel(
    client: Client,
) -> None:
    warning = alert("HighLatency", service="web", severity="warning", instance="web-1")
    await client.alertmanager(notification(warning))
    assert incidents(client.h)[0].severity == "P2"
    assert posts(client.h, "#tech") == []
    paging = alert("HighLatency", service="web", severity="warning", instance="web-2", page="true")
    await client.alertmanager(notification(warning, paging))
    [row] = incidents(client.h)
    assert row.severity == "P0"
    [tech] = posts(client.h, "#tech")
    assert "now P0 (was P2)" in tech
    assert ("alertmanager", "severity") in [(a, k) for a, k, _ in timeline(client.h, 1)]


async def test_whoever_acks_an_alert_incident_takes_command(client: Client) -> None:
    await client.alertmanager(notification(CRITICAL))
    shown = client.h.reply_text(await client.h.say("/incident show 1"))
    assert "nobody yet" in shown
    await client.h.advance(minutes=16)  # P1 respond deadline: 15 minutes
    breach = [p for p in posts(client.h, "#incidents") if "respond" in p.lower()]
    assert breach, "the missed respond deadline is posted"
    # Nobody commands it, so nobody is DMed about the breach; the team's on-call is paged.
    direct = [s for s in client.h.adapter.sent if s.kind == "direct"]
    assert direct
    assert all(s.text.startswith("📟 Page #1 P1 (web)") for s in direct)
    await client.h.say("/incident ack 1", user="bob")
    assert incidents(client.h)[0].commander == "bob"


@pytest.mark.parametrize(
    ("token", "status"), [(None, 401), ("wrong", 401), (TOKEN + "x", 401), (TOKEN, 200)]
)
async def test_wrong_token_is_401_and_stores_nothing(
    client: Client, token: str | None, status: int
) -> None:
    code, answer = await client.alertmanager(notification(CRITICAL), token=token)
    assert code == status
    stored = (count(client.h, IncidentRow), count(client.h, SeenEvent), count(client.h, AuditEntry))
    if status == 401:
        assert "Bearer" in answer["error"]
        assert stored == (0, 0, 0)
    else:
        assert stored == (1, 1, 1)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"alerts": [', "not valid JSON (line 1"),
        (b"\xff\xfe", "not UTF-8"),
        ([1, 2], "JSON object"),
        ({"version": "4", "status": "firing", "groupKey": "{}:{}"}, "no “alerts” field"),
        ({"version": "4", "status": "firing", "groupKey": "{}:{}", "alerts": []}, "at least one"),
        ({**notification(CRITICAL), "version": "3"}, "version 3 is not supported"),
        ({**notification(CRITICAL), "groupKey": ""}, "no “groupKey”"),
        ({**notification(CRITICAL), "status": "exploded"}, "use firing or resolved"),
        ({**notification(CRITICAL), "alerts": [{"status": "firing", "labels": {}}]}, "no labels"),
        ({**notification(CRITICAL), "commonLabels": {"a": 1}}, "commonLabels"),
    ],
)
async def test_bad_bodies_get_a_sentence_and_store_nothing(
    client: Client, body: Any, fragment: str
) -> None:
    status, answer = await client.alertmanager(body)
    assert status == 400
    assert fragment in answer["error"]
    assert (count(client.h, IncidentRow), count(client.h, SeenEvent)) == (0, 0)


async def test_errors_speak_the_callers_language(client: Client) -> None:
    status, answer = await client.alertmanager(
        {"status": "firing"}, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    )
    assert status == 400
    assert "缺少 “alerts” 字段" in answer["error"]


async def test_an_enormous_body_is_413(client: Client) -> None:
    many = [alert(f"A{i}", service="web", padding="x" * 200) for i in range(400)]
    status, answer = await client.alertmanager(notification(*many))
    assert status == 413
    assert "65536 bytes" in answer["error"]
    assert count(client.h, IncidentRow) == 0


async def test_a_closed_hook_says_which_setting_opens_it(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            c = Client(h, port, session)
            status, answer = await c.alertmanager(notification(CRITICAL))
            assert status == 503
            assert "SHIPWATCH_ALERTMANAGER_TOKEN" in answer["error"]
            assert (await c.get("/incidents/1/postmortem.md"))[0] == 503
    finally:
        await runner.cleanup()


async def test_generic_hook_opens_updates_and_resolves_by_key(client: Client) -> None:
    body = {
        "title": "Payment callbacks failing",
        "severity": "p1",
        "service": "web",
        "key": "pay-1",
        "text": "3 of 5 providers time out",
    }
    status, answer = await client.post("/hooks/incident", body, token=HOOK_TOKEN)
    assert (status, answer) == (200, {"status": "ok", "action": "opened", "incident": 1})
    assert (await client.post("/hooks/incident", body, token=HOOK_TOKEN))[1] == {
        "status": "duplicate"
    }
    keyed = await client.post(
        "/hooks/incident", body, token=HOOK_TOKEN, headers={"Idempotency-Key": "call-7"}
    )
    assert keyed[1]["action"] == "updated"
    again = await client.post(
        "/hooks/incident", body, token=HOOK_TOKEN, headers={"Idempotency-Key": "call-7"}
    )
    assert again[1] == {"status": "duplicate"}
    done = await client.post("/hooks/incident", {**body, "status": "resolved"}, token=HOOK_TOKEN)
    assert done[1]["action"] == "resolved"
    [row] = incidents(client.h)
    assert (row.severity, row.state, row.opened_by) == ("P1", "resolved", "hook")
    # Its own token only: the Alertmanager token does not open this door.
    assert (await client.post("/hooks/incident", body, token=TOKEN))[0] == 401
    bad = await client.post("/hooks/incident", {**body, "severity": "P9"}, token=HOOK_TOKEN)
    assert bad == (400, {"error": "“P9” is not a severity; use one of P0, P1, P2, P3."})
    untitled = await client.post("/hooks/incident", {"service": "web"}, token=HOOK_TOKEN)
    assert untitled[0] == 400
    assert "title" in untitled[1]["error"]


async def test_postmortem_document_over_http(client: Client) -> None:
    await client.alertmanager(notification(CRITICAL))
    await client.h.say("/incident ack 1", user="bob")
    await client.h.say('/incident update 1 "rolled back the config"', user="bob")
    await client.h.say("/incident resolve 1", user="bob")
    status, text = await client.get("/incidents/1/postmortem.md")
    assert status == 200
    assert text.startswith("# Postmortem: #1 CheckoutErrors")
    assert "rolled back the config" in text
    assert "CheckoutErrors: 1/1 firing" in text
    assert (await client.get("/incidents/1/postmortem.md", token="nope"))[0] == 401
    assert (await client.get("/incidents/1/postmortem.md", token=None))[0] == 401
    status, text = await client.get("/incidents/99/postmortem.md")
    assert status == 404
    assert "no incident #99" in text


async def test_an_overlong_service_label_and_unreadable_json(client: Client) -> None:
    long = alert("CheckoutErrors", service="s" * 150)
    assert (await client.alertmanager(notification(long)))[0] == 200
    assert incidents(client.h)[0].service == "s" * 100
    deep = b"[" * 20000 + b"]" * 20000
    status, answer = await client.alertmanager(deep)
    assert status == 400
    assert "nests too deep" in answer["error"]


async def test_a_group_of_a_thousand_alerts_is_named_by_ten_and_a_count(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(alertmanager_token=TOKEN, hook_max_bytes=4 * 1024 * 1024)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            client = Client(h, port, session)
            await client.alertmanager(notification(alert("CheckoutErrors", service="web")))
            storm = [alert(f"A{n}", service="web", job="queue") for n in range(1000)]
            answer = await client.alertmanager(notification(*storm, group_by=("job",)))
    finally:
        await runner.cleanup()
    assert answer[1]["action"] == "joined"
    await h.advance(minutes=2)  # a group joining is said in the incident's next digest
    [joined] = [p for p in posts(h, "#incidents") if "joined" in p]
    assert "A0, A1, A2, A3, A4, A5, A6, A7, A8, A9 and 990 more: 1000/1000 firing" in joined
    assert len(joined) < 400
    assert "A0, A1, A2, A3, A4, A5, A6, A7, A8, A9 and 990 more" in timeline(h, 1)[-1][2]


async def test_a_repeat_too_large_to_be_kept_read_is_a_duplicate_too(client: Client) -> None:
    """Bodies up to 16 kB are kept read and a repeat of one is not parsed again; a larger
    one is read each time, and its repeat is still known by its event id."""
    body = notification(*(alert(f"Disk{n}", service="web") for n in range(80)))
    assert len(json.dumps(body)) > 16 * 1024
    assert (await client.alertmanager(body))[0] == 200
    for _ in range(2):
        assert await client.alertmanager(body) == (200, {"status": "duplicate"})
    assert len(incidents(client.h)) == 1
    assert count(client.h, SeenEvent) == 1
