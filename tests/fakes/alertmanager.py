"""Alertmanager webhook bodies in the documented format (version 4), as Alertmanager
sends them: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config"""

from __future__ import annotations

import hashlib
from typing import Any

ZERO_TIME = "0001-01-01T00:00:00Z"  # endsAt of an alert still firing


def alert(
    alertname: str,
    *,
    status: str = "firing",
    starts_at: str = "2026-11-23T01:00:00.000Z",
    ends_at: str | None = None,
    **labels: str,
) -> dict[str, Any]:
    all_labels = {"alertname": alertname, **labels}
    fingerprint = hashlib.sha256(repr(sorted(all_labels.items())).encode()).hexdigest()[:16]
    return {
        "status": status,
        "labels": all_labels,
        "annotations": {
            "summary": f"{alertname} on {labels.get('service', '?')}",
            "description": f"{alertname} has been firing for 5 minutes.",
        },
        "startsAt": starts_at,
        "endsAt": ends_at or ("2026-11-23T01:30:00.000Z" if status == "resolved" else ZERO_TIME),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": fingerprint,
    }


def notification(
    *alerts: dict[str, Any], group_by: tuple[str, ...] = ("alertname",)
) -> dict[str, Any]:
    """The body Alertmanager posts for one group of ``alerts`` (grouped by ``group_by``)."""
    first = alerts[0]["labels"]
    group_labels = {name: first[name] for name in group_by if name in first}
    common = {k: v for k, v in first.items() if all(a["labels"].get(k) == v for a in alerts)}
    firing = any(a["status"] == "firing" for a in alerts)
    matchers = ", ".join(f'{k}="{v}"' for k, v in sorted(group_labels.items()))
    return {
        "version": "4",
        "groupKey": "{}:{" + matchers + "}",
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "shipwatch",
        "groupLabels": group_labels,
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }
