"""/incident stats and the weekly report's response figures and follow-up actions,
through the pipeline, on a virtual clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import charts
from bot.config.directory import DEFAULTS
from tests.bot.test_report_charts import CHART_URL, png_size
from tests.conftest import Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def quiet(tmp_path: Path) -> Path:
    """The shipped config without its report subscriptions: reports are asked for here."""
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    summaries = (tmp_path / "summaries.yaml").read_text(encoding="utf-8")
    start, end = summaries.index("subscriptions:\n"), summaries.index("# sla:")
    summaries = summaries[:start] + "subscriptions: []\n" + summaries[end:]
    (tmp_path / "summaries.yaml").write_text(summaries, encoding="utf-8")
    return tmp_path


async def a_week_of_incidents(h: Harness) -> None:
    """#1 P1 on web, acknowledged in 5 minutes and resolved in an hour; #2 P2 on web,
    acknowledged late; #3 P1 on miniapp, never acknowledged; bob paged twice."""
    await h.say('/incident open "checkout returns 500" --sev P1 --service web', user="carol")
    await h.advance(minutes=5)
    await h.say("/incident ack 1", user="bob")
    await h.advance(minutes=55)
    await h.say("/incident resolve 1", user="bob")
    await h.say('/incident open "slow avatars" --sev P2 --service web', user="carol")
    await h.advance(hours=2)
    await h.say("/incident ack 2", user="bob")
    await h.say('/incident open "miniapp login loops" --sev P1 --service miniapp', user="carol")
    await h.advance(hours=1)


async def test_stats_count_time_and_clocks(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await a_week_of_incidents(h)
    out = await h.say("/incident stats --since 7d", user="mallory")  # anyone may read them
    assert out.status == "ok", h.reply_text(out)
    text = h.reply_text(out)
    assert "Incidents: 3 (P0 0 · P1 2 · P2 1 · P3 0)" in text
    assert "Time to acknowledge: median" in text
    assert "(over 2)" in text
    assert "Time to resolve: median 1h, p90 1h (over 1)" in text
    assert "Respond SLA met: 1 of 3 (33%)" in text
    assert "Pages per person: @bob 3" in text
    web = h.reply_text(await h.say("/incident stats --service web"))
    assert "Response figures of web since" in web
    assert "Incidents: 2 (P0 0 · P1 1 · P2 1 · P3 0)" in web


async def test_stats_of_an_empty_window_and_bad_input(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    assert "No incidents were opened in this window." in h.reply_text(
        await h.say("/incident stats")
    )
    bad = await h.say("/incident stats --since soon")
    assert "“soon” is not a duration" in h.reply_text(bad)
    unknown = await h.say("/incident stats --service nope")
    assert unknown.status != "ok"
    assert "nope" in h.reply_text(unknown)


async def test_the_weekly_report_has_the_figures_and_the_actions(
    make_harness: HarnessFactory, quiet: Path
) -> None:
    h = await make_harness(config_dir=quiet)
    await a_week_of_incidents(h)
    await h.say("/incident action add 1 add a canary --owner @bob --due 2d", user="carol")
    await h.say("/incident action add 2 alert on avatars --owner @bob --due 1d", user="carol")
    await h.say("/incident action add 3 fix login --owner @carol", user="carol")
    await h.say("/incident action done 3", user="carol")
    await h.advance(days=3)
    await h.say("/summary now weekly")
    [post] = [s for s in h.adapter.sent if "Weekly report" in s.text]
    assert "Follow-up actions: 2 open, 2 overdue, 1 closed this week" in post.text
    assert "#3 (incident #3) P1 @carol: fix login (done)" in post.text
    assert "Response figures over the week:" in post.text
    assert "Incidents: 3 (P0 0 · P1 2 · P2 1 · P3 0)" in post.text
    # The evening report is the day's: neither figures nor actions.
    await h.say("/summary now evening")
    evening = [s for s in h.adapter.sent if s.kind == "post" and "Daily report" in s.text]
    assert evening
    assert "Follow-up actions" not in evening[-1].text
    assert "Response figures" not in evening[-1].text


async def weekly_chart(h: Harness) -> tuple[int, int]:
    """The size of the chart the latest weekly report carries."""
    await h.say("/summary now weekly")
    [*_, post] = [s for s in h.adapter.sent if "Weekly report" in s.text]
    [chart_id] = CHART_URL.findall(post.text)
    png = await h.app.chart_png(chart_id)
    assert png is not None
    return png_size(png)


async def test_the_weekly_reports_chart_draws_the_response_figures(
    make_harness: HarnessFactory, quiet: Path
) -> None:
    h = await make_harness(config_dir=quiet)
    # A week with nothing to count: the metrics' panels alone (availability, P95, errors).
    assert await weekly_chart(h) == charts.size(3)
    await a_week_of_incidents(h)
    # Then one panel more: the figures by severity, under the metrics.
    assert await weekly_chart(h) == charts.size(4)
    # The daily report never carries them.
    await h.say("/summary now daily")
    [*_, daily] = [s for s in h.adapter.sent if "Morning health post" in s.text]
    [chart_id] = CHART_URL.findall(daily.text)
    png = await h.app.chart_png(chart_id)
    assert png is not None
    assert png_size(png) == charts.size(3)
