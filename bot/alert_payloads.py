"""Read what monitoring sends: Alertmanager's webhook JSON (version 4), Grafana alerting's
webhook contact point JSON (version 1) and the generic incident hook's JSON, into the
domain's ``Notification``. Anything else is refused with
a sentence that says what is wrong (``BadPayload``), before anything is stored."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from commands.core.untrusted import shown
from playbooks.incidents.alerts import FIRING, RESOLVED, SEVERITIES, Alert, Notification
from playbooks.messages import Text, t

ALERTMANAGER = "alertmanager"
GRAFANA = "grafana"
HOOK = "hook"
MAX_TEXT = 2000


class BadPayload(Exception):
    def __init__(self, text: Text) -> None:
        super().__init__(text.key)
        self.text = text


def from_alertmanager(data: Any) -> Notification:
    """https://prometheus.io/docs/alerting/latest/configuration/#webhook_config"""
    body = _object(data)
    if "alerts" not in body:
        raise BadPayload(t("hook.no_alerts"))
    version = body.get("version")
    if version is not None and str(version) != "4":
        raise BadPayload(t("hook.bad_version", version=shown(version)))
    raw_alerts = body["alerts"]
    if not isinstance(raw_alerts, list) or not raw_alerts:
        raise BadPayload(t("hook.alerts_not_list"))
    group_key = body.get("groupKey")
    if not isinstance(group_key, str) or not group_key.strip():
        raise BadPayload(t("hook.no_group_key"))
    return Notification(
        source=ALERTMANAGER,
        group_key=group_key,
        status=_status(body.get("status"), "status"),
        alerts=tuple(_alert(item, index) for index, item in enumerate(raw_alerts)),
        common_labels=_strings(body.get("commonLabels", {}), "commonLabels"),
        common_annotations=_strings(body.get("commonAnnotations", {}), "commonAnnotations"),
        truncated=_count(body.get("truncatedAlerts", 0)),
    )


def from_grafana(data: Any) -> Notification:
    """https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/

    Grafana's notifier is an Alertmanager inside Grafana and sends nearly the same body:
    version ``1``, with ``orgId``, ``title``, ``state`` (alerting | ok) and ``message``
    added, and each alert's ``values`` as numbers. The alerts, labels, annotations,
    ``groupKey`` and ``status`` are read as Alertmanager's are."""
    body = _object(data)
    if "alerts" not in body:
        raise BadPayload(t("hook.grafana_no_alerts"))
    version = body.get("version")
    if version is not None and str(version) != "1":
        raise BadPayload(t("hook.grafana_bad_version", version=shown(version)))
    raw_alerts = body["alerts"]
    if not isinstance(raw_alerts, list) or not raw_alerts:
        raise BadPayload(t("hook.alerts_not_list"))
    group_key = body.get("groupKey")
    if not isinstance(group_key, str) or not group_key.strip():
        raise BadPayload(t("hook.grafana_no_group_key"))
    return Notification(
        source=GRAFANA,
        group_key=group_key,
        status=_status(body.get("status"), "status"),
        alerts=tuple(_alert(item, index) for index, item in enumerate(raw_alerts)),
        common_labels=_strings(body.get("commonLabels") or {}, "commonLabels"),
        common_annotations=_strings(body.get("commonAnnotations") or {}, "commonAnnotations"),
        truncated=_count(body.get("truncatedAlerts", 0)),
    )


def _alert(item: Any, index: int) -> Alert:
    if not isinstance(item, dict):
        raise BadPayload(t("hook.alert_not_object", index=index))
    labels = _strings(item.get("labels", {}), f"alerts[{index}].labels")
    if not labels:
        raise BadPayload(t("hook.alert_no_labels", index=index))
    fingerprint = item.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint:
        # Older senders leave it out; the labels identify an alert just as well.
        fingerprint = _label_hash(labels)
    return Alert(
        fingerprint=fingerprint,
        status=_status(item.get("status"), f"alerts[{index}].status"),
        labels=labels,
        annotations=_strings(item.get("annotations", {}), f"alerts[{index}].annotations"),
        starts_at=str(item.get("startsAt", "")),
        ends_at=str(item.get("endsAt", "")),
    )


def from_generic(data: Any) -> Notification:
    """``{"title", "severity"?, "service"?, "status"? (firing|resolved), "key"?, "text"?}``.

    Calls with the same ``key`` (default: service and title) feed one incident, and a
    ``resolved`` call resolves it, like an alert group."""
    body = _object(data)
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise BadPayload(t("hook.no_title"))
    severity = body.get("severity")
    if severity is not None and (
        not isinstance(severity, str) or severity.upper() not in SEVERITIES
    ):
        raise BadPayload(t("hook.bad_severity", value=shown(severity), valid=", ".join(SEVERITIES)))
    service = _optional_text(body, "service")
    text = _optional_text(body, "text")
    key = _optional_text(body, "key") or f"{service or '-'}:{title.strip()}"
    labels = {"alertname": title.strip()[:200]}
    if service:
        labels["service"] = service
    status = _status(body.get("status", FIRING), "status")
    alert = Alert(
        fingerprint=_label_hash({"key": key}),
        status=status,
        labels=labels,
        annotations={"description": text[:MAX_TEXT]} if text else {},
    )
    return Notification(
        source=HOOK,
        group_key=key,
        status=status,
        alerts=(alert,),
        common_labels=labels,
        severity=severity.upper() if isinstance(severity, str) else None,
    )


def _object(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise BadPayload(t("hook.not_object"))
    return data


def _status(value: Any, where: str) -> str:
    if value not in (FIRING, RESOLVED):
        raise BadPayload(t("hook.bad_status", field=where, value=shown(value)))
    return str(value)


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadPayload(t("hook.not_strings", field=where))
    return dict(value)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _optional_text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadPayload(t("hook.not_text", field=name))
    return value.strip() or None


def _label_hash(labels: Mapping[str, str]) -> str:
    text = "\n".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
