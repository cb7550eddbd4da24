"""Numbers shown honestly: a service on the simulated metric source, outside a drill, is
said to be simulated in every report and status that shows its numbers, so a real team
never reads a made-up 99.93% as its availability. In a drill the numbers are the point."""

from __future__ import annotations

from tests.commands.releases.test_release_commands import DEPLOY_WINDOW, GOOD, go_live
from tests.conftest import Harness, HarnessFactory
from tests.support import set_metrics

SIMULATED = "⚠️ Simulated: these guards read the simulated metric source"


def posts(h: Harness, where: str, containing: str) -> list[str]:
    return [s.text for s in h.adapter.sent if s.address == where and containing in s.text]


async def test_reports_say_which_services_are_simulated_outside_a_drill(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(drill=False)
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    await h.advance(minutes=1)
    await h.say("/summary now")
    [morning] = posts(h, "#ops", "Morning health post")
    assert "web (simulated data, not measured):\n  ✅ Availability: 99.93%" in morning
    assert "miniapp (simulated data, not measured):" in morning
    # The live release's guards in the morning post are marked too.
    assert "guards: error_rate_stop ✅, error_rate ✅, p99_latency_ms ✅ (simulated)" in morning
    for kind, header in (("evening", "Daily report"), ("weekly", "Weekly report")):
        await h.say(f"/summary now {kind} --service web")
        [report] = posts(h, "#ops", header)
        assert "web (simulated data, not measured):" in report
        assert "\nweb:" not in report
    await h.say("/config locale zh")
    await h.say("/summary now weekly --service miniapp")
    [zh] = [s.text for s in h.adapter.sent if "miniapp（模拟数据，非实测）" in s.text]
    assert "周报" in zh


async def test_in_a_drill_the_numbers_are_the_point_and_carry_no_warning(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()  # the virtual clock of a drill
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    await h.say("/summary now")
    [morning] = posts(h, "#ops", "Morning health post")
    assert "web:" in morning
    assert "simulated" not in morning
    await h.advance(minutes=1)
    assert "Simulated" not in h.reply_text(await h.say("/release status web"))


async def test_release_status_and_progress_posts_say_the_guards_are_simulated(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=DEPLOY_WINDOW, drill=False)
    set_metrics(h, GOOD)
    await go_live(h)
    await h.advance(minutes=1)
    status = h.reply_text(await h.say("/release status miniapp"))
    assert SIMULATED in status
    assert "crash_rate (> 0.5%): ok: 0.005%" in status
    await h.advance(minutes=30)
    [progress] = posts(h, "#releases", "📊 Progress of miniapp")
    assert SIMULATED in progress
    await h.say("/config locale zh", channel="#releases")
    zh = h.reply_text(await h.say("/release status miniapp", channel="#releases"))
    assert "⚠️ 模拟数据：这些监控指标读取的是模拟数据源" in zh
