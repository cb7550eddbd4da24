"""Texts kept in one string column: a person's words as written, catalog text as JSON,
so a stored reason is read later in each reader's language."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from bot.i18n import Translator
from playbooks.messages import Text, in_lines, joined, raw, t, text_from_str, text_to_str

REASON = t(
    "release.reason.guard_for",
    guard="crash_rate",
    reason=t("guard.why.breach", value="0.6%", threshold="> 0.5%"),
    window=timedelta(minutes=5),
)


@pytest.mark.parametrize(
    "text",
    [REASON, raw("热修复"), raw('{"key": "looks like JSON"}'), raw("{not json"), raw("")],
    ids=["catalog", "words", "json-like words", "brace", "empty"],
)
def test_a_stored_text_comes_back_as_it_went_in(text: Text) -> None:
    assert text_from_str(text_to_str(text)) == text


def test_a_persons_words_are_stored_as_written() -> None:
    assert text_to_str("hotfix, metrics dashboard down") == "hotfix, metrics dashboard down"


def test_rows_written_before_reasons_were_catalog_text_read_as_written() -> None:
    assert text_from_str("guard p99: 700 > 500") == raw("guard p99: 700 > 500")
    assert text_from_str('{"key": 1') == raw('{"key": 1')


def test_a_stored_reason_reads_in_each_language_with_its_duration() -> None:
    stored = text_to_str(REASON)
    assert Translator("en", UTC)(text_from_str(stored)) == "guard crash_rate: 0.6% > 0.5% for 5m"
    assert Translator("zh", UTC)(text_from_str(stored)) == (
        "监控指标 crash_rate：0.6% > 0.5%，持续 5分钟"
    )


def test_lists_and_lines_are_joined_as_each_language_joins_them() -> None:
    parts = [raw("a"), raw("b"), raw("c")]
    assert Translator("en", UTC)(joined(parts)) == "a; b; c"
    assert Translator("zh", UTC)(joined(parts)) == "a；b；c"
    assert Translator("zh", UTC)(joined(parts, separator="list.commas")) == "a、b、c"
    assert Translator("en", UTC)(in_lines(parts)) == "a\nb\nc"
    assert Translator("en", UTC)(joined([])) == ""
