"""The command grammar: tokens, typed values, and the real command table's parser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.core.grammar import (
    MAX_DURATION,
    Mention,
    Percent,
    PersonRef,
    SeverityLevel,
    Time,
    Token,
    When,
    parse_duration,
    parse_time,
    tokenize,
)
from commands.core.registry import MAX_LINE, CommandTable, ParsedCommand
from commands.table import build_table
from playbooks.errors import UsageError

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Ctx:
    tz: tzinfo = SHANGHAI


CTX = Ctx()
TABLE = build_table()


@pytest.fixture
def table() -> CommandTable:
    return TABLE


def usage_error(call: Callable[..., object], *args: object) -> UsageError:
    with pytest.raises(UsageError) as caught:
        call(*args)
    return caught.value


# --- tokenize --------------------------------------------------------------------------------


def test_tokenize_splits_on_whitespace() -> None:
    assert tokenize("  /remind   10m\tcheck ") == [
        Token("/remind"),
        Token("10m"),
        Token("check"),
    ]


def test_tokenize_keeps_ascii_quotes_whole() -> None:
    assert tokenize("/remind 10m \"check the canary\" 'and logs'") == [
        Token("/remind"),
        Token("10m"),
        Token("check the canary", quoted=True),
        Token("and logs", quoted=True),
    ]


def test_tokenize_keeps_chinese_quotes_whole() -> None:
    assert tokenize("/remind 10m “检查 金丝雀” 「发布 单」") == [
        Token("/remind"),
        Token("10m"),
        Token("检查 金丝雀", quoted=True),
        Token("发布 单", quoted=True),
    ]


def test_tokenize_apostrophe_inside_a_word_is_not_a_quote() -> None:
    assert tokenize("/remind 10m check bob's deploy") == [
        Token("/remind"),
        Token("10m"),
        Token("check"),
        Token("bob's"),
        Token("deploy"),
    ]


def test_tokenize_empty_quotes_give_an_empty_quoted_token() -> None:
    assert tokenize('""') == [Token("", quoted=True)]


@pytest.mark.parametrize("line", ['/remind 10m "never closed', "/remind 10m “never closed"])
def test_tokenize_unclosed_quote_is_a_usage_error(line: str) -> None:
    error = usage_error(tokenize, line)
    assert error.text.key == "grammar.unclosed_quote"
    assert error.text.params["quote"] in ('"', "“")


def test_chinese_open_quote_is_not_closed_by_an_ascii_quote() -> None:
    assert usage_error(tokenize, '“abc"').text.key == "grammar.unclosed_quote"


# --- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1H30M", timedelta(hours=1, minutes=30)),
        (" 5m ", timedelta(minutes=5)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
    ],
)
def test_durations(word: str, expected: timedelta) -> None:
    assert parse_duration(word) == expected


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("10x", "grammar.bad_duration"),
        ("", "grammar.bad_duration"),
        ("m", "grammar.bad_duration"),
        ("10", "grammar.bad_duration"),
        ("-5m", "grammar.bad_duration"),
        ("1h 30m", "grammar.bad_duration"),
        ("1.5h", "grammar.bad_duration"),
        ("0m", "grammar.zero_duration"),
        ("0h0m0s", "grammar.zero_duration"),
        ("99999w", "grammar.duration_too_long"),
        ("3651d", "grammar.duration_too_long"),
    ],
)
def test_bad_durations(word: str, key: str) -> None:
    error = usage_error(parse_duration, word)
    assert error.text.key == key
    assert error.text.params["value"] == word


def test_duration_limit_is_inclusive() -> None:
    assert parse_duration("3650d") == MAX_DURATION


# --- percentages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [("20%", 20.0), ("20", 20.0), ("0", 0.0), ("100%", 100.0), ("12.5%", 12.5)],
)
def test_percentages(word: str, expected: float) -> None:
    assert Percent().parse(word, CTX) == expected


@pytest.mark.parametrize(
    "word", ["100.5", "100.5%", "nan", "NaN%", "inf", "-1", "-0.1%", "twenty", "", "%", "20%%"]
)
def test_bad_percentages(word: str) -> None:
    assert usage_error(Percent().parse, word, CTX).text.key == "grammar.bad_percent"


# --- severities ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"), [("P0", "P0"), ("p1", "P1"), ("P2", "P2"), ("p3", "P3")]
)
def test_severities_are_case_insensitive(word: str, expected: str) -> None:
    assert SeverityLevel().parse(word, CTX) == expected


@pytest.mark.parametrize("word", ["P4", "p4", "P", "0", "P-1", "high", ""])
def test_bad_severities(word: str) -> None:
    error = usage_error(SeverityLevel().parse, word, CTX)
    assert error.text.key == "grammar.bad_severity"
    assert error.text.params["valid"] == "P0, P1, P2, P3"


# --- mentions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("@alice", PersonRef("alice")),
        ("@Alice", PersonRef("alice")),
        ("bob", PersonRef("bob")),
        ("@carol.w-2", PersonRef("carol.w-2")),
        ("<@U123>", PersonRef("U123", platform_id=True)),
        ("<@U123|bob>", PersonRef("U123", platform_id=True)),
    ],
)
def test_mentions(word: str, expected: PersonRef) -> None:
    assert Mention().parse(word, CTX) == expected


@pytest.mark.parametrize("word", ["@", "", "@-x", "a b", "<@u123>", "<@U123", "@" + "a" * 65])
def test_bad_mentions(word: str) -> None:
    assert usage_error(Mention().parse, word, CTX).text.key == "grammar.bad_mention"


# --- times -----------------------------------------------------------------------------------


def test_naive_time_is_read_in_the_context_zone() -> None:
    value = Time().parse("2026-11-23T10:00", CTX)
    assert value == datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
    assert value.utcoffset() == timedelta(hours=8)
    assert value.astimezone(UTC) == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_naive_time_follows_the_zone_given() -> None:
    value = parse_time("2026-11-23T10:00", ZoneInfo("Europe/London"))
    assert value.astimezone(UTC) == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_time_with_offset_keeps_its_offset() -> None:
    value = Time().parse("2026-11-23T10:00-05:00", CTX)
    assert value.utcoffset() == timedelta(hours=-5)
    assert value.astimezone(UTC) == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("word", ["2026-11-23T02:00Z", "2026-11-23T02:00z"])
def test_time_with_z_is_utc(word: str) -> None:
    value = Time().parse(word, CTX)
    assert value.utcoffset() == timedelta(0)
    assert value == datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "word", ["tomorrow", "2026-13-01T10:00", "2026-11-23T25:00", "2026-11-23T10:00+08:00Z", ""]
)
def test_bad_times(word: str) -> None:
    error = usage_error(Time().parse, word, CTX)
    assert error.text.key == "grammar.bad_time"
    assert error.text.params["value"] == word


def test_when_reads_a_delay() -> None:
    assert When().parse("10m", CTX) == timedelta(minutes=10)


def test_when_reads_a_time() -> None:
    assert When().parse("2026-11-23T10:00", CTX) == datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("soon", "grammar.bad_when"),
        ("", "grammar.bad_when"),
        ("10x", "grammar.bad_duration"),
        ("2026-11-32T10:00", "grammar.bad_time"),
    ],
)
def test_bad_when(word: str, key: str) -> None:
    assert usage_error(When().parse, word, CTX).text.key == key


# --- the real command table ------------------------------------------------------------------


def parse_error(table: CommandTable, line: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        table.parse(line, CTX)
    return caught.value


def test_remind_binds_when_and_the_rest_as_text(table: CommandTable) -> None:
    cmd = table.parse("/remind 10m check the canary", CTX)
    assert cmd.spec.name == "remind"
    assert cmd.args == {"when": timedelta(minutes=10), "text": "check the canary"}
    assert cmd.text == "/remind 10m check the canary"


def test_remind_at_a_time_with_quoted_text(table: CommandTable) -> None:
    cmd = table.parse("/remind 2026-11-23T10:00 “看一下 金丝雀”", CTX)
    assert cmd.args == {
        "when": datetime(2026, 11, 23, 10, tzinfo=SHANGHAI),
        "text": "看一下 金丝雀",
    }


def test_reminders_cancel(table: CommandTable) -> None:
    cmd = table.parse("/reminders cancel 3", CTX)
    assert cmd.spec.name == "reminders cancel"
    assert cmd.args == {"id": 3}


def test_verb_and_family_are_case_insensitive(table: CommandTable) -> None:
    cmd = table.parse("/Reminders CANCEL #4", CTX)
    assert cmd.spec.name == "reminders cancel"
    assert cmd.args == {"id": 4}


def test_family_without_verb_uses_its_default(table: CommandTable) -> None:
    assert table.parse("/reminders", CTX).spec.name == "reminders"


def test_misspelt_verb_suggests_the_right_one(table: CommandTable) -> None:
    error = parse_error(table, "/reminders cancl 3")
    assert error.text.key.endswith(".suggest")
    assert error.text.key == "grammar.unknown_verb.suggest"
    assert error.text.params["suggestion"] == "cancel"
    assert error.text.params["family"] == "reminders"
    assert error.usage is not None
    assert "/reminders cancel <id>" in error.usage


def test_unknown_verb_without_a_close_match_lists_the_verbs(table: CommandTable) -> None:
    error = parse_error(table, "/admin frobnicate")
    assert error.text.key == "grammar.unknown_verb"
    assert error.text.params["known"] == "outbox, redeliver"
    assert error.usage is not None


def test_a_command_that_takes_nothing_says_so(table: CommandTable) -> None:
    error = parse_error(table, "/whoami extra")
    assert error.text.key == "grammar.takes_nothing"
    assert (error.text.params["family"], error.text.params["value"]) == ("whoami", "extra")


def test_family_with_only_named_verbs_needs_one(table: CommandTable) -> None:
    error = parse_error(table, "/admin")
    assert error.text.key == "grammar.missing_verb"
    assert error.text.params["verbs"] == "outbox, redeliver"


def test_misspelt_command_suggests_remind(table: CommandTable) -> None:
    error = parse_error(table, "/remnd 10m x")
    assert error.text.key == "grammar.unknown_command.suggest"
    assert error.text.params["suggestion"] == "remind"
    assert error.text.params["value"] == "remnd"


def test_unknown_command_lists_the_families(table: CommandTable) -> None:
    error = parse_error(table, "/zzzzzz")
    assert error.text.key == "grammar.unknown_command"
    known = str(error.text.params["known"]).split(", ")
    assert "remind" in known
    assert "help" in known


@pytest.mark.parametrize("line", ["/audit --limit 5", "/audit --limit=5", "/audit --LIMIT 5"])
def test_audit_limit_flag(table: CommandTable, line: str) -> None:
    cmd = table.parse(line, CTX)
    assert cmd.spec.name == "audit"
    assert cmd.flags == {"limit": 5}


def test_flag_default_applies_when_absent(table: CommandTable) -> None:
    assert table.parse("/audit", CTX).flags == {"limit": 20}


def test_flag_missing_its_value(table: CommandTable) -> None:
    error = parse_error(table, "/audit --limit")
    assert error.text.key == "grammar.flag_needs_value"
    assert error.text.params["flag"] == "--limit"
    assert error.usage == "/audit [--limit N]"


def test_flag_value_cannot_be_another_flag(table: CommandTable) -> None:
    assert parse_error(table, "/audit --limit --limit").text.key == "grammar.flag_needs_value"


def test_flag_value_is_typed(table: CommandTable) -> None:
    error = parse_error(table, "/audit --limit 500")
    assert error.text.key == "grammar.integer_range"
    assert error.usage == "/audit [--limit N]"
    assert parse_error(table, "/audit --limit=five").text.key == "grammar.bad_integer"


def test_misspelt_flag_suggests_the_right_one(table: CommandTable) -> None:
    error = parse_error(table, "/audit --lmit 5")
    assert error.text.key == "grammar.unknown_flag.suggest"
    assert error.text.params["suggestion"] == "--limit"
    assert error.usage is not None


def test_repeated_flag(table: CommandTable) -> None:
    error = parse_error(table, "/audit --limit 5 --limit=6")
    assert error.text.key == "grammar.repeated_flag"
    assert error.text.params["flag"] == "--limit"


def test_double_dash_makes_flags_positional(table: CommandTable) -> None:
    cmd = table.parse("/remind 10m -- --not-a-flag --limit", CTX)
    assert cmd.args == {"when": timedelta(minutes=10), "text": "--not-a-flag --limit"}


def test_without_double_dash_a_flag_like_word_is_a_flag(table: CommandTable) -> None:
    error = parse_error(table, "/remind 10m --not-a-flag")
    # /remind has no options at all: the answer says so and how to write the text.
    assert error.text.key == "grammar.no_flags"
    assert error.text.params == {"command": "/remind", "value": "--not-a-flag"}
    assert error.usage == "/remind <when> <text…>"


def test_unknown_flag_on_a_command_with_options_lists_them(table: CommandTable) -> None:
    error = parse_error(table, "/audit --verbose")
    assert error.text.key == "grammar.unknown_flag"
    assert error.text.params["known"] == "--limit"


def test_quoted_flag_like_word_is_positional(table: CommandTable) -> None:
    cmd = table.parse('/remind 10m "--not-a-flag"', CTX)
    assert cmd.args["text"] == "--not-a-flag"


def test_text_over_the_limit_is_refused(table: CommandTable) -> None:
    error = parse_error(table, "/remind 10m " + "x" * MAX_LINE)
    assert error.text.key == "grammar.too_long"
    assert error.text.params["limit"] == MAX_LINE


def test_text_at_the_limit_is_accepted(table: CommandTable) -> None:
    prefix = "/remind 10m "
    line = prefix + "x" * (MAX_LINE - len(prefix))
    assert len(line) == MAX_LINE
    assert table.parse(line, CTX).args["text"] == "x" * (MAX_LINE - len(prefix))


def test_bot_suffix_is_stripped_from_the_family(table: CommandTable) -> None:
    assert table.parse("/help@bot", CTX).spec.name == "help"
    cmd = table.parse("/help@shipwatch_bot reminders", CTX)
    assert cmd.spec.name == "help"
    assert cmd.args == {"topic": "reminders"}


@pytest.mark.parametrize("line", ["help", "remind 10m x", "", "   ", "\\help"])
def test_line_without_slash_is_not_a_command(table: CommandTable, line: str) -> None:
    assert parse_error(table, line).text.key == "grammar.not_a_command"


def test_missing_required_argument(table: CommandTable) -> None:
    error = parse_error(table, "/reminders cancel")
    assert error.text.key == "grammar.missing_arg"
    assert error.text.params["arg"] == "id"
    assert error.usage == "/reminders cancel <id>"


def test_extra_arguments_after_values_say_to_drop_them(table: CommandTable) -> None:
    # Nothing here takes free text, so "quote text that contains spaces" would mislead.
    error = parse_error(table, "/reminders cancel 3 4")
    assert error.text.key == "grammar.extra_args_plain"
    assert error.text.params == {"extra": "4", "command": "/reminders cancel"}


def test_extra_arguments_where_text_is_taken_suggest_quotes(table: CommandTable) -> None:
    error = parse_error(table, "/admin redeliver 3 4")
    assert error.text.key in ("grammar.extra_args", "grammar.extra_args_plain")
    assert error.text.params["extra"] == "4"


def test_a_negative_number_is_out_of_range_not_unreadable(table: CommandTable) -> None:
    error = parse_error(table, "/audit --limit -1")
    assert error.text.key == "grammar.integer_range"
    assert error.text.params["value"] == "-1"


def test_a_time_at_the_end_of_the_calendar_is_too_far_not_unreadable(
    table: CommandTable,
) -> None:
    error = parse_error(table, "/remind 9999-12-31T23:59 x")
    assert error.text.key == "grammar.time_out_of_range"
    assert parse_error(table, "/remind 2026-13-01T10:00 x").text.key == "grammar.bad_time"


def test_a_typo_of_a_verb_shows_the_usage_of_the_closest_verb_only(table: CommandTable) -> None:
    error = parse_error(table, "/release promte web")
    assert error.text.key == "grammar.unknown_verb.suggest"
    assert error.text.params["suggestion"] == "promote"
    assert error.usage is not None
    assert error.usage.startswith("/release promote ")
    assert " | /release" not in error.usage


def test_a_bare_family_with_many_verbs_lists_them_without_a_wall_of_usage(
    table: CommandTable,
) -> None:
    error = parse_error(table, "/release")
    assert error.text.key == "grammar.missing_verb"
    assert "promote" in str(error.text.params["verbs"])
    assert error.usage is None


def test_a_required_flag_is_shown_without_brackets(table: CommandTable) -> None:
    # The handler refuses a rollback without a reason
    # (tests/commands/releases/test_release_commands.py).
    assert table.parse("/release rollback web", CTX).spec.usage() == (
        "/release rollback <service> --reason TEXT"
    )
    assert "[--reason TEXT]" in table.parse("/release pause web", CTX).spec.usage()


def test_a_refusal_quotes_at_most_80_characters_with_controls_escaped(
    table: CommandTable,
) -> None:
    error = parse_error(table, "/release st\x1b[2Jart" + "x" * 500)
    value = str(error.text.params["value"])
    assert len(value) <= 80
    assert value.endswith("…")
    assert "\x1b" not in value
    assert value.startswith("st\\x1b[2Jart")


def test_value_errors_carry_the_usage(table: CommandTable) -> None:
    error = parse_error(table, "/remind 10x check")
    assert error.text.key == "grammar.bad_duration"
    assert error.usage == "/remind <when> <text…>"


def test_choice_argument(table: CommandTable) -> None:
    assert table.parse("/config locale ZH", CTX).args == {"locale": "zh"}
    assert parse_error(table, "/config locale fr").text.key == "grammar.bad_choice"


# --- property: parse never fails with anything but UsageError --------------------------------

FAMILIES = ["/remind", "/reminders", "/audit", "/admin", "/config", "/help", "/whoami", "/remnd"]
WORDS = [
    "cancel",
    "cancl",
    "outbox",
    "redeliver",
    "locale",
    "en",
    "zh",
    "--limit",
    "--limit=5",
    "--limit=",
    "--lmit",
    "--",
    "--=",
    "-",
    "-5",
    "3",
    "#3",
    "0",
    "99999999999999999999",
    "10m",
    "1h30m",
    "0m",
    "99999w",
    "2026-11-23T10:00",
    "2026-11-23T10:00Z",
    "2026-11-23T10:00+08:00",
    "2026-99-99T99:99",
    '"',
    "“",
    "”",
    "「",
    '"quoted words"',
    "“引号 文字”",
    "'single'",
    "@alice",
    "<@U123|bob>",
    "@bot",
    "/",
    "=",
    "%",
    "nan",
    "٣m",
]
plausible_lines = st.builds(
    lambda head, words, seps: head + "".join(s + w for s, w in zip(seps, words, strict=False)),
    st.one_of(st.sampled_from(FAMILIES), st.sampled_from(FAMILIES).map(lambda f: f + "@bot")),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=8),
    st.lists(st.sampled_from([" ", "  ", "\t", "", "\u3000"]), min_size=8, max_size=8),
)


def _parse_or_usage_error(table: CommandTable, line: str) -> None:
    result: ParsedCommand | UsageError
    try:
        result = table.parse(line, CTX)
    except UsageError as error:
        result = error
    if isinstance(result, UsageError):
        assert result.text.key.startswith("grammar.")
    else:
        assert isinstance(result, ParsedCommand)
        assert result.text == line.strip()


@settings(max_examples=300, deadline=None)
@given(line=st.text())
def test_random_text_parses_or_raises_usage_error(line: str) -> None:
    _parse_or_usage_error(TABLE, line)


@settings(max_examples=300, deadline=None)
@given(line=st.one_of(st.text().map(lambda s: "/" + s), plausible_lines))
def test_plausible_lines_parse_or_raise_usage_error(line: str) -> None:
    _parse_or_usage_error(TABLE, line)
