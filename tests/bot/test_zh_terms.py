"""The Chinese catalog speaks the plans' own terms: 故障 for an incident (seeds 001/002:
故障分级, 故障响应), 灰度发布 for a gray release, 监控指标 for what a release watches,
上线日时间线 for the launch-day runbook (seed 001 §3.2, 004 部署流程时间线), 回滚预案 and
应急预案 for rollback runbooks and emergency playbooks, 事后总结 / 根因分析 / 改进措施 for
the postmortem."""

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
    assert not [key for key, value in zh.items() if "守卫" in value or "守护" in value]
    assert "灰度发布" in zh["release.started"]
    assert "监控指标" in zh["release.blocker.guard_breach"]


def test_the_launch_day_runbook_is_the_plans_launch_day_timeline() -> None:
    zh = catalog("zh")
    # An incident has a 时间线 too: a runbook step never says it bare.
    runbook_keys = [
        key
        for key in zh
        if key.startswith("runbook.")
        or key in ("launch.step_due", "launch.field.overdue_steps", "help.release.step.summary")
    ]
    bare = [key for key in runbook_keys if "时间线" in zh[key] and "上线日时间线" not in zh[key]]
    assert bare == []
    assert "上线日时间线" in zh["help.release.runbook.summary"]
    assert "回滚预案" in zh["run.header.rollback"]
    assert "应急预案" in zh["run.header.playbook"]
    assert not [key for key, value in zh.items() if "操作手册" in value]


def test_the_postmortem_uses_the_plans_headings() -> None:
    zh = catalog("zh")
    assert zh["postmortem.title"].startswith("# 事后总结")
    assert zh["postmortem.root_cause"] == "## 根因分析"
    assert zh["postmortem.actions"] == "## 改进措施"


def test_one_label_per_button_in_each_language() -> None:
    """The same action has one key, and two actions never share a label (Resolve was
    [解决] on a page and [已解决] on an incident)."""
    for locale in ("en", "zh"):
        labels = {
            key: value
            for key, value in catalog(locale).items()
            if ".button." in key or key.startswith("button.") or key.endswith("_button")
        }
        labels = {k: v for k, v in labels.items() if k not in ("button.unknown", "button.expired")}
        shared = {v for v in labels.values() if list(labels.values()).count(v) > 1}
        assert shared == set(), locale
    zh = catalog("zh")
    assert zh["button.resolve"] == "解决"
    assert zh["release.button.resume"] == zh["release.move.resume"]
