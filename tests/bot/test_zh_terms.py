"""The Chinese catalog speaks the plans' own terms: 故障 for an incident (seeds 001/002:
故障分级, 故障响应), 灰度发布 for a gray release, 监控指标 for what a release watches."""

from __future__ import annotations

from bot.i18n import catalog


def test_an_incident_is_a_guzhang_everywhere() -> None:
    zh = catalog("zh")
    # Feishu's 事件 are its API's events (事件订阅), not incidents.
    wrong = {
        key: value
        for key, value in zh.items()
        if ("事件" in value or "事故" in value) and not key.startswith("feishu.")
    }
    assert wrong == {}
    assert zh["incident.header"].startswith("故障 #")
    assert zh["summary.section.incidents"].startswith("故障：")


def test_releases_and_their_metrics_use_the_plans_words() -> None:
    zh = catalog("zh")
    assert not [key for key, value in zh.items() if "守卫" in value]
    assert "灰度发布" in zh["release.started"]
    assert "监控指标" in zh["release.blocker.guard_breach"]
