"""A real Prometheus server for tests, scraping a tiny exporter the test controls.

    exporter = Exporter.start()                      # 127.0.0.1, a free port
    exporter.inc("http_requests_total", {"service": "web", "code": "500"}, by=3)
    prom = PrometheusServer.start(binary, workdir, exporter)
    await prom.wait_for_samples('http_requests_total{service="web"} >= 3')
    ... query prom.url ...
    prom.stop(); exporter.stop()

In the suite, use the session fixtures ``prometheus`` (with ``prometheus.exporter``) and
``prometheus_exporter`` from ``tests/conftest.py``. They are shared by every test of the
run, so give each test its own label values (e.g. its own ``service``). For a ``rate()``,
create the counter at 0 (``inc(..., by=0)``) and wait until it is scraped before bumping
it: Prometheus does not count a series' first sample as an increase.

The first scrape comes about 5 s after the server starts (Prometheus 2.42 hands new
targets from discovery to the scrapers at most every 5 s, and no flag changes that), then
one a second; that is why the server is shared by the whole run.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily

from tests.fakes.local_server import LocalServer

SCRAPE_INTERVAL = "1s"
WAIT_WITHIN = 20.0  # seconds for a scrape to show up in a query
POLL_EVERY = 0.2

Labels = tuple[tuple[str, str], ...]


def prometheus_binary() -> str | None:
    found = shutil.which("prometheus")
    if found:
        return found
    debian = Path("/usr/bin/prometheus")
    return str(debian) if debian.is_file() else None


# --- the exporter ------------------------------------------------------------------------


class Exporter:
    """Counters in the text exposition format on 127.0.0.1, set by the test.

    Series of one name may use different label names; a label a series lacks is
    exposed empty, which Prometheus treats as absent.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, dict[Labels, float]] = {}
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        self._server, self._thread = start_http_server(0, addr="127.0.0.1", registry=registry)
        self.port: int = self._server.server_port
        self.target = f"127.0.0.1:{self.port}"  # for a scrape config
        self.url = f"http://{self.target}/metrics"

    @classmethod
    def start(cls) -> Exporter:
        return cls()

    def inc(self, name: str, labels: Mapping[str, str] | None = None, by: float = 1.0) -> None:
        """Add ``by`` (may be 0, which creates the series) to counter ``name{labels}``."""
        if not name.endswith("_total"):
            raise ValueError(f"counter names end in _total: {name!r}")
        if by < 0:
            raise ValueError("counters only go up")
        key = tuple(sorted((labels or {}).items()))
        with self._lock:
            series = self._values.setdefault(name, {})
            series[key] = series.get(key, 0.0) + by

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float:
        with self._lock:
            return self._values[name][tuple(sorted((labels or {}).items()))]

    def collect(self) -> Iterator[CounterMetricFamily]:
        with self._lock:
            snapshot = {name: dict(series) for name, series in self._values.items()}
        for name, series in sorted(snapshot.items()):
            label_names = sorted({label for labels in series for label, _ in labels})
            family = CounterMetricFamily(name, f"{name}, set by the test", labels=label_names)
            for labels, value in series.items():
                present = dict(labels)
                family.add_metric([present.get(label, "") for label in label_names], value)
            yield family

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# --- the server --------------------------------------------------------------------------


class PrometheusServer(LocalServer):
    """A ``prometheus`` process on 127.0.0.1 with its own config and TSDB under ``workdir``."""

    name = "prometheus"

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, workdir: Path, exporter: Exporter
    ) -> None:
        super().__init__(process, port, workdir)
        self.exporter = exporter

    @classmethod
    def start(cls, binary: str, workdir: Path, exporter: Exporter) -> PrometheusServer:
        """Start it scraping ``exporter`` every second; return once ``/-/ready`` says so."""
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n"
            f"  scrape_interval: {SCRAPE_INTERVAL}\n"
            f"  scrape_timeout: {SCRAPE_INTERVAL}\n"
            f"  evaluation_interval: {SCRAPE_INTERVAL}\n"
            "scrape_configs:\n"
            "  - job_name: exporter\n"
            "    static_configs:\n"
            f"      - targets: ['{exporter.target}']\n"
        )
        return cls.launch(
            workdir,
            lambda port: [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                "--storage.tsdb.retention.time=1h",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            exporter=exporter,
        )

    async def query(self, expr: str) -> dict[str, Any]:
        """The ``data`` of an instant query at the server's now; raises on an error answer."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{self.url}/api/v1/query",
                params={"query": expr},
                timeout=aiohttp.ClientTimeout(total=5),
            ) as response,
        ):
            answer = await response.json()
        if answer.get("status") != "success":
            raise AssertionError(f"prometheus refused {expr!r}: {answer}")
        data: dict[str, Any] = answer["data"]
        return data

    async def wait_for_samples(
        self, expr: str, within: float = WAIT_WITHIN
    ) -> list[dict[str, Any]]:
        """Poll until ``expr`` returns a non-empty result (Prometheus has scraped what the
        test set up), and return that result. Fails the test after ``within`` seconds."""
        deadline = time.monotonic() + within
        while True:
            data = await self.query(expr)
            if data["result"]:
                result: list[dict[str, Any]] = data["result"]
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"prometheus had no samples for {expr!r} after {within:g}s; "
                    f"is it scraping {self.exporter.url}? {self.log_tail(5)}"
                )
            await asyncio.sleep(POLL_EVERY)  # waiting for the real server's next scrape
