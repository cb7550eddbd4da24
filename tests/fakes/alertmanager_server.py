"""A real Alertmanager for tests, sending every group to one webhook (Shipwatch's route).

    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    am = AlertmanagerServer.start(
        binary, workdir, webhook_url=f"http://127.0.0.1:{port}/hooks/alertmanager", token=TOKEN
    )
    pushed = await am.fire({"alertname": "HighErrorRate", "service": "web"})
    ... wait for the incident ...
    await am.resolve(pushed)
    am.stop(); await runner.cleanup()

Start it after Shipwatch listens: its config names Shipwatch's port. Clustering is off
(``--cluster.listen-address=``), so it needs one free loopback port and sends at once,
without waiting for peers.

Timings (``group_wait``/``group_interval`` 1s, ``repeat_interval`` 2s, Alertmanager 0.25):
an alert whose ``startsAt`` is older than ``group_wait`` is sent straight away; an unchanged
group is sent again on the first ``group_interval`` tick after ``repeat_interval``, about
3 s after the last send; a resolved alert goes out on the next tick, about 1 s after it
is pushed. Alertmanager runs on the wall clock, never on a test's virtual clock, so the
timestamps pushed here are real ones.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.local_server import LocalServer

GROUP_WAIT = "1s"
GROUP_INTERVAL = "1s"
REPEAT_INTERVAL = "2s"


def alertmanager_binary() -> str | None:
    """Debian's ``prometheus-alertmanager``, else upstream's ``alertmanager`` on PATH."""
    for name in ("prometheus-alertmanager", "alertmanager"):
        found = shutil.which(name)
        if found:
            return found
    debian = Path("/usr/bin/prometheus-alertmanager")
    return str(debian) if debian.is_file() else None


def config_yaml(*, webhook_url: str, token: str) -> str:
    """Everything to one webhook receiver, with a bearer token, resolved groups too."""
    return (
        "route:\n"
        "  receiver: shipwatch\n"
        "  group_by: ['alertname', 'service']\n"
        f"  group_wait: {GROUP_WAIT}\n"
        f"  group_interval: {GROUP_INTERVAL}\n"
        f"  repeat_interval: {REPEAT_INTERVAL}\n"
        "receivers:\n"
        "  - name: shipwatch\n"
        "    webhook_configs:\n"
        f"      - url: {json.dumps(webhook_url)}\n"
        "        send_resolved: true\n"
        "        http_config:\n"
        "          authorization:\n"
        "            type: Bearer\n"
        f"            credentials: {json.dumps(token)}\n"
    )


@dataclass(frozen=True, slots=True)
class PushedAlert:
    """An alert as pushed to ``/api/v2/alerts``; ``resolve`` pushes it again, ended."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def body(self, ends_at: datetime | None = None) -> dict[str, object]:
        body: dict[str, object] = {
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": _rfc3339(self.starts_at),
        }
        if ends_at is not None:
            body["endsAt"] = _rfc3339(ends_at)
        return body


class AlertmanagerServer(LocalServer):
    """A ``prometheus-alertmanager`` process on 127.0.0.1 with its config and storage
    under ``workdir``."""

    name = "alertmanager"

    @classmethod
    def start(
        cls, binary: str, workdir: Path, *, webhook_url: str, token: str
    ) -> AlertmanagerServer:
        """Start it sending to ``webhook_url``; return once ``/-/ready`` says so."""
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "alertmanager.yml"
        config.write_text(config_yaml(webhook_url=webhook_url, token=token))
        return cls.launch(
            workdir,
            lambda port: [
                binary,
                f"--config.file={config}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                f"--web.external-url=http://127.0.0.1:{port}",
                "--cluster.listen-address=",  # no HA mode: no gossip port, no peer wait
                "--log.level=debug",  # the log is read only when something went wrong
            ],
        )

    # --- the API -------------------------------------------------------------------------

    async def push(self, *alerts: Mapping[str, object]) -> None:
        """``POST /api/v2/alerts``, as Prometheus does; raises unless Alertmanager took them."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{self.url}/api/v2/alerts",
                json=list(alerts),
                timeout=aiohttp.ClientTimeout(total=5),
            ) as response,
        ):
            if response.status != 200:
                raise AssertionError(
                    f"alertmanager refused {alerts!r}: {response.status} {await response.text()}"
                )

    async def fire(
        self,
        labels: Mapping[str, str],
        annotations: Mapping[str, str] | None = None,
        *,
        started: timedelta = timedelta(seconds=5),
    ) -> PushedAlert:
        """Push a firing alert (no ``endsAt``) that started ``started`` ago. Started longer
        ago than ``group_wait``, its group is sent at once instead of after the wait."""
        alert = PushedAlert(labels, annotations or {}, datetime.now(UTC) - started)
        await self.push(alert.body())
        return alert

    async def resolve(self, alert: PushedAlert) -> None:
        """Push ``alert`` again, ended now: Alertmanager sends its group resolved."""
        await self.push(alert.body(ends_at=datetime.now(UTC)))

    async def notifications(self) -> tuple[float, float]:
        """(sent, failed) webhook notifications, from Alertmanager's own ``/metrics``: a
        failed one is a send the receiver answered with an error, or did not answer."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}/metrics", timeout=aiohttp.ClientTimeout(total=5)) as response,
        ):
            text = await response.text()
        counts = {"alertmanager_notifications": 0.0, "alertmanager_notifications_failed": 0.0}
        for family in text_string_to_metric_families(text):
            if family.name in counts:
                counts[family.name] = sum(
                    s.value
                    for s in family.samples
                    if s.name.endswith("_total") and s.labels.get("integration") == "webhook"
                )
        return counts["alertmanager_notifications"], counts["alertmanager_notifications_failed"]


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
