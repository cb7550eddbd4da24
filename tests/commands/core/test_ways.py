"""Which of a person's ways a direct message takes: their own order, a step's ``via``
(the rest kept for when one fails), every way at once, and a named way they lack."""

from __future__ import annotations

from commands.core.ways import anyone, routes
from playbooks.effects import DirectMessage
from playbooks.messages import Message, raw
from playbooks.people import Directory, Person

CAROL = Person(
    "carol",
    "Carol Wang",
    identities={"slack": "U0CAROL", "email": "env:CAROL_EMAIL", "sms": "env:CAROL_SMS"},
)
PEOPLE = Directory.of([CAROL])
RUNNING = frozenset({"slack", "email", "sms", "console"})
PAGE = Message.of(raw("Page #7"))


def taken(**given: object) -> list[tuple[str, str, list[str] | None]]:
    effect = DirectMessage("carol", PAGE, page_id=7, **given)  # type: ignore[arg-type]
    found = routes(PEOPLE, effect, RUNNING, anyone)
    return [(p, a, f["next"] if f else None) for p, a, f in found.each]


def test_her_own_order_and_the_rest_kept_for_a_failure() -> None:
    assert taken() == [("slack", "U0CAROL", ["email", "sms"])]


def test_a_steps_via_in_its_order() -> None:
    assert taken(ways=("sms", "email")) == [("sms", "env:CAROL_SMS", ["email"])]


def test_every_way_at_once_with_nothing_left_to_hand_over_to() -> None:
    assert taken(every_way=True) == [
        ("slack", "U0CAROL", []),
        ("email", "env:CAROL_EMAIL", []),
        ("sms", "env:CAROL_SMS", []),
    ]


def test_a_named_way_she_lacks_is_said_and_she_is_reached_her_usual_way() -> None:
    effect = DirectMessage("carol", PAGE, page_id=7, ways=("push",))
    found = routes(PEOPLE, effect, RUNNING, anyone)
    assert found.missing == "push"
    assert [(p, a) for p, a, _ in found.each] == [("slack", "U0CAROL")]
    not_running = routes(PEOPLE, effect, frozenset({"console"}), anyone)
    assert [(p, a) for p, a, _ in not_running.each] == [("console", "carol")]


def test_a_message_that_is_no_page_reports_nothing_back() -> None:
    found = routes(PEOPLE, DirectMessage("carol", PAGE), RUNNING, anyone)
    assert [(p, f) for p, _, f in found.each] == [("slack", None)]
