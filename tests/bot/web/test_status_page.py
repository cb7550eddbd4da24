"""The public status page over real HTTP on loopback, on SQLite and PostgreSQL: each
component's state from its open incidents, only what was said for the public, 90 days of
history, the Atom feed and the JSON, both languages, and no 500 for odd requests."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import aiohttp
import pytest

from bot.http import serve
from tests.conftest import START, Harness, HarnessFactory
from tests.fakes.alertmanager import alert, notification

pytestmark = pytest.mark.usefixtures("database_url")
ATOM = "{http://www.w3.org/2005/Atom}"
AM_TOKEN = "am-token-for-tests"

INTERNAL_TITLE = "db-primary-7 OOM after the orders migration"
INTERNAL_NOTE = "suspect the connection pool on payments-db-internal"
INTERNAL_UPDATE = "rolled back orders-api 4.2.1, still watching"
PUBLIC_UPDATE = "Some customers cannot check out. We are working on a fix."
PUBLIC_TITLE = "Checkout failures"


class Site:
    def __init__(self, h: Harness, port: int, session: aiohttp.ClientSession) -> None:
        self.h, self.port, self.session = h, port, session

    async def get(self, path: str, **headers: str) -> tuple[int, str, str]:
        async with self.session.get(f"http://127.0.0.1:{self.port}{path}", headers=headers) as r:
            return r.status, r.headers.get("Content-Type", ""), (await r.read()).decode()

    async def json(self, path: str = "/status.json", **headers: str) -> Any:
        status, content_type, body = await self.get(path, **headers)
        assert status == 200, body
        assert content_type.startswith("application/json")
        return json.loads(body)

    async def states(self) -> dict[str, str]:
        return {c["id"]: c["state"] for c in (await self.json())["components"]}

    async def say(self, text: str, *, user: str = "alice") -> str:
        outcome = await self.h.say(text, user=user)
        assert outcome.status == "ok", self.h.reply_text(outcome)
        return self.h.reply_text(outcome)


async def _site(h: Harness) -> AsyncIterator[Site]:
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Site(h, port, session)
    finally:
        await runner.cleanup()


@pytest.fixture
async def site(make_harness: HarnessFactory) -> AsyncIterator[Site]:
    async for s in _site(await make_harness(alertmanager_token=AM_TOKEN)):
        yield s


async def test_a_p1_shows_its_component_at_partial_outage_with_the_public_update(
    site: Site,
) -> None:
    assert await site.states() == {"web": "operational", "miniapp": "operational"}
    await site.say(f"/incident open {INTERNAL_TITLE} --sev P1 --service web")
    await site.say(f"/incident note 1 {INTERNAL_NOTE}")
    await site.say(f"/incident update 1 {INTERNAL_UPDATE}")
    said = await site.say(f"/incident update 1 --public {PUBLIC_UPDATE}")
    assert "status page" in said
    assert PUBLIC_UPDATE in said
    await site.say(f"/incident public-title 1 {PUBLIC_TITLE}")

    assert await site.states() == {"web": "partial_outage", "miniapp": "operational"}
    status, content_type, page = await site.get("/status")
    assert status == 200
    assert content_type.startswith("text/html")
    assert '<html lang="en">' in page
    assert "Partial outage" in page
    assert PUBLIC_UPDATE in page
    assert PUBLIC_TITLE in page
    for internal in (INTERNAL_TITLE, INTERNAL_NOTE, INTERNAL_UPDATE):
        assert internal not in page
    # The timeline keeps the public update, marked public.
    timeline = await site.say("/incident timeline 1")
    assert f"public update: {PUBLIC_UPDATE}" in timeline
    assert f"public title: {PUBLIC_TITLE}" in timeline


async def test_without_a_public_title_the_page_says_what_the_public_sees(site: Site) -> None:
    await site.say(f"/incident open {INTERNAL_TITLE} --sev P0 --service miniapp")
    _, _, page = await site.get("/status")
    assert "Major outage" in page
    assert INTERNAL_TITLE not in page
    assert "We are looking into it" in page
    incident = (await site.json())["incidents"][0]
    assert incident["title"] == "Major outage"
    assert incident["updates"] == []


@pytest.mark.parametrize(
    ("severity", "state"),
    [("P0", "major_outage"), ("P1", "partial_outage"), ("P2", "degraded"), ("P3", "degraded")],
)
async def test_each_severity_maps_to_its_state(site: Site, severity: str, state: str) -> None:
    await site.say(f"/incident open broken --sev {severity} --service web")
    assert (await site.states())["web"] == state


async def test_the_worst_open_incident_wins_and_mitigation_or_resolution_lifts_it(
    site: Site,
) -> None:
    await site.say("/incident open slow --sev P2 --service web")
    await site.say("/incident open down --sev P0 --service web")
    await site.say("/incident open elsewhere --sev P1")  # no service: never on the page
    json_page = await site.json()
    assert json_page["status"]["state"] == "major_outage"
    assert await site.states() == {"web": "major_outage", "miniapp": "operational"}
    await site.say("/incident mitigate 2")
    assert (await site.states())["web"] == "degraded"
    await site.say("/incident resolve 2")
    await site.say("/incident resolve 1")
    json_page = await site.json()
    assert json_page["status"]["state"] == "operational"
    assert [i["id"] for i in json_page["incidents"]] == [2, 1]  # past ones, newest first
    assert all(i["resolved_at"] for i in json_page["incidents"])


async def test_nothing_internal_leaks_in_any_route_or_language(site: Site) -> None:
    labels = {"service": "web", "severity": "critical", "instance": "db-primary-7.corp.internal"}
    firing = alert("PaymentsDbConnectionsExhausted", team="payments-core", **labels)
    async with site.session.post(
        f"http://127.0.0.1:{site.port}/hooks/alertmanager",
        json=notification(firing),
        headers={"Authorization": f"Bearer {AM_TOKEN}"},
    ) as response:
        assert response.status == 200
    await site.h.app.settle()
    await site.say(f"/incident note 1 {INTERNAL_NOTE}")
    await site.say(f"/incident update 1 {INTERNAL_UPDATE}")
    await site.say("/incident assign 1 comms @carol")
    await site.say("/incident ack 1", user="bob")
    await site.say(f"/incident update 1 --public {PUBLIC_UPDATE}")
    await site.say(f"/incident open {INTERNAL_TITLE} --sev P2 --service miniapp", user="dave")

    directory = site.h.app.config.directory
    people = [p for p in directory.people.values()]
    secret = [
        INTERNAL_TITLE,
        INTERNAL_NOTE,
        INTERNAL_UPDATE,
        "PaymentsDbConnectionsExhausted",
        "db-primary-7",
        "payments-core",
        "critical",
        "alertmanager",
        "prometheus.example",
        "#incidents",
        "#tech",
        *(p.handle for p in people),
        *(p.name for p in people if p.name),
    ]
    assert len(people) >= 4
    for path in ("/status", "/status.json", "/status/feed.atom"):
        for lang in ("en", "zh"):
            status, _, body = await site.get(f"{path}?lang={lang}")
            assert status == 200
            assert PUBLIC_UPDATE in body
            leaked = [word for word in secret if word.lower() in body.lower()]
            assert leaked == [], (path, lang)


async def test_ninety_days_of_history_a_bar_per_day(site: Site) -> None:
    await site.say("/incident open down --sev P1 --service web")
    await site.h.advance(days=1)
    await site.say("/incident resolve 1")
    await site.h.advance(days=3)
    await site.say("/incident open slow --sev P3 --service web")
    today = site.h.clock.now().date()

    page = await site.json()
    web = next(c for c in page["components"] if c["id"] == "web")
    assert len(web["history"]) == 90
    assert web["history"][-1]["date"] == today.isoformat()
    assert web["history"][0]["date"] == (today - timedelta(days=89)).isoformat()
    by_day = {bar["date"]: bar["state"] for bar in web["history"]}
    assert by_day[START.date().isoformat()] == "partial_outage"
    assert by_day[(START.date() + timedelta(days=1)).isoformat()] == "partial_outage"
    assert by_day[(START.date() + timedelta(days=2)).isoformat()] == "operational"
    assert by_day[today.isoformat()] == "degraded"
    assert set(by_day.values()) == {"operational", "partial_outage", "degraded"}

    _, _, html = await site.get("/status")
    bars = re.findall(r'<li class="s-(\w+)" title="([^"]+)"', html)
    assert len(bars) == 2 * 90  # two components
    assert bars[89] == ("degraded", f"{today.isoformat()}: Degraded performance")


async def test_the_feed_is_atom_with_an_entry_per_incident(site: Site) -> None:
    await site.say("/incident open one --sev P1 --service web")
    await site.say(f"/incident update 1 --public {PUBLIC_UPDATE}")
    await site.say("/incident resolve 1")
    await site.say("/incident open two --sev P2 --service miniapp")
    await site.say("/incident public-title 2 Slow mini program <login> & sign-up")
    status, content_type, body = await site.get("/status/feed.atom?lang=zh")
    assert status == 200
    assert content_type.startswith("application/atom+xml")
    feed = ET.fromstring(body.encode())
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh"
    for tag in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{tag}") is not None, tag
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Slow mini program <login> & sign-up",
        "部分服务中断",
    ]
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 2
    for entry in entries:
        for tag in ("id", "title", "updated", "published", "content"):
            assert entry.findtext(f"{ATOM}{tag}"), tag
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "")
    resolved = entries[1].findtext(f"{ATOM}content") or ""
    assert PUBLIC_UPDATE in resolved
    assert "已解决" in resolved


async def test_the_json_is_complete_and_in_the_readers_language(site: Site) -> None:
    await site.say("/incident open one --sev P1 --service web")
    await site.say(f"/incident update 1 --public {PUBLIC_UPDATE}")
    page = await site.json("/status.json", **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert page["lang"] == "zh"
    assert page["status"] == {"state": "partial_outage", "text": "部分服务中断"}
    assert [(c["id"], c["name"], c["group"]) for c in page["components"]] == [
        ("web", "网站", "面向用户"),
        ("miniapp", "小程序", "面向用户"),
    ]
    [incident] = page["incidents"]
    assert incident["impact"] == "partial_outage"
    assert incident["component"] == "web"
    assert [u["text"] for u in incident["updates"]] == [PUBLIC_UPDATE]
    datetime.fromisoformat(page["generated_at"])


async def test_the_language_comes_from_the_query_then_the_header(site: Site) -> None:
    _, _, page = await site.get("/status?lang=zh")
    assert '<html lang="zh-CN">' in page
    assert "所有系统运行正常" in page
    _, _, page = await site.get("/status", **{"Accept-Language": "zh-CN"})
    assert '<html lang="zh-CN">' in page
    _, _, page = await site.get("/status?lang=en", **{"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in page
    _, _, page = await site.get("/status?lang=klingon", **{"Accept-Language": "zh"})
    assert '<html lang="zh-CN">' in page


@pytest.mark.parametrize(
    "query",
    [
        "?lang=",
        "?lang=%00",
        "?lang=zh&lang=en",
        "?lang=%FF%FE",
        "?lang[]=zh",
        "?" + "x" * 4000,
        "?lang=" + "%E4%B8%AD" * 500,
    ],
)
async def test_odd_queries_get_the_page_not_an_error(site: Site, query: str) -> None:
    for path in ("/status", "/status.json", "/status/feed.atom"):
        status, _, _ = await site.get(path + query, **{"Accept-Language": "??,*;q=x"})
        assert status == 200, (path, query)


async def test_the_page_is_off_when_status_yaml_says_so(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    (tmp_path / "status.yaml").write_text("enabled: false\n", encoding="utf-8")
    async for off in _site(await make_harness(config_dir=tmp_path)):
        status, _, body = await off.get("/status?lang=zh")
        assert status == 404
        assert "此状态页未开启" in body
        assert '<html lang="zh-CN">' in body
        for path in ("/status.json", "/status/feed.atom"):
            status, _, body = await off.get(path)
            assert status == 404
            assert json.loads(body) == {"error": "This status page is off."}


async def test_a_maintenance_window_shows_unless_an_incident_is_worse(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    start, end = START - timedelta(hours=1), START + timedelta(hours=2)
    (tmp_path / "status.yaml").write_text(
        "enabled: true\n"
        "components:\n"
        "  - {service: web, name: Website}\n"
        "  - {service: miniapp, name: {en: Mini program, zh: 小程序}, group: Apps}\n"
        "maintenance:\n"
        f"  - {{services: [web, miniapp], start: '{start.isoformat()}',"
        f" end: '{end.isoformat()}', title: {{en: Database upgrade, zh: 数据库升级}}}}\n",
        encoding="utf-8",
    )
    async for s in _site(await make_harness(config_dir=tmp_path)):
        assert await s.states() == {"web": "maintenance", "miniapp": "maintenance"}
        _, _, page = await s.get("/status?lang=zh")
        assert "数据库升级" in page
        await s.say("/incident open broken --sev P1 --service web")
        assert await s.states() == {"web": "partial_outage", "miniapp": "maintenance"}
        await s.h.advance(hours=3)
        assert (await s.states())["miniapp"] == "operational"


async def test_public_commands_refuse_what_they_cannot_do(site: Site) -> None:
    out = await site.h.say("/incident update 9 --public Anything")
    assert out.status != "ok"
    assert "#9" in site.h.reply_text(out)
    await site.say("/incident open one --sev P1 --service web")
    out = await site.h.say("/incident update 1 --public")
    assert "public update" in site.h.reply_text(out)
    out = await site.h.say("/incident public-title 1", user="alice")
    assert "The title is missing" in site.h.reply_text(out)
    out = await site.h.say("/incident public-title 1 Hello", user="mallory")
    assert out.status != "ok"
    await site.say("/incident resolve 1")
    out = await site.h.say("/incident update 1 --public Too late")
    assert out.status != "ok"
    assert "Too late" not in (await site.get("/status"))[2]
