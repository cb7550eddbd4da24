"""Reports composed from stored state and metric readings, pure: every section of the
seed's templates, verdicts against the targets, and metrics without data kept visible."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.render import plain_lines
from playbooks.effects import Conversation
from playbooks.incidents.machine import Incident, IncidentState
from playbooks.incidents.policy import default_settings
from playbooks.messages import Message, Severity
from playbooks.releases.guards import GuardState, Reading, Verdict
from playbooks.releases.machine import Release, ReleaseState
from playbooks.releases.plan import Guard, GuardAction, Plan, Stage, TrafficKind
from playbooks.reports.metrics import Bound, MetricSpec, Unit
from playbooks.reports.report import OnCall, ReleaseEnding, ReportRequest, ReportState, compose
from playbooks.reports.schedule import ReportKind, period

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
H = timedelta(hours=1)
METRICS = (
    MetricSpec("availability", "q", Unit.RATIO, Bound(min=0.995), Bound(min=0.99), chart=True),
    MetricSpec("p95_latency", "q", Unit.SECONDS, Bound(max=0.1), Bound(max=0.2), chart=True),
    MetricSpec("error_rate", "q", Unit.RATIO, Bound(max=0.005), Bound(max=0.01), chart=True),
    MetricSpec("active_users", "q"),
)


def incident(id: int, severity: str, opened_at: datetime, **more: object) -> Incident:
    base = Incident(
        id=id,
        title=f"incident {id}",
        severity=severity,
        state=IncidentState.OPEN,
        service="web",
        channel=Conversation("console", "#incidents"),
        opened_at=opened_at,
        opened_by="alice",
        policy=default_settings().policy,
        commander="alice",
        respond_due=opened_at + 15 * timedelta(minutes=1),
        resolve_due=opened_at + 4 * H,
    )
    return replace(base, **more)  # type: ignore[arg-type]


PLAN = Plan(
    name="standard",
    stages=(Stage("canary", 10, timedelta(minutes=30)), Stage("full", 100)),
    guards=(
        Guard("error_rate", "q", 5 * timedelta(minutes=1), GuardAction.ROLLBACK, max=0.05),
        Guard("p99", "q", 5 * timedelta(minutes=1), GuardAction.PAUSE, max=1000),
    ),
)
RELEASE = Release(
    id=7,
    service="web",
    version="1.4.2",
    plan=PLAN,
    state=ReleaseState.IN_STAGE,
    stage=0,
    percent=10.0,
    owner="alice",
    attempt=1,
    channel=Conversation("console", "#releases"),
    traffic=TrafficKind.SIMULATED,
    metrics="simulated",
    started_at=MORNING - 2 * H,
    guards={"error_rate": GuardState(MORNING, Verdict.OK, value=0.001)},
)


def text(message: Message, locale: str = "en") -> str:
    return "\n".join(plain_lines(message, Translator(locale, UTC)))


def request(kind: ReportKind, end: datetime = MORNING, **more: object) -> ReportRequest:
    start, stop = period(kind, end, SHANGHAI)
    return ReportRequest(kind, start, stop, end, SHANGHAI, ("web", "api"), **more)  # type: ignore[arg-type]


READINGS = {
    "web": {
        "availability": Reading.of(0.9991),
        "p95_latency": Reading.of(0.15),
        "error_rate": Reading.of(0.02),
        "active_users": Reading.of(42),
    },
    "api": {
        "availability": Reading(error="cannot reach prometheus at http://127.0.0.1:9: refused"),
        "p95_latency": Reading(no_data="the query returned no series"),
        "error_rate": Reading.of(0.001),
    },
}
STATE = ReportState(
    incidents=[
        # opened yesterday (Monday, Shanghai), acked after 10 minutes, still open
        incident(1, "P1", MORNING - 20 * H, acked_at=MORNING - 20 * H + timedelta(minutes=10)),
        # opened and resolved yesterday
        incident(
            2,
            "P2",
            MORNING - 12 * H,
            state=IncidentState.RESOLVED,
            acked_at=MORNING - 12 * H + timedelta(minutes=20),
            resolved_at=MORNING - 10 * H,
        ),
        # opened this morning, nobody responded: respond deadline passed
        incident(3, "P3", MORNING - H),
    ],
    releases=[RELEASE],
    oncall=[OnCall("web", "primary", "bob"), OnCall("web", "secondary", None)],
)


def test_the_morning_post_has_every_section_of_the_daily_template() -> None:
    message = compose(
        request(ReportKind.DAILY),
        STATE,
        metrics=METRICS,
        readings=READINGS,
        now=MORNING,
        chart="c1",
    )
    shown = text(message)
    assert shown.splitlines()[0] == "☀️ Morning health post — 2026-11-24 (Asia/Shanghai)"
    assert "  ✅ Availability: 99.91% (target > 99.50%)" in shown
    assert "  ⚠️ P95 latency: 150 ms (target < 100 ms)" in shown
    assert "  ❌ Error rate: 2.00% (target < 0.50%)" in shown
    assert "  • Active users: 42" in shown
    assert "Open incidents: 2 (P0 0 · P1 1 · P2 0 · P3 1)" in shown
    assert "  [P1] #1 incident 1 — open; resolve deadline passed 16h ago" in shown
    assert (
        "  [P3] #3 incident 3 — open; no response, deadline passed 45m ago, resolve within 3h"
        in shown
    )
    assert "Releases in progress: 1" in shown
    assert "  web 1.4.2: canary at 10% (in stage); guards: error_rate ✅, p99 …" in shown
    assert "  web · Primary: @bob\n  web · Secondary: nobody" in shown
    assert "Yesterday: 2 new incident(s), 1 resolved" in shown
    assert "  new [P1] #1 incident 1\n  new [P2] #2 incident 2" in shown
    assert "  resolved [P2] #2 incident 2 (in 2h)" in shown
    assert shown.endswith("[chart] http://127.0.0.1:8080/charts/c1.png")
    assert message.severity is Severity.DANGER  # an error rate in alarm, a P1 open


def test_a_metric_without_data_is_a_row_with_its_reason_never_zero() -> None:
    message = compose(
        request(ReportKind.DAILY), STATE, metrics=METRICS, readings=READINGS, now=MORNING
    )
    lines = text(message).splitlines()
    api = lines[lines.index("api:") + 1 : lines.index("api:") + 5]
    assert api == [
        "  ⚪ Availability: no data — cannot reach prometheus at http://127.0.0.1:9: refused"
        " (target > 99.50%)",
        "  ⚪ P95 latency: no data — the query returned no series (target < 100 ms)",
        "  ✅ Error rate: 0.10% (target < 0.50%)",
        # not read at all (the source never answered for it): still a row
        "  ⚪ Active users: no data — the metric was not read",
    ]
    assert "0.00%" not in text(message)


def test_prometheus_down_still_reports_incidents_releases_and_on_call() -> None:
    down = Reading(error="cannot reach prometheus at http://127.0.0.1:9: connection refused")
    readings = {s: {m.name: down for m in METRICS} for s in ("web", "api")}
    shown = text(
        compose(request(ReportKind.DAILY), STATE, metrics=METRICS, readings=readings, now=MORNING)
    )
    assert shown.count("no data — cannot reach prometheus") == 8
    for section in ("Open incidents: 2", "Releases in progress: 1", "web · Primary: @bob"):
        assert section in shown


def test_the_evening_report_follows_the_daily_report_template() -> None:
    evening = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 17:00 in Shanghai
    today = ReportState(
        incidents=[
            incident(
                4,
                "P1",
                evening - 6 * H,
                state=IncidentState.RESOLVED,
                acked_at=evening - 6 * H + timedelta(minutes=5),
                resolved_at=evening - 3 * H,
                resolve_breached=False,
            ),
            incident(
                5,
                "P2",
                evening - 5 * H,
                acked_at=evening - 5 * H + timedelta(minutes=15),
                respond_breached=True,
            ),
            incident(6, "P3", evening - 40 * H),  # older, unresolved: not "opened today"
        ],
        endings=[
            ReleaseEnding("web", "1.4.2", ReleaseState.COMPLETED, evening - 2 * H),
            ReleaseEnding("miniapp", "2.0", ReleaseState.ROLLED_BACK, evening - H, "crash_rate"),
        ],
        running_since=evening - 30 * H,
    )
    shown = text(
        compose(
            request(ReportKind.EVENING, end=evening),
            today,
            metrics=METRICS,
            readings=READINGS,
            now=evening,
        )
    )
    assert shown.splitlines()[0] == "📋 Daily report — 2026-11-24 (Asia/Shanghai)"
    assert "Running for 2 day(s), since 2026-11-23 03:00 UTC." in shown
    assert "Key metrics over the period:" in shown
    assert (
        "Incidents: 2 opened (P0 0 · P1 1 · P2 1 · P3 0), 1 resolved (P0 0 · P1 1 · P2 0 · P3 0)"
        in shown
    )
    assert "Mean time to acknowledge: 10m (over 2)" in shown
    assert "Mean time to resolve: 3h (over 1)" in shown
    assert "Releases: 1 completed, 1 rolled back" in shown
    assert "  rolled back miniapp 2.0: crash_rate" in shown
    assert (
        "Main problems:\n"
        "  1. [P1] #4 incident 4 — resolved\n"
        "  2. [P2] #5 incident 5 — open, SLA breached\n"
        "  3. miniapp 2.0 rolled back: crash_rate"
    ) in shown


def test_the_weekly_report_names_its_week_and_a_quiet_week_says_so() -> None:
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    message = compose(
        request(ReportKind.WEEKLY, end=friday, late_by=timedelta(minutes=40)),
        ReportState(running_since=friday - 4 * 24 * H),
        metrics=METRICS,
        readings={},
        now=friday + timedelta(minutes=40),
        chart_note="the query returned no series",
    )
    shown = text(message)
    assert shown.splitlines()[:3] == [
        "📊 Weekly report — 2026-W48, 2026-11-20 to 2026-11-27 (Asia/Shanghai)",
        "(late by 40m: Shipwatch was not running at the scheduled time)",
        "Running for 5 day(s), since 2026-11-23 09:00 UTC.",
    ]
    assert "Mean time to acknowledge: - (none acknowledged)" in shown
    assert "Main problems:\n  none" in shown
    assert "Chart: none (the query returned no series)." in shown
    assert message.image is None


def test_the_reports_read_in_chinese() -> None:
    shown = text(
        compose(request(ReportKind.DAILY), STATE, metrics=METRICS, readings=READINGS, now=MORNING),
        "zh",
    )
    assert shown.splitlines()[0] == "☀️ 早间健康播报 — 2026-11-24（Asia/Shanghai）"
    assert "  ✅ 可用性：99.91%（目标 > 99.50%）" in shown
    assert "今日值班：" in shown


def test_a_chart_that_could_not_be_drawn_is_said_in_a_sentence_in_each_language() -> None:
    message = compose(
        request(ReportKind.DAILY),
        STATE,
        metrics=METRICS,
        readings=READINGS,
        now=MORNING,
        chart_failed=True,
    )
    assert "Chart: none (it could not be drawn; the log has the details)." in text(message)
    assert "图表：无（无法绘制；详情见日志）。" in text(message, "zh")
    assert "ValueError" not in text(message)


def test_each_service_shows_its_availability_sla_against_the_measured_availability() -> None:
    # Seed 002: core services 99.9%, agent services 99.5%.
    slas = {"web": ("core", 0.999), "api": ("agent", 0.995)}
    shown = text(
        compose(
            request(ReportKind.DAILY, slas=slas),
            STATE,
            metrics=METRICS,
            readings=READINGS,
            now=MORNING,
        )
    )
    assert "✅ SLA core 99.9%: met, 99.91% over the period" in shown
    assert "⚪ SLA agent 99.5%: availability not measured" in shown
    low = {"web": {**READINGS["web"], "availability": Reading.of(0.997)}}
    missed = text(
        compose(
            request(ReportKind.EVENING, slas=slas),
            ReportState(),
            metrics=METRICS,
            readings=low,
            now=MORNING,
        ),
        "zh",
    )
    assert "❌ SLA core 99.9%：未达成，本期 99.70%" in missed


def test_an_open_incident_shows_each_clock_still_running() -> None:
    opened = MORNING - 10 * timedelta(minutes=1)
    waiting = incident(
        8,
        "P0",
        opened,
        acked_at=opened + timedelta(minutes=2),
        start_due=opened + 15 * timedelta(minutes=1),
        resolve_due=opened + 4 * H,
    )
    shown = text(
        compose(
            request(ReportKind.DAILY),
            ReportState(incidents=[waiting]),
            metrics=(),
            readings={},
            now=MORNING,
        )
    )
    assert "start handling within 5m, resolve within 3h 50m" in shown
