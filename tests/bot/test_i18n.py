"""The message catalogs (en, zh) and the Translator that renders Text."""

from __future__ import annotations

import ast
import logging
import string
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import LOCALES, Translator, catalog
from playbooks.messages import Text, raw, t
from tests.support import ROOT

SOURCE_DIRS = ("bot", "commands", "playbooks")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


# --- the catalogs ----------------------------------------------------------------------------


def _singulars(keys: set[str]) -> set[str]:
    """``KEY.one``: a language's form for a count of one, which only some languages need."""
    return {key for key in keys if key.endswith(".one") and key.removesuffix(".one") in keys}


def test_both_languages_have_exactly_the_same_keys() -> None:
    en, zh = set(catalog("en")), set(catalog("zh"))
    assert sorted(en - zh - _singulars(en)) == [], "keys missing from zh.yaml"
    assert sorted(zh - en - _singulars(zh)) == [], "keys missing from en.yaml"


def test_a_count_of_one_reads_in_the_singular_where_the_language_has_one() -> None:
    en, zh = Translator("en", UTC), Translator("zh", UTC)
    assert en(Text("page.list_header", {"count": 1})) == "1 page:"
    assert en(Text("page.list_header", {"count": 3})) == "3 pages, newest first:"
    assert en(Text("page.list_header", {"count": 0})) == "0 pages, newest first:"
    assert zh(Text("page.list_header", {"count": 1})) == "1 个呼叫，最新的在前："
    for key in _singulars(set(catalog("en"))):
        base = key.removesuffix(".one")
        # the singular names no count, and asks for nothing its plural does not
        assert placeholders(catalog("en")[key]) <= placeholders(catalog("en")[base]) - {"count"}


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_files_have_no_duplicate_keys(locale: str) -> None:
    # yaml.safe_load keeps the last of two equal keys silently; the catalog must not rely on it.
    path = ROOT / "bot" / "i18n" / f"{locale}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    keys = [line.split(":", 1)[0] for line in lines if line and not line.startswith(("#", " "))]
    assert len(keys) == len(set(keys))
    assert len(keys) == len(catalog(locale))


def test_every_key_has_the_same_placeholders_in_both_languages() -> None:
    en, zh = catalog("en"), catalog("zh")
    mismatched = {
        key: (placeholders(en[key]), placeholders(zh[key]))
        for key in en.keys() & zh.keys()
        if placeholders(en[key]) != placeholders(zh[key])
    }
    assert mismatched == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_renders_with_its_placeholders(locale: str) -> None:
    translator = Translator(locale, UTC)
    for key, template in catalog(locale).items():
        params = {name: f"<{name}>" for name in placeholders(template)}
        rendered = translator(Text(key, params))
        assert rendered != key, key
        for name in params:
            assert f"<{name}>" in rendered, (key, name)
            assert f"{{{name}}}" not in rendered, (key, name)


# --- every key the source uses exists --------------------------------------------------------


