"""Metrics from Prometheus: one instant query (``GET /api/v1/query``) per guard sample or
report figure, a range query (``GET /api/v1/query_range``) per chart line.

Every failure of the server, the network or the query becomes a ``Reading`` whose reason
an operator can act on; nothing here raises for them. Credentials in the URL are used
for the request but never shown.
"""

from __future__ import annotations

import json
import logging
import math
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from yarl import URL

from bot.i18n import Translator
from bot.metric_sources.base import MetricQuery, Series
from playbooks.messages import Text, raw, t
from playbooks.releases.guards import Reading

# Prometheus' error types that mean "could not run it" rather than "the query is wrong".
log = logging.getLogger("shipwatch.metrics")
# What a report or release reads; the parser's own message goes to the log only.
UNREADABLE = t("metrics.unreadable")
# A chart's note is read by operators, in English like the rest of its labels.
_CHART_NOTE = Translator("en", UTC)
_SERVER_TROUBLE = {"timeout", "canceled", "internal", "unavailable"}


class PrometheusSource:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: timedelta,
        session: Callable[[], Awaitable[aiohttp.ClientSession]],
    ) -> None:
        self._endpoint = base_url.rstrip("/") + "/api/v1/query"
        self._range_endpoint = self._endpoint + "_range"
        self._shown = _redact(base_url.rstrip("/"))
        self._secret = _password(base_url)
        self._timeout = timeout
        self._session = session

    async def query(self, query: MetricQuery, at: datetime) -> Reading:
        answer = await self._fetch(self._endpoint, {"query": query.expr, "time": _ts(at)})
        if isinstance(answer, Text):
            reading = Reading(error=answer)
        else:
            try:
                reading = _reading(answer)
            except (KeyError, IndexError, TypeError, ValueError) as error:
                log.warning("unreadable prometheus answer", extra={"error": repr(error)})
                reading = Reading(error=UNREADABLE)
        if self._secret:  # belt and braces: no library message may carry the password
            reading = Reading(
                value=reading.value,
                no_data=_scrub_why(reading.no_data, self._secret),
                error=_scrub_why(reading.error, self._secret),
            )
        return reading

    async def query_range(
        self, query: MetricQuery, *, start: datetime, end: datetime, step: timedelta
    ) -> Series:
        """Values for a chart, through ``GET /api/v1/query_range``."""
        params = {
            "query": query.expr,
            "start": _ts(start),
            "end": _ts(end),
            "step": f"{max(step.total_seconds(), 1):g}",
        }
        answer = await self._fetch(self._range_endpoint, params)
        if isinstance(answer, Text):
            series = Series(error=_CHART_NOTE(answer))
        else:
            try:
                series = _series(answer)
            except (KeyError, IndexError, TypeError, ValueError) as error:
                log.warning("unreadable prometheus answer", extra={"error": repr(error)})
                series = Series(error=_CHART_NOTE(UNREADABLE))
        if self._secret:
            series = Series(
                points=series.points,
                no_data=_scrub(series.no_data, self._secret),
                error=_scrub(series.error, self._secret),
            )
        return series

    async def _fetch(self, endpoint: str, params: dict[str, str]) -> dict[str, Any] | Text:
        """The ``data`` of a successful answer, or why there is none (an exception's own
        text stays in the log)."""
        seconds = self._timeout.total_seconds()
        session = await self._session()
        try:
            async with session.get(
                endpoint, params=params, timeout=aiohttp.ClientTimeout(total=seconds)
            ) as response:
                status = f"HTTP {response.status} {response.reason or ''}".rstrip()
                body = await response.read()
        except TimeoutError:
            return t("metrics.timeout", url=self._shown, seconds=f"{seconds:g}")
        except aiohttp.ClientConnectorError as error:
            log.warning("prometheus unreachable", extra={"error": repr(error)})
            return t("metrics.unreachable", url=self._shown, why=_why(error))
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError):
            return t("metrics.bad_url", url=self._shown)
        except aiohttp.ClientError as error:
            log.warning("prometheus connection lost", extra={"error": repr(error)})
            return t("metrics.lost", url=self._shown)

        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "status" not in answer:
            return self._not_prometheus(response.status, status)
        if answer["status"] != "success":
            kind = str(answer.get("errorType") or status)
            key = "metrics.query_failed" if kind in _SERVER_TROUBLE else "metrics.query_rejected"
            # Prometheus' own words about the query: what the person fixing it needs.
            return t(key, kind=kind, error=raw(str(answer.get("error"))))
        data = answer.get("data")
        if not isinstance(data, dict):
            return t("metrics.unreadable_no_data")
        return data

    def _not_prometheus(self, code: int, status: str) -> Text:
        if code in (401, 403):
            hint: Text = t("metrics.hint.credentials")
        elif code < 300 or code == 404:
            hint = t("metrics.hint.url")
        else:
            hint = raw("")
        return t("metrics.not_prometheus", url=self._shown, status=status, hint=hint)


def _reading(data: dict[str, Any]) -> Reading:
    kind = data["resultType"]
    result = data["result"]
    if kind == "scalar":
        return Reading.of(float(result[1]))
    if kind == "vector":
        if not result:
            return Reading(no_data=t("metrics.no_series"))
        if len(result) > 1:
            return Reading(error=t("metrics.many_series", count=len(result)))
        return Reading.of(float(result[0]["value"][1]))
    if kind == "matrix":
        return Reading(error=t("metrics.range_vector"))
    return Reading(error=t("metrics.not_a_number", kind=str(kind)))


def _series(data: dict[str, Any]) -> Series:
    if data["resultType"] != "matrix":
        return Series(error=f"the range query returned a {data['resultType']}, not a matrix")
    result = data["result"]
    if not result:
        return Series(no_data="the query returned no series")
    if len(result) > 1:
        return Series(
            error=f"the query returned {len(result)} series but a chart line needs one; "
            "aggregate them, e.g. wrap the query in sum(...) or max(...)"
        )
    points = tuple(
        (datetime.fromtimestamp(float(when), UTC), float(value))
        for when, value in result[0]["values"]
        if math.isfinite(float(value))
    )
    return Series(points=points) if points else Series(no_data="the series has no numbers")


def _ts(at: datetime) -> str:
    return repr(at.timestamp())


def _why(error: aiohttp.ClientConnectorError) -> Text:
    cause = error.os_error
    if isinstance(cause, socket.gaierror):
        return t("metrics.why.unresolved", host=error.host)
    if isinstance(cause, ConnectionRefusedError):
        return t("metrics.why.refused", host=error.host, port=error.port)
    return t("metrics.why.network")


def _redact(url: str) -> str:
    try:
        parsed = URL(url)
    except ValueError:
        return "(an unparseable url)"
    if parsed.user is None and parsed.password is None:
        return str(parsed.with_query(None).with_fragment(None))
    return str(parsed.with_user(None).with_query(None).with_fragment(None)).replace(
        "://", "://***@", 1
    )


def _password(url: str) -> str | None:
    try:
        return URL(url).password or None
    except ValueError:
        return None


def _scrub(reason: str | None, secret: str) -> str | None:
    return reason.replace(secret, "***") if reason is not None else None


def _scrub_why(reason: Text | str | None, secret: str) -> Text | str | None:
    """The reason with the secret starred out of every word in it, a server's included."""
    if isinstance(reason, str):
        return reason.replace(secret, "***")
    if reason is None:
        return None
    params = {
        name: _scrub_why(value, secret) if isinstance(value, Text | str) else value
        for name, value in reason.params.items()
    }
    return Text(reason.key, params)
