"""The incident list's filters as the query string states them, read into a
``ListFilter``: ``state`` (open, resolved, all), ``sev`` (P0–P3), ``service``, ``since``
(24h, 7d, 30d, or custom with ``from`` and ``to`` as dates in the viewer's timezone) and
``page``. A value that makes no sense is left out of the filter and named in a sentence
the page shows; it never fails the request."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from bot.web.console.numbers import whole_number
from commands.core.grammar import SEVERITIES
from commands.core.untrusted import shown
from commands.incidents.console import STATES, ListFilter
from playbooks.messages import Text, t

RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
CUSTOM = "custom"
MAX_PAGE = 100_000
# The days a custom range may name: any incident Shipwatch can hold falls between them.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
MAX_VALUE = 100  # characters of one filter value looked at, or repeated in a sentence


@dataclass(slots=True)
class Filters:
    wanted: ListFilter
    page: int
    values: dict[str, str]  # what the form shows as chosen (valid values only)
    problems: list[Text] = field(default_factory=list)


def read_filters(
    query: Mapping[str, str], *, services: Collection[str], now: datetime, tz: tzinfo
) -> Filters:
    problems: list[Text] = []
    values: dict[str, str] = {}

    def get(name: str) -> str:
        return query.get(name, "").strip()[:MAX_VALUE]

    state = get("state").lower() or "open"
    if state not in STATES:
        problems.append(t("web.incidents.bad_state", value=shown(state), valid=", ".join(STATES)))
        state = "open"
    values["state"] = state

    severity: str | None = get("sev").upper() or None
    if severity is not None and severity not in SEVERITIES:
        problems.append(
            t("web.incidents.bad_severity", value=shown(severity), valid=", ".join(SEVERITIES))
        )
        severity = None
    values["sev"] = severity or ""

    service: str | None = get("service").lower() or None
    if service is not None and service not in services:
        problems.append(t("web.incidents.bad_service", value=shown(service)))
        service = None
    values["service"] = service or ""

    since, until = _range(get, values, problems, now=now, tz=tz)

    page = 1
    if get("page"):
        number = get("page")
        chosen_page = whole_number(number, maximum=MAX_PAGE)
        if chosen_page is not None:
            page = chosen_page
        else:
            problems.append(t("web.incidents.bad_page", value=shown(number)))
    wanted = ListFilter(state=state, severity=severity, service=service, since=since, until=until)
    return Filters(wanted, page, values, problems)


def _range(
    get: Callable[[str], str],
    values: dict[str, str],
    problems: list[Text],
    *,
    now: datetime,
    tz: tzinfo,
) -> tuple[datetime | None, datetime | None]:
    chosen = get("since").lower()
    values.update(since="", start="", end="")
    if not chosen:
        return None, None
    if chosen in RANGES:
        values["since"] = chosen
        return now - RANGES[chosen], None
    if chosen != CUSTOM:
        problems.append(
            t("web.incidents.bad_range", value=shown(chosen), valid=", ".join([*RANGES, CUSTOM]))
        )
        return None, None
    start, end = _day(get("from"), problems), _day(get("to"), problems)
    if start is not None and end is not None and end < start:
        problems.append(t("web.incidents.bad_order", start=start.isoformat(), end=end.isoformat()))
        return None, None
    values["since"] = CUSTOM
    values["start"] = start.isoformat() if start else ""
    values["end"] = end.isoformat() if end else ""
    since = datetime.combine(start, time(), tz) if start else None
    until = datetime.combine(end + timedelta(days=1), time(), tz) if end else None
    return since, until


def _day(value: str, problems: list[Text]) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(t("web.incidents.bad_date", value=shown(value)))
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        # Midnight of 9999-12-31's next day, or of year 1 east of Greenwich, is no time at all.
        problems.append(
            t(
                "web.incidents.date_out_of_range",
                value=shown(value),
                first=FIRST_DAY.isoformat(),
                last=LAST_DAY.isoformat(),
            )
        )
        return None
    return day
