"""Chinese all the way: every catalog text, every reason the bot builds (guard findings,
pauses, rollbacks, history moves, plan actions, the postmortem) reads in Chinese for a
Chinese reader. The only Latin words left are names (services, metrics, stages, people,
configured roles), commands and their words, units, and a short list of technical terms
a Chinese operator uses as they are (JSON, webhook, SLA, Go/No-Go, …).

And in either language: no enum value, no ``timedelta`` and no exception text in a message.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from bot.config.directory import Config, load
from bot.i18n import Translator, catalog
from playbooks.incidents.machine import IncidentState
from playbooks.incidents.views import KINDS
from playbooks.messages import Param, Text, t
from playbooks.releases import guards
from playbooks.releases.machine import Move, ReleaseState
from playbooks.releases.plan import GuardAction
from tests.conftest import Harness, HarnessFactory

ZH = Translator("zh", UTC)


def _words(text: str) -> set[str]:
    return set(text.split())


EN = Translator("en", UTC)

# Latin words a Chinese reader meets as they are: units, standard acronyms, products and
# protocols, the fields of payloads the bot reads, and the words commands take.
TECHNICAL = _words(
    # units, acronyms and the plans' own terms
    "ms SLA NPS P95 ID UI UX HTTP JSON UTF URL API IANA UTC CST Markdown YAML "
    "P0 P1 P2 P3 Go No GO NO REVIEW BUG Bug "
    # products and the words of their payloads and settings
    "Shipwatch Slack slack C0123 roles admin Alertmanager webhook Bearer Authorization token Token "
    "Prometheus Grafana data sum max rate range http https "
    "Verification Encrypt Key AppSecret timestamp sign msgId groupKey alerts "
    "alertname title version header url_verification firing resolved "
    "ud800 udfff ical_token_env audiences approve_review gonogo "
    # email, SMS and push through Apprise: its URL schemes and the config's references
    "Apprise mailto ntfy twilio env NAME file identities "
    # Discord's and Mattermost's names, headers, fields and the pages of their settings
    "Discord Mattermost X Signature Ed25519 Timestamp Public General Information Application "
    "ping command user_id channel_id context "
    # the character a command may not hold, as it is named and written
    "NUL x00 "
    # examples of what to type: time zones, times, answers, step numbers
    "Asia Shanghai Europe Berlin HH MM START END N T rc ynn y n "
    # the words commands take (kinds of reports and notes, days, checklist items, roles)
    "daily evening weekly feedback plan nps improvements focus "
    "mon tue wed thu fri sat sun done skip add list remove go remind "
    "commander comms scribe management public "
    "functional performance stability satisfaction blockers "
    # the command line and the console's own marks
    "shipwatch console chart"
)

STRIPPED = [
    re.compile(r"https?://\S+"),
    re.compile(r"\\u[0-9a-fA-F]{4}"),
    re.compile(r"\{\w+\}"),
    re.compile(r"\] [a-z0-9]{4,}$", re.MULTILINE),  # a button's action token
    # a command and the words it takes: /release promote miniapp
    re.compile(r"(?<![\w/])/[a-z][\w-]*(?: [a-z][\w.|-]*)*"),
    re.compile(r"--[a-z][\w-]*(?: [a-z][\w|-]*)?"),  # a flag and its word
    re.compile(r"(?<![\w:]):[a-z]+"),  # a console directive
    re.compile(r"[@#][\w.-]+"),
    re.compile(r"\bSHIPWATCH_[A-Z0-9_]+"),
    re.compile(r"\b[\w/-]+\.(?:yaml|md|png|txt)\b"),
    re.compile(r"\b\w+=\S+"),  # functional=96
    re.compile(r"\d{4}-\d\d-\d\dT[\d:+-]+"),  # an ISO time in a document
    re.compile(r"\bv?\d[\w.+-]*"),  # numbers, versions, figures with units (30s, 2h)
    # a configured bilingual text: "English · 中文" or "中文 · English"
    re.compile(r" · [A-Za-z][^·\n\u4e00-\u9fff]*"),
    re.compile(r"[A-Za-z][^·\n\u4e00-\u9fff]*? · "),
]
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def latin_words(text: str, names: Iterable[str] = ()) -> list[str]:
    """The Latin words in ``text`` that are not names, commands, units or technical terms."""
    allowed = TECHNICAL | set(names)
    for pattern in STRIPPED:
        text = pattern.sub(" ", text)
    return [word for word in WORD.findall(text) if word not in allowed]


def configured_names(config: Config) -> set[str]:
    """Every name the shipped configuration gives: services, plans, stages, guards,
    playbooks, people, duties, teams and their layers, policies and report metrics."""
    names: set[str] = set()
    releases = config.releases.catalog
    for plan in releases.plans.values():
        names.add(plan.name)
        names.update(stage.name for stage in plan.stages)
        names.update(guard.name for guard in plan.guards)
        names.update(key for key, _ in plan.rollback_reasons)
        names.update(plan.decision)
    names.update(releases.services)
    names.update(releases.playbooks)
    names.update(config.directory.people)
    names.update(config.directory.duties)
    for team in config.teams.values():
        names.add(team.name)
        names.update(team.rotations)
    names.update(config.incidents.policies)
    names.update(metric.name for metric in config.summaries.metrics)
    names.update(tier for tier in config.summaries.sla_tiers)
    # A name like release-manager or p99_latency_ms is its words too.
    return names | {part for name in names for part in re.split(r"[-_.]", name) if part}


NAMES = configured_names(load(None))


def test_the_scanner_finds_what_it_should() -> None:
    leaks = "miniapp 2.0.0 已自动回滚：guard crash_rate: 0.6% > 0.5%，一直是 no_data（0:05:00）"
    assert latin_words(leaks, NAMES) == ["guard", "no_data"]
    fine = "用 /release promote miniapp --to 20% 推进；@alice 在 #releases，见 roles.yaml。"
    assert latin_words(fine, NAMES) == []


# --- every catalog text, with parameters like the bot's ----------------------------------

WHEN = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
NUMBERS = set(
    [
        "id",
        "count",
        "number",
        "percent",
        "old",
        "have",
        "needed",
        "of",
        "score",
        "go_at",
        "review_at",
        "attempt",
        "lines",
        "limit",
        "pending",
        "sent",
        "dead",
        "index",
        "line",
        "column",
        "seconds",
        "weight",
        "total",
    ]
)
TIMES = set(["at", "due", "since", "started", "now", "until", "next", "ok_since", "by", "when"])
SPANS = set(["left", "late", "late_by", "delay", "over", "age", "soak", "window", "took", "clock"])
NAMED = {
    "service": "miniapp",
    "version": "2.0.0",
    "plan": "gray-miniprogram",
    "stage": "internal",
    "guard": "crash_rate",
    "metric": "crash_rate",
    "threshold": "> 0.5%",
    "value": "0.6%",
    "actor": "alice",
    "person": "alice",
    "handle": "alice",
    "owner": "alice",
    "author": "alice",
    "commander": "alice",
    "team": "web",
    "layer": "primary",
}


def representative(name: str) -> Param:
    if name in NAMED:
        return NAMED[name]
    if name in NUMBERS:
        return 3
    if name in TIMES:
        return WHEN
    if name in SPANS:
        return timedelta(minutes=5)
    return "示例"  # a person's words, a nested text: Chinese here, so only the template shows


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def rendered_catalog() -> dict[str, str]:
    return {
        key: ZH(Text(key, {name: representative(name) for name in placeholders(template)}))
        for key, template in catalog("zh").items()
        if key != "raw"
    }


def test_every_chinese_catalog_text_is_chinese() -> None:
    leaks = {
        key: words
        for key, text in rendered_catalog().items()
        if (words := latin_words(text, NAMES))
    }
    assert leaks == {}


# --- every reason and every state, move, verdict and action has Chinese words ------------


ENUM_KEYS = [
    *(f"release.move.{m}" for m in Move),
    *(f"release.state.{s}" for s in ReleaseState),
    *(f"release.action.{a}" for a in GuardAction),
    *(f"guard.verdict.{v}" for v in guards.Verdict),
    *(f"incident.state.{s}" for s in IncidentState),
    *(f"incident.kind.{k}" for k in sorted(KINDS)),
]


@pytest.mark.parametrize("key", ENUM_KEYS)
def test_every_enum_a_reader_sees_has_a_name_in_both_languages(key: str) -> None:
    for locale in ("en", "zh"):
        assert key in catalog(locale), (locale, key)
    assert latin_words(ZH(t(key))) in ([], ["SLA"])


def _reasons() -> list[Text]:
    """The reasons the release watch builds, for every verdict, nested as it nests them."""
    found = []
    for verdict in guards.Verdict:
        why = t("guard.why.not_set") if verdict is not guards.Verdict.BREACH else None
        finding = why or t("guard.why.breach", value="0.6%", threshold="> 0.5%")
        found += [
            t("release.reason.guard", guard="crash_rate", reason=finding),
            t(
                "release.reason.guard_for",
                guard="crash_rate",
                reason=finding,
                window=timedelta(minutes=5),
            ),
            t(
                "release.reason.guard_silent",
                guard="crash_rate",
                verdict=guards.verdict_name(verdict),
                window=timedelta(minutes=5),
                reason=finding,
            ),
        ]
    found += [
        t("release.reason.forced", reason="热修复"),
        t("release.reason.auto_promote"),
        t("guard.why.no_value"),
        t("guard.why.not_read"),
        t("guard.why.not_a_number", value="nan"),
    ]
    return found


@pytest.mark.parametrize("reason", _reasons(), ids=lambda r: r.key)
def test_every_reason_reads_in_chinese_and_no_duration_as_a_clock(reason: Text) -> None:
    assert latin_words(ZH(reason), NAMES | {"nan"}) == []
    for translator in (ZH, EN):
        assert not CLOCK_DURATION.search(translator(reason))


# --- what a Chinese team sees through a release and an incident ----------------------------

DEPLOY_WINDOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 17:00 in Asia/Shanghai
GOOD = {"crash_rate": 0.00005, "error_rate": 0.0005, "api_error_rate": 0.01}
CLOCK_DURATION = re.compile(r"\b\d+:\d\d:\d\d\b")  # str(timedelta): 0:05:00
RAW_ENUMS = re.compile(
    r"\b(?:no_data|in_stage|rolled_back|auto_promote|GuardAction|Verdict|ReleaseState|Move)\b"
)
EXCEPTION = re.compile(r"Traceback|\w+Error\b|\w+Exception\b")


async def _a_release_and_an_incident(h: Harness) -> list[str]:
    """Everything the bot says on the way: replies, posts and direct messages."""
    said: list[str] = []

    async def say(text: str, *, user: str = "alice", channel: str = "#releases") -> None:
        out = await h.say(text, user=user, channel=channel)
        if out.reply is not None:
            said.append(h.reply_text(out))

    sim = h.app.integrations.simulated_metrics
    for name, value in GOOD.items():
        sim.set(name, value)
    await say("/release plans")
    await say("/release start miniapp 2.0.0 --note 春季发布")
    for number in (1, 2, 3, 4):
        await say(f"/release check miniapp {number}")
    await say("/release go miniapp")
    await h.advance(minutes=6)  # api_timeout_rate has no value: the release pauses
    await say("/release status miniapp")
    sim.set("api_timeout_rate", 0.02)
    sim.set("p99_latency_ms", 400)
    await say("/release resume miniapp")
    sim.set("crash_rate", 0.003)  # the stop tier
    await h.advance(minutes=2)
    await say("/release status miniapp")
    await say("/release resume miniapp")
    sim.set("crash_rate", 0.006)  # the rollback tier
    await h.advance(minutes=3)
    await say("/release status miniapp")
    await say("/release history miniapp")
    await say("/release runbook miniapp")
    await say("/playbook list")
    await say("/playbook show 1")
    await say("/playbook show severe-bug")
    await say("/pages")

    incident = "#incidents"
    await say('/incident open "结账返回 500" --sev P0 --service web', channel=incident)
    await h.advance(minutes=6)  # the respond deadline passes
    await say("/incident ack 1", channel=incident)
    await say("/incident start 1", channel=incident)
    await say("/incident assign 1 scribe @bob", channel=incident)
    await say('/incident notify 1 management "正在回滚配置"', channel=incident)
    await say('/incident update 1 "错误率下降"', channel=incident)
    await say('/incident resolve 1 --note "配置已恢复"', channel=incident)
    await say("/incident timeline 1", channel=incident)
    await say("/incident postmortem 1", channel=incident)
    await say("/incident show 1", channel=incident)
    said += [sent.text for sent in h.adapter.sent]
    return said


async def test_a_chinese_team_reads_chinese_through_a_release_and_an_incident(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=DEPLOY_WINDOW, locale="zh")
    said = await _a_release_and_an_incident(h)
    everything = "\n".join(said)
    # The walk reached what it is here for.
    assert "暂停原因: 监控指标 api_timeout_rate：无数据已持续 5分钟" in everything
    assert "回滚 1% → 0%（已回滚） 监控指标 crash_rate：0.6% > 0.5%" in everything
    assert "miniapp 2.0.0 ↩ 0%: crash_rate 0.6% > 0.5%" in everything  # the page's title
    assert "# 事后总结：#1 结账返回 500" in everything
    assert "@shipwatch SLA：响应超时" in everything
    leaks = {line: words for line in everything.splitlines() if (words := latin_words(line, NAMES))}
    assert leaks == {}
    assert not CLOCK_DURATION.search(everything)
    assert not RAW_ENUMS.search(everything)
    assert not EXCEPTION.search(everything)


async def test_english_shows_no_enum_clock_duration_or_exception_either(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=DEPLOY_WINDOW)
    everything = "\n".join(await _a_release_and_an_incident(h))
    assert "guard api_timeout_rate has had no data since" in everything
    assert not CLOCK_DURATION.search(everything)
    assert not RAW_ENUMS.search(everything)
    assert not EXCEPTION.search(everything)
