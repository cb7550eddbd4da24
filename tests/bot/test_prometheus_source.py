"""PrometheusSource against a local server that answers the way Prometheus' HTTP API does."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.i18n import Translator
from bot.metric_sources.base import MetricQuery
from bot.metric_sources.prometheus import PrometheusSource
from playbooks.messages import Text, as_text
from playbooks.releases.guards import Reading
from tests.fakes.loopback import serve

AT = datetime(2026, 11, 23, 1, 0, 30, 250000, tzinfo=UTC)
EXPR = 'sum(rate(http_requests_total{service="web",code=~"5.."}[5m]))'
QUERY = MetricQuery(guard="errors", expr=EXPR, service="web", version="1.4.2", stage="canary")


def success(result_type: str, result: Any) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": result_type, "result": result}}


def sample(value: str, **labels: str) -> dict[str, Any]:
    return {"metric": labels, "value": [AT.timestamp(), value]}


class FakePrometheus:
    """Answers every instant query with what the test set; remembers what was asked."""

    def __init__(self) -> None:
        self.status = 200
        self.body = json.dumps(success("vector", []))
        self.content_type = "application/json"
        self.hold: asyncio.Event | None = None
        self.requests: list[tuple[str, dict[str, str], str | None]] = []
        self.url = ""

    def answer(self, payload: Any, *, status: int = 200) -> None:
        self.status, self.body, self.content_type = status, json.dumps(payload), "application/json"

    def answer_text(self, body: str, *, status: int, content_type: str = "text/html") -> None:
        self.status, self.body, self.content_type = status, body, content_type

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            (request.path, dict(request.query), request.headers.get("Authorization"))
        )
        if self.hold is not None:
            await self.hold.wait()
        return web.Response(status=self.status, text=self.body, content_type=self.content_type)


@pytest.fixture
async def fake() -> AsyncIterator[FakePrometheus]:
    server = FakePrometheus()
    app = web.Application()
    app.router.add_get("/api/v1/query", server.handle)
    app.router.add_get("/prom/api/v1/query", server.handle)
    runner, server.url = await serve(app)
    try:
        yield server
    finally:
        if server.hold is not None:
            server.hold.set()
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def source(url: str, client: aiohttp.ClientSession, *, timeout: float = 5.0) -> PrometheusSource:
    async def provide() -> aiohttp.ClientSession:
        return client

    return PrometheusSource(url, timeout=timedelta(seconds=timeout), session=provide)


async def read(fake: FakePrometheus, session: aiohttp.ClientSession, **kw: Any) -> Reading:
    return english(await source(fake.url, session, **kw).query(QUERY, AT))


def english(reading: Reading) -> Reading:
    """The reading's reasons as an English reader reads them (they are catalog text)."""

    def said(why: Text | str | None) -> str | None:
        return Translator("en", UTC)(as_text(why)) if why is not None else None

    return Reading(value=reading.value, no_data=said(reading.no_data), error=said(reading.error))


# --- answers -------------------------------------------------------------------------------


async def test_one_sample_is_the_value(
    fake: FakePrometheus, session: aiohttp.ClientSession
) -> None:
    fake.answer(success("vector", [sample("0.0125", service="web")]))
    assert await read(fake, session) == Reading(value=0.0125)
    [(path, params, _)] = fake.requests
    assert path == "/api/v1/query"
    assert params["query"] == EXPR
    assert float(params["time"]) == AT.timestamp()
    assert not session.closed  # the app owns the session


async def test_base_url_with_a_path_prefix_and_trailing_slash(
    fake: FakePrometheus, session: aiohttp.ClientSession
) -> None:
    fake.answer(success("vector", [sample("3")]))
    reading = english(await source(f"{fake.url}/prom/", session).query(QUERY, AT))
    assert reading == Reading(value=3.0)
    assert fake.requests[0][0] == "/prom/api/v1/query"


async def test_no_series_is_no_data(fake: FakePrometheus, session: aiohttp.ClientSession) -> None:
    fake.answer(success("vector", []))
    assert await read(fake, session) == Reading(no_data="the query returned no series")


async def test_several_series_ask_for_aggregation(
    fake: FakePrometheus, session: aiohttp.ClientSession
) -> None:
    fake.answer(success("vector", [sample("1", code="500"), sample("2", code="503")]))
    reading = await read(fake, session)
    assert reading.value is None
    assert reading.error is not None
    assert "2 series" in reading.error
    assert "sum(...)" in reading.error


@pytest.mark.parametrize("value", ["NaN", "+Inf", "-Inf"])
async def test_nan_and_infinity_are_no_data(
    fake: FakePrometheus, session: aiohttp.ClientSession, value: str
) -> None:
    fake.answer(success("vector", [sample(value)]))
    reading = await read(fake, session)
    assert reading.value is None
    assert reading.error is None
    assert reading.no_data is not None
    assert reading.no_data.startswith("the query returned ")


async def test_scalar_is_the_value(fake: FakePrometheus, session: aiohttp.ClientSession) -> None:
    fake.answer(success("scalar", [AT.timestamp(), "42"]))
    assert await read(fake, session) == Reading(value=42.0)


async def test_range_vector_is_an_error(
    fake: FakePrometheus, session: aiohttp.ClientSession
) -> None:
    fake.answer(success("matrix", [{"metric": {}, "values": [[AT.timestamp(), "1"]]}]))
    reading = await read(fake, session)
    assert reading.error is not None
    assert "range vector" in reading.error
    assert "[range]" in reading.error


async def test_string_is_an_error(fake: FakePrometheus, session: aiohttp.ClientSession) -> None:
    fake.answer(success("string", [AT.timestamp(), "hello"]))
    assert await read(fake, session) == Reading(error="the query returned a string, not a number")


