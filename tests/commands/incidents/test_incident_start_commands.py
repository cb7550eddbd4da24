"""The start-handling clock through the pipeline, on SQLite and PostgreSQL, under the
shipped ``operations`` policy (seed 002): /incident start meets it, a P0 left alone
misses it at 15 minutes and its resolve clock runs on to 4 hours."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config.directory import DEFAULTS, ConfigError, load
from tests.conftest import HarnessFactory
from tests.support import incident_row, posts

pytestmark = pytest.mark.usefixtures("database_url")


def under(tmp_path: Path, policy: str, *, rule: str | None = None) -> Path:
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    severity = (tmp_path / "severity.yaml").read_text(encoding="utf-8")
    severity = severity.replace("policy: launch-plan", f"policy: {policy}")
    if rule is not None:
        severity = severity.replace(
            "P1: {respond: 30m, start: 2h, update_every: 30m}", f"P1: {rule}"
        )
    (tmp_path / "severity.yaml").write_text(severity, encoding="utf-8")
    return tmp_path


async def test_a_p0_left_alone_misses_the_start_clock_not_the_resolve_clock(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(config_dir=under(tmp_path, "operations"))
    out = await h.say('/incident open "checkout down" --sev P0 --service web', user="bob")
    text = h.reply_text(out)
    # bob reads his reply in his team's timezone (web: Shanghai).
    assert "Respond by 2026-11-23 09:05 UTC+8, start handling by 2026-11-23 09:15 UTC+8" in text
    assert "resolve by 2026-11-23 13:00 UTC+8" in text
    await h.say("/incident ack 1", user="carol")
    await h.advance(minutes=12)
    assert any("3m left to start handling it" in p for p in posts(h, "#incidents"))
    await h.advance(minutes=4)
    missed = [p for p in posts(h, "#incidents") if "start-handling deadline is missed" in p]
    assert len(missed) == 1
    row = incident_row(h)
    assert (row.start_breached, row.resolve_breached) == (True, False)
    show = h.reply_text(await h.say("/incident show 1"))
    assert "Start handling (15m): BREACHED" in show
    assert "Resolve (4h): 3h 44m left" in show


async def test_start_stops_the_clock_and_is_said_once(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(config_dir=under(tmp_path, "operations"))
    await h.say('/incident open "checkout down" --sev P0 --service web', user="bob")
    out = await h.say("/incident start 1", user="carol")
    assert out.status == "ok", h.reply_text(out)
    assert "@carol started handling it" in h.reply_text(out)
    row = incident_row(h)
    assert (row.state, row.started_at, row.acked_at) == (
        "acknowledged",
        h.clock.now(),
        h.clock.now(),
    )
    again = await h.say("/incident start 1", user="carol")
    assert again.status != "ok"
    assert "has been in hand since" in h.reply_text(again)
    await h.advance(minutes=20)
    assert not any("start handling" in p for p in posts(h, "#incidents")[2:])
    show = h.reply_text(await h.say("/incident show 1"))
    assert "Start handling (15m): met at" in show


async def test_the_clocks_must_run_in_order(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="respond, then start, then resolve"):
        load(under(tmp_path, "operations", rule="{respond: 30m, start: 2h, resolve: 1h}"))