def _string_constants(node: ast.expr) -> list[str]:
    """The string literals an argument may evaluate to (``"a" if x else "b"`` gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _string_constants(node.body) + _string_constants(node.orelse)
    return []


def _fstring_prefix(node: ast.expr) -> str | None:
    if not isinstance(node, ast.JoinedStr):
        return None
    prefix = ""
    for part in node.values:
        if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
            break
        prefix += part.value
    return prefix


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def scan_source() -> tuple[dict[str, str], dict[str, str]]:
    """Catalog keys written in the source: literal keys and f-string key prefixes.

    Both map the key (or prefix) to where it was found.
    """
    keys: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                callee = _callee(node)
                if callee in ("t", "Text") and node.args:
                    first = node.args[0]
                    for key in _string_constants(first):
                        keys.setdefault(key, where)
                    prefix = _fstring_prefix(first)
                    if prefix:  # f"{key}.suggest" has no literal prefix; see did_you_mean below
                        prefixes.setdefault(prefix, where)
                if callee == "did_you_mean" and node.args:
                    # did_you_mean(key, ...) says t(key) or, with a guess, t(f"{key}.suggest").
                    for key in _string_constants(node.args[0]):
                        keys.setdefault(key, where)
                        keys.setdefault(f"{key}.suggest", where)
                if callee == "CommandSpec":
                    for keyword in node.keywords:
                        if keyword.arg == "summary":
                            for key in _string_constants(keyword.value):
                                keys.setdefault(key, where)
    return keys, prefixes


SOURCE_KEYS, SOURCE_PREFIXES = scan_source()


def test_the_scan_finds_keys_of_every_kind() -> None:
    # Guards the scanner itself: if it found nothing, the tests below would pass vacuously.
    assert "grammar.unclosed_quote" in SOURCE_KEYS  # t(...) in commands/core/grammar.py
    assert "whoami.guest" in SOURCE_KEYS  # t("a" if x else "b")
    assert "help.remind.summary" in SOURCE_KEYS  # CommandSpec(summary=...)
    assert "raw" in SOURCE_KEYS  # Text("raw", ...)
    assert "reminder.state." in SOURCE_PREFIXES  # t(f"reminder.state.{...}")
    assert "help.unknown_topic.suggest" in SOURCE_KEYS  # did_you_mean("help.unknown_topic", ...)
    assert len(SOURCE_KEYS) > 50


def test_every_literal_key_in_the_source_is_in_the_catalog() -> None:
    en = catalog("en")
    missing = {key: where for key, where in SOURCE_KEYS.items() if key not in en}
    assert missing == {}


def test_every_fstring_key_prefix_names_at_least_one_key() -> None:
    en = catalog("en")
    empty = {
        prefix: where
        for prefix, where in SOURCE_PREFIXES.items()
        if not any(key.startswith(prefix) for key in en)
    }
    assert empty == {}


def test_every_command_summary_is_in_the_catalog() -> None:
    from commands.table import build_table

    en = catalog("en")
    summaries = {spec.name: spec.summary for spec in build_table().specs()}
    assert {name: key for name, key in summaries.items() if key not in en} == {}


def test_every_reminder_state_has_a_name() -> None:
    from playbooks.reminders import ReminderState

    en = catalog("en")
    assert all(f"reminder.state.{state}" in en for state in ReminderState)


# --- the Translator --------------------------------------------------------------------------


def test_datetime_is_shown_in_the_readers_zone() -> None:
    text = t("console.now", now=datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    assert Translator("en", SHANGHAI)(text) == "It is 2026-11-23 09:00 UTC+8."
    assert Translator("en", UTC)(text) == "It is 2026-11-23 01:00 UTC."
    assert Translator("zh", SHANGHAI)(text) == "现在是 2026-11-23 09:00 UTC+8。"


def test_datetime_crosses_midnight_into_the_local_date() -> None:
    value = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    assert Translator("en", SHANGHAI).datetime(value) == "2026-11-24 04:30 UTC+8"


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        (timedelta(hours=1, minutes=30), "1h 30m", "1小时30分钟"),
        (timedelta(minutes=10), "10m", "10分钟"),
        (timedelta(seconds=90), "1m 30s", "1分钟30秒"),
        (timedelta(days=1, hours=2, minutes=3), "1d 2h", "1天2小时"),
        (timedelta(days=2, seconds=5), "2d 5s", "2天5秒"),
        (timedelta(0), "0s", "0秒"),
        (timedelta(minutes=-5), "5m", "5分钟"),
    ],
)
def test_durations(value: timedelta, en: str, zh: str) -> None:
    assert Translator("en", UTC).duration(value) == en
    assert Translator("zh", UTC).duration(value) == zh


def test_duration_param_is_rendered_in_the_readers_language() -> None:
    text = t("reminder.too_far", limit=timedelta(hours=1, minutes=30))
    assert Translator("en", UTC)(text) == "Reminders can be set at most 1h 30m ahead."
    assert Translator("zh", UTC)(text) == "提醒最多只能设定在 1小时30分钟 之后。"


def test_nested_text_is_translated_too() -> None:
    text = t("reminder.not_pending", id=3, state=t("reminder.state.cancelled"))
    assert Translator("en", UTC)(text) == "Reminder #3 is already cancelled."
    assert Translator("zh", UTC)(text) == "提醒 #3 已经是已取消状态。"


def test_raw_text_is_shown_as_written() -> None:
    assert Translator("zh", UTC)(raw("check {the} canary")) == "check {the} canary"


def test_other_params() -> None:
    text = t("outbox.depth", pending=0, sent=2.5, dead=None, covered=1)
    assert Translator("en", UTC)(text) == (
        "Outbox: 0 waiting, 2.5 delivered, - undeliverable, "
        "1 not sent to people who had the news in a channel they are in."
    )


def test_unknown_key_falls_back_to_the_key(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="shipwatch.i18n"):
        assert Translator("zh", UTC)(t("no.such.key", value=1)) == "no.such.key"
    assert any(record.levelno == logging.ERROR for record in caplog.records)


def test_missing_param_stays_as_a_placeholder() -> None:
    assert Translator("en", UTC)(t("reminder.not_found")) == "There is no reminder #{id}."
    rendered = Translator("en", UTC)(t("reminder.list_label", id=7))
    assert rendered == "#7 at {due_at} (in {delay})"


def test_unknown_locale_falls_back_to_english() -> None:
    translator = Translator("fr", UTC)
    assert translator.locale == "en"
    assert translator(t("reminder.none")) == "No reminders are pending here."