@pytest.mark.parametrize(
    "payload",
    [{"status": "success"}, success("vector", [{"metric": {}}]), success("scalar", "x"), [1, 2]],
)
async def test_a_malformed_answer_is_an_error_not_an_exception(
    fake: FakePrometheus, session: aiohttp.ClientSession, payload: Any
) -> None:
    fake.answer(payload)
    reading = await read(fake, session)
    assert reading.value is None
    assert reading.error is not None
    # What people read is one sentence; the parser's exception stays in the log.
    assert "Error(" not in reading.error


# --- prometheus says no --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type", "message", "expected"),
    [
        (
            400,
            "bad_data",
            '1:38: parse error: unexpected "}" in label matching',
            'prometheus rejected the query: bad_data: 1:38: parse error: unexpected "}" in '
            "label matching",
        ),
        (
            422,
            "execution",
            "vector cannot contain metrics with the same labelset",
            "prometheus rejected the query: execution: vector cannot contain metrics with the "
            "same labelset",
        ),
        (
            503,
            "timeout",
            "query timed out in expression evaluation",
            "prometheus failed to run the query: timeout: query timed out in expression evaluation",
        ),
    ],
)
async def test_prometheus_error_body(
    fake: FakePrometheus,
    session: aiohttp.ClientSession,
    status: int,
    error_type: str,
    message: str,
    expected: str,
) -> None:
    fake.answer({"status": "error", "errorType": error_type, "error": message}, status=status)
    assert await read(fake, session) == Reading(error=expected)


async def test_a_proxy_page_names_the_http_status(
    fake: FakePrometheus, session: aiohttp.ClientSession
) -> None:
    fake.answer_text("<html><body><h1>502 Bad Gateway</h1></body></html>", status=502)
    assert await read(fake, session) == Reading(
        error=f"{fake.url} answered HTTP 502 Bad Gateway with a body that is not Prometheus JSON"
    )


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (200, "check that the url points at the Prometheus server"),
        (404, "check that the url points at the Prometheus server"),
        (401, "check the credentials for prometheus"),
    ],
)
async def test_not_prometheus_gives_a_hint(
    fake: FakePrometheus, session: aiohttp.ClientSession, status: int, hint: str
) -> None:
    fake.answer_text("<html>Grafana</html>", status=status)
    reading = await read(fake, session)
    assert reading.error is not None
    assert f"HTTP {status}" in reading.error
    assert reading.error.endswith(hint)


# --- the network ---------------------------------------------------------------------------


async def test_timeout(fake: FakePrometheus, session: aiohttp.ClientSession) -> None:
    fake.hold = asyncio.Event()
    started = time.monotonic()
    reading = await read(fake, session, timeout=0.2)
    elapsed = time.monotonic() - started
    fake.hold.set()
    assert reading == Reading(error=f"no answer from prometheus at {fake.url} within 0.2s")
    assert elapsed < 2
    assert len(fake.requests) == 1  # it did reach the server, which sat on it


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_connection_refused(refused_port: int, session: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{refused_port}"
    reading = english(await source(url, session).query(QUERY, AT))
    assert reading == Reading(
        error=f"cannot reach prometheus at {url}: connection refused on 127.0.0.1:{refused_port}"
    )


class NoSuchHost(AbstractResolver):
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


async def test_unknown_host() -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=NoSuchHost())) as s:
        reading = english(
            await source("http://prometheus.example.invalid:9090", s).query(QUERY, AT)
        )
    # The resolver's own words stay in the log.
    assert reading == Reading(
        error="cannot reach prometheus at http://prometheus.example.invalid:9090: "
        "cannot resolve host 'prometheus.example.invalid'"
    )


@pytest.mark.parametrize("url", ["prometheus:9090", "ftp://prometheus:9090"])
async def test_not_an_http_url(session: aiohttp.ClientSession, url: str) -> None:
    reading = english(await source(url, session).query(QUERY, AT))
    assert reading == Reading(error=f"the prometheus url {url} is not a valid http(s) URL")


# --- credentials ---------------------------------------------------------------------------


async def test_credentials_are_sent_but_never_shown(
    fake: FakePrometheus, session: aiohttp.ClientSession
) -> None:
    fake.answer_text("<html>bad gateway</html>", status=502)
    with_secret = fake.url.replace("http://", "http://admin:s3cr%2Ft@")
    reading = english(await source(with_secret, session).query(QUERY, AT))
    [(_, _, authorization)] = fake.requests
    assert authorization == "Basic " + base64.b64encode(b"admin:s3cr/t").decode()
    assert reading.error is not None
    assert "s3cr" not in reading.error
    assert "admin" not in reading.error
    assert reading.error.startswith(fake.url.replace("http://", "http://***@"))


async def test_credentials_are_not_shown_when_unreachable(
    refused_port: int, session: aiohttp.ClientSession
) -> None:
    url = f"http://admin:s3cret@127.0.0.1:{refused_port}/prom"
    reading = english(await source(url, session).query(QUERY, AT))
    assert reading.error is not None
    assert "s3cret" not in reading.error
    assert f"http://***@127.0.0.1:{refused_port}/prom" in reading.error


async def test_credentials_are_not_shown_on_timeout(
    fake: FakePrometheus, session: aiohttp.ClientSession
) -> None:
    fake.hold = asyncio.Event()
    url = fake.url.replace("http://", "http://admin:s3cret@")
    reading = english(await source(url, session, timeout=0.2).query(QUERY, AT))
    fake.hold.set()
    assert reading.error is not None
    assert "s3cret" not in reading.error
    assert "within 0.2s" in reading.error
