"""Lists that can grow without bound are shown as their first ten and a count of the rest."""

from __future__ import annotations

from datetime import UTC

from bot.i18n import Translator
from playbooks.lists import capped, listed, listed_plain, mentioned


def test_a_short_list_is_shown_whole_separated_as_the_reader_separates() -> None:
    en, zh = Translator("en", UTC), Translator("zh", UTC)
    assert en(listed(["a", "b", "c"])) == "a, b, c"
    assert zh(listed(["a", "b", "c"])) == "a、b、c"
    assert en(listed([])) == "-"
    assert listed_plain(["a", "b"]) == "a, b"


def test_past_ten_the_rest_is_counted_in_the_readers_language() -> None:
    names = [f"A{n}" for n in range(1000)]
    text = listed(names)
    en, zh = Translator("en", UTC), Translator("zh", UTC)
    shown = "A0, A1, A2, A3, A4, A5, A6, A7, A8, A9"
    assert en(text) == f"{shown} and 990 more"
    assert zh(text) == f"{shown.replace(', ', '、')} 等另外 990 个"
    assert listed_plain(names) == f"{shown} and 990 more"
    assert en(mentioned(f"p{n}" for n in range(12))).endswith("@p9 and 2 more")


def test_one_item_a_line_keeps_ten_and_a_line_for_the_rest() -> None:
    shown, rest = capped(list(range(25)))
    assert list(shown) == list(range(10))
    assert rest is not None
    assert rest.params["more"] == 15
    assert capped([1, 2]) == ([1, 2], None)
