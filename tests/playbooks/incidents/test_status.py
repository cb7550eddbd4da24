"""The status page's rules: severity to state, the worst wins, maintenance beneath any
incident, a bar per day, and public updates and titles on the timeline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from playbooks.effects import Post
from playbooks.errors import InvalidTransition
from playbooks.incidents import status
from playbooks.incidents.machine import IncidentState
from playbooks.incidents.status import (
    Component,
    ComponentState,
    Maintenance,
    Names,
    PublicIncident,
    StatusSettings,
    status_page,
)
from playbooks.messages import raw, t
from tests.playbooks.incidents.test_incidents import T0 as NOW
from tests.playbooks.incidents.test_incidents import new, opened

S = ComponentState
SETTINGS = StatusSettings(
    enabled=True,
    components=(Component("web", Names("Website", "网站")), Component("app", Names("App"))),
)


def public(
    id_: int,
    severity: str,
    *,
    service: str = "web",
    opened: datetime = NOW,
    resolved: datetime | None = None,
    mitigated: bool = False,
) -> PublicIncident:
    return PublicIncident(id_, service, severity, mitigated, opened, resolved, None)


@pytest.mark.parametrize(
    ("severity", "state"),
    [("P0", S.MAJOR_OUTAGE), ("P1", S.PARTIAL_OUTAGE), ("P2", S.DEGRADED), ("P3", S.DEGRADED)],
)
def test_severity_to_state(severity: str, state: ComponentState) -> None:
    page = status_page(SETTINGS, [public(1, severity)], now=NOW)
    assert [c.state for c in page.components] == [state, S.OPERATIONAL]
    assert page.overall is state


def test_the_worst_open_incident_wins_and_a_mitigated_one_is_degraded() -> None:
    incidents = [public(1, "P2"), public(2, "P0", mitigated=True), public(3, "P1")]
    page = status_page(SETTINGS, incidents, now=NOW)
    assert page.components[0].state is S.PARTIAL_OUTAGE
    assert [i.id for i in page.current] == [3, 2, 1]


def test_resolved_incidents_are_history_not_state() -> None:
    earlier = NOW - timedelta(days=2)
    page = status_page(SETTINGS, [public(1, "P0", opened=earlier, resolved=earlier)], now=NOW)
    assert page.overall is S.OPERATIONAL
    assert page.current == ()
    assert [i.id for i in page.past] == [1]
    history = page.components[0].history
    assert len(history) == status.HISTORY_DAYS
    assert history[-1].day == NOW.date()
    assert history[-3].state is S.MAJOR_OUTAGE
    assert history[-3].incidents == (1,)
    assert {bar.state for bar in history[:-3]} == {S.OPERATIONAL}


def test_an_incident_over_several_days_colours_each_of_them() -> None:
    opened = NOW - timedelta(days=5)
    page = status_page(SETTINGS, [public(1, "P2", opened=opened)], now=NOW)
    states = [bar.state for bar in page.components[0].history]
    assert states[-6:] == [S.DEGRADED] * 6
    assert states[-7] is S.OPERATIONAL


def test_maintenance_shows_only_without_an_incident() -> None:
    window = Maintenance(
        ("web", "app"), NOW - timedelta(hours=1), NOW + timedelta(hours=1), Names("x")
    )
    settings = StatusSettings(True, components=SETTINGS.components, maintenance=(window,))
    page = status_page(settings, [public(1, "P3", service="app")], now=NOW)
    assert [c.state for c in page.components] == [S.MAINTENANCE, S.DEGRADED]
    assert page.maintenance == (window,)
    assert page.components[0].history[-1].state is S.MAINTENANCE
    later = status_page(settings, [], now=NOW + timedelta(hours=2))
    assert later.overall is S.OPERATIONAL
    assert later.maintenance == ()


def test_incidents_of_services_not_on_the_page_are_left_out() -> None:
    page = status_page(SETTINGS, [public(1, "P0", service="internal-billing")], now=NOW)
    assert page.overall is S.OPERATIONAL
    assert page.current == ()


def test_a_title_is_the_public_one_or_a_plain_sentence() -> None:
    assert public(1, "P1").title() == t("status.default_title.partial_outage")
    named = PublicIncident(1, "web", "P1", False, NOW, None, "Checkout errors")
    assert named.title() == raw("Checkout errors")


def test_names_fall_back_to_english() -> None:
    assert Names("Website", "网站").in_("zh") == "网站"
    assert Names("App").in_("zh") == "App"


def test_a_public_update_is_marked_public_posted_and_counts_as_an_update() -> None:
    i = opened("P1").incident
    result = status.public_update(i, actor="alice", now=NOW, text="Checkout is slow")
    [entry] = result.timeline
    assert (entry.kind, entry.text) == (status.PUBLIC_UPDATE, "Checkout is slow")
    [post] = [e for e in result.effects if isinstance(e, Post)]
    assert post.message.blocks[0].key == "incident.public_update_posted"
    plain = status.lifecycle.status_update(i, actor="alice", now=NOW, text="x")
    assert [type(e) for e in result.effects] == [type(e) for e in plain.effects]


def test_a_public_update_needs_an_unresolved_incident() -> None:
    done = replace(new("P1"), state=IncidentState.RESOLVED)
    with pytest.raises(InvalidTransition):
        status.public_update(done, actor="alice", now=NOW, text="x")


def test_history_since_starts_at_the_first_days_midnight() -> None:
    now = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    since = status.history_since(now)
    assert since.date() == date(2026, 9, 7)
    assert (since.hour, since.minute) == (0, 0)
