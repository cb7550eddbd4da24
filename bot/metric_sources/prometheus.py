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

from bot.metric_sources.base import MetricQuery, Series
from playbooks.guards import Reading
from playbooks.messages import Text

# Prometheus' error types that mean "could not run it" rather than "the query is wrong".
log = logging.getLogger("shipwatch.metrics")
# What a report or release reads; the parser's own message goes to the log only.
UNREADABLE = "prometheus sent an answer this bot cannot read"
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
        if isinstance(answer, str):
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
        if isinstance(answer, str):
            series = Series(error=answer)
        else:
            try:
                series = _series(answer)
            except (KeyError, IndexError, TypeError, ValueError) as error:
                log.warning("unreadable prometheus answer", extra={"error": repr(error)})
                series = Series(error=UNREADABLE)
        if self._secret:
            series = Series(
                points=series.points,
                no_data=_scrub(series.no_data, self._secret),
                error=_scrub(series.error, self._secret),
            )
        return series

    async def _fetch(self, endpoint: str, params: dict[str, str]) -> dict[str, Any] | str:
        """The ``data`` of a successful answer, or why there is none."""
        seconds = self._timeout.total_seconds()
        session = await self._session()
        try:
            async with session.get(
                endpoint, params=params, timeout=aiohttp.ClientTimeout(total=seconds)
            ) as response:
                status = f"HTTP {response.status} {response.reason or ''}".rstrip()
                body = await response.read()
        except TimeoutError:
            return f"no answer from prometheus at {self._shown} within {seconds:g}s"
        except aiohttp.ClientConnectorError as error:
            return f"cannot reach prometheus at {self._shown}: {_why(error)}"
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError):
            return f"the prometheus url {self._shown} is not a valid http(s) URL"
        except aiohttp.ClientError as error:
            return f"lost the connection to prometheus at {self._shown}: {error}"

        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "status" not in answer:
            return self._not_prometheus(response.status, status)
        if answer["status"] != "success":
            kind = str(answer.get("errorType") or status)
            verb = "failed to run" if kind in _SERVER_TROUBLE else "rejected"
            return f"prometheus {verb} the query: {kind}: {answer.get('error')}"
        data = answer.get("data")
        if not isinstance(data, dict):
            return "prometheus sent an answer this bot cannot read (no data)"
        return data

    def _not_prometheus(self, code: int, status: str) -> str:
        said = f"{self._shown} answered {status} with a body that is not Prometheus JSON"
        if code in (401, 403):
            return f"{said}; check the credentials for prometheus"
        if code < 300 or code == 404:
            return f"{said}; check that the url points at the Prometheus server"
        return said


def _reading(data: dict[str, Any]) -> Reading:
    kind = data["resultType"]
    result = data["result"]
    if kind == "scalar":
        return Reading.of(float(result[1]))
    if kind == "vector":
        if not result:
            return Reading(no_data="the query returned no series")
        if len(result) > 1:
            return Reading(
                error=f"the query returned {len(result)} series but a guard needs one number; "
                "aggregate them, e.g. wrap the query in sum(...) or max(...)"
            )
        return Reading.of(float(result[0]["value"][1]))
    if kind == "matrix":
        return Reading(
            error="the query returned a range vector; a guard needs an instant value: "
            "drop the [range] or wrap it in a function such as rate(...)"
        )
    return Reading(error=f"the query returned a {kind}, not a number")


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


def _why(error: aiohttp.ClientConnectorError) -> str:
    cause = error.os_error
    if isinstance(cause, socket.gaierror):
        return f"cannot resolve host {error.host!r} ({cause.strerror or cause})"
    if isinstance(cause, ConnectionRefusedError):
        return f"connection refused on {error.host}:{error.port}"
    return cause.strerror or str(cause) or type(cause).__name__


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
    # Catalog text carries only what this bot wrote; a server's words may carry the secret.
    return reason.replace(secret, "***") if isinstance(reason, str) else reason
