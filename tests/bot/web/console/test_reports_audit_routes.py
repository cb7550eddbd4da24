"""``/web/reports`` and ``/web/audit`` over HTTP with a real session, on SQLite and
PostgreSQL: past reports a page at a time and one as it was sent with its chart, 404 for
a report that does not exist; the audit log for admins, filtered by person and platform,
and a 403 with a sentence for anyone else."""

from __future__ import annotations

import re

import pytest

from tests.bot.web.console.support import SECRET, signed_in
from tests.conftest import HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


async def test_past_reports_and_one_as_it_was_sent(make_harness: HarnessFactory) -> None:
    h = await make_harness(action_link_secret=SECRET)
    await h.advance(hours=8)  # the 17:00 daily report of the shipped subscriptions
    out = await h.say("/summary now weekly --service web")
    assert out.status == "ok", h.reply_text(out)
    mallory = await signed_in(h, "mallory")  # anyone may read reports, as /summary now
    listed = await mallory.client.get("/web/reports")
    assert listed.status == 200
    body = await listed.text()
    assert '<main id="main" data-topics="reports"' in body
    rows = re.findall(r'<tr id="report-(\d+)" data-kind="(\w+)">', body)
    assert [kind for _, kind in rows[:2]] == ["weekly", "evening"]
    assert "asked for with /summary now" in body
    weekly_id = rows[0][0]
    one = await mallory.client.get(f"/web/reports/{weekly_id}")
    assert one.status == 200
    report = await one.text()
    assert "Weekly report" in report
    chart = re.search(r'<img src="(/charts/[\w-]+\.png)" alt="([^"]+)"', report)
    assert chart is not None
    assert chart.group(2)
    image = await mallory.client.get(chart.group(1))
    assert image.status == 200
    assert image.headers["Content-Type"] == "image/png"
    evening = await (await mallory.client.get("/web/reports?kind=evening")).text()
    assert re.findall(r'data-kind="(\w+)"', evening) == ["evening"]
    for odd in ("?page=abc", "?page=-1", "?kind=monthly", "?page=99999999999"):
        assert (await mallory.client.get(f"/web/reports{odd}")).status == 200


async def test_an_unknown_report_is_a_404_with_a_sentence(make_harness: HarnessFactory) -> None:
    h = await make_harness(action_link_secret=SECRET)
    alice = await signed_in(h, "alice")
    missing = await alice.client.get("/web/reports/999")
    assert missing.status == 404
    assert "There is no report #999." in await missing.text()


async def test_the_audit_log_for_admins_by_person_and_platform(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(action_link_secret=SECRET)
    await h.say("/page web --sev P2 disk filling")
    bob = await signed_in(h, "bob")
    acked = await bob.client.post("/web/oncall/pages/1/ack", data=bob.form(), allow_redirects=False)
    assert acked.status == 303
    alice = await signed_in(h, "alice")
    everything = await alice.client.get("/web/audit")
    assert everything.status == 200
    body = await everything.text()
    assert {"console", "web"} <= set(re.findall(r'<tr data-platform="(\w+)"', body))
    on_web = await (await alice.client.get("/web/audit?platform=web&actor=bob")).text()
    rows = re.findall(r'<tr data-platform="(\w+)" data-actor="([^"]+)">', on_web)
    assert rows
    assert set(rows) == {("web", "bob")}
    assert "<code>/ack 1</code>" in on_web
    assert (await alice.client.get("/web/audit?page=x&actor=" + "z" * 500)).status == 200


@pytest.mark.parametrize("handle", ["mallory", "bob"])
async def test_anyone_but_an_admin_gets_a_403_with_a_sentence(
    make_harness: HarnessFactory, handle: str
) -> None:
    h = await make_harness(action_link_secret=SECRET)
    person = await signed_in(h, handle)
    refused = await person.client.get("/web/audit")
    assert refused.status == 403
    body = await refused.text()
    assert "Only admins may read the audit log" in body
    assert "<table" not in body
