"""The shipped defaults carry the numbers of seeds 000, 001 and 002 on incidents, paging,
communication and monitoring targets: one row per number, as docs/plans-incidents.md
lists them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config.directory import DEFAULTS, load
from playbooks.business_time import Deadline
from playbooks.oncall.teams import PageWhen, page_when
from tests.support import only_problem, write

M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


def span(value: timedelta) -> Deadline:
    return Deadline(duration=value)


def working(days: float) -> Deadline:
    return Deadline(working_days=days)


# policy, severity: respond, start handling, resolve (None: the plan names none)
CLOCKS = [
    # seed 001 §5.2 故障分级: 响应时间 / 处理时间
    ("launch-plan", "P0", span(5 * M), None, span(1 * H)),
    ("launch-plan", "P1", span(15 * M), None, span(4 * H)),
    ("launch-plan", "P2", span(30 * M), None, span(8 * H)),
    ("launch-plan", "P3", span(1 * H), None, span(24 * H)),
    # seed 000 响应时间承诺: 响应 / 解决
    ("pilot-run", "P0", span(15 * M), None, span(2 * H)),
    ("pilot-run", "P1", span(1 * H), None, span(8 * H)),
    ("pilot-run", "P2", span(4 * H), None, span(2 * D)),
    ("pilot-run", "P3", span(1 * D), None, span(7 * D)),
    # seed 002 §4.3 响应 / 开始处理, and 恢复时间: 核心业务4小时内恢复
    ("operations", "P0", span(5 * M), span(15 * M), span(4 * H)),
    ("operations", "P1", span(30 * M), span(2 * H), None),
    ("operations", "P2", span(2 * H), working(1), None),
    ("operations", "P3", working(1), working(3), None),
]


@pytest.mark.parametrize(("policy", "severity", "respond", "start", "resolve"), CLOCKS)
def test_the_clocks_of_each_policy(
    policy: str,
    severity: str,
    respond: Deadline,
    start: Deadline | None,
    resolve: Deadline | None,
) -> None:
    rule = load(None).incidents.policies[policy].rule(severity)
    assert (rule.respond, rule.start, rule.resolve) == (respond, start, resolve)


def test_the_launch_plan_is_in_force_and_p0_p1_have_seed_001s_communication_plan() -> None:
    incidents = load(None).incidents
    assert incidents.policy.name == "launch-plan"
    assert incidents.tech_channel == "#tech"  # 立即通知技术团队
    for severity in ("P0", "P1"):
        rule = incidents.policy.rule(severity)
        # 15 分钟内通报管理层, 1 小时内发布公告, 持续更新状态 (every 30m)
        assert (rule.notify_management, rule.public_notice, rule.update_every) == (
            15 * M,
            1 * H,
            30 * M,
        )
        assert rule.warn_at == 0.8  # reminded at 12m and 48m, ahead of the deadline
    for severity in ("P2", "P3"):  # 通知相关团队, 内部跟踪, 视情况发布公告
        rule = incidents.policy.rule(severity)
        assert (rule.notify_management, rule.public_notice, rule.update_every) == (None,) * 3
    assert incidents.audiences == {"management": ("@dave",), "public": ("#status",)}


def test_the_working_calendar_is_seed_000s_support_hours() -> None:
    hours = load(None).incidents.policy.hours  # 工作时间: 周一至周五 9:00-18:00
    assert (hours.start.hour, hours.end.hour, sorted(hours.weekdays)) == (9, 18, [0, 1, 2, 3, 4])


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("launch-plan", ["always"] * 4),
        ("pilot-run", ["always"] * 4),
        ("operations", ["always", "always", "always", "working_hours"]),
    ],
)
def test_paging_follows_the_promise_of_each_policy(policy: str, expected: list[str]) -> None:
    config = load(None)
    team = config.teams["web"]
    rules = config.incidents.policies[policy]
    whens = [page_when(team, s, rules.rule(s)) for s in ("P0", "P1", "P2", "P3")]
    assert whens == [PageWhen(w) for w in expected]


def test_the_monitoring_targets_of_the_reports_are_seed_000s() -> None:
    metrics = {m.name: m for m in load(None).summaries.metrics}
    availability, latency, errors = (
        metrics["availability"],
        metrics["p95_latency"],
        metrics["error_rate"],
    )
    assert (availability.target.min, availability.alert.min) == (0.995, 0.99)
    assert (latency.target.max, latency.alert.max) == (0.1, 0.2)
    assert (errors.target.max, errors.alert.max) == (0.005, 0.01)


def test_the_availability_slas_are_seed_002s_by_tier() -> None:
    config = load(None)
    assert dict(config.summaries.sla_tiers) == {"core": 0.999, "agent": 0.995, "support": 0.99}
    assert config.summaries.sla_metric == "availability"
    services = config.releases.catalog.services
    assert (services["web"].tier, services["miniapp"].tier) == ("core", "agent")


def test_a_tier_without_an_objective_is_named(tmp_path: Path) -> None:
    shipped = (DEFAULTS / "services.yaml").read_text(encoding="utf-8")
    write(tmp_path, "services.yaml", shipped.replace("tier: core", "tier: gold"))
    problem = only_problem(tmp_path)
    assert (problem.field, problem.problem) == (
        "services.web.tier",
        "there is no SLA tier 'gold' in summaries.yaml; tiers: agent, core, support",
    )
