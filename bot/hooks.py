"""Inbound HTTP from other systems: Alertmanager, Grafana alerting, heartbeats and the
generic incident hook, and the postmortem document. Each route checks its bearer token
first, reads at most ``SHIPWATCH_HOOK_MAX_BYTES``, and answers bad input with one
sentence in the caller's language (``Accept-Language``), having stored nothing."""

from __future__ import annotations

import json
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.alert_payloads import (
    ALERTMANAGER,
    GRAFANA,
    HOOK,
    BadPayload,
    from_alertmanager,
    from_generic,
    from_grafana,
)
from bot.app import Application
from bot.http_input import (
    BadBody,
    decode_json,
    error_response,
    read_body,
    request_locale,
    same_secret,
)
from commands.core.invocations import Inbound
from commands.core.untrusted import shown
from commands.incidents import heartbeats
from commands.incidents.alerts import KIND
from commands.incidents.incident import postmortem_document
from playbooks.incidents.alerts import Notification
from playbooks.messages import Text, t

APP_KEY = web.AppKey("shipwatch", Application)
IDEMPOTENCY_HEADER = "Idempotency-Key"
_DUPLICATE = json.dumps({"status": "duplicate"}).encode()


def routes() -> list[web.RouteDef]:
    return [
        web.post("/hooks/alertmanager", _alertmanager),
        web.post("/hooks/grafana", _grafana),
        web.post("/hooks/heartbeat/{name}", _heartbeat),
        web.post("/hooks/incident", _incident),
        web.get(r"/incidents/{id:\d{1,12}}/postmortem.md", _postmortem),
    ]


async def _alertmanager(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    return await _ingest(
        request,
        token=app.settings.alertmanager_token,
        setting="SHIPWATCH_ALERTMANAGER_TOKEN",
        source=ALERTMANAGER,
        read=from_alertmanager,
    )


async def _grafana(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    return await _ingest(
        request,
        token=app.settings.grafana_token,
        setting="SHIPWATCH_GRAFANA_TOKEN",
        source=GRAFANA,
        read=from_grafana,
    )


async def _heartbeat(request: web.Request) -> web.Response:
    """A beat of a heartbeat of heartbeats.yaml; the body, if any, is not read."""
    app = request.app[APP_KEY]
    refusal = _authorize(request, app.settings.heartbeat_token, "SHIPWATCH_HEARTBEAT_TOKEN")
    if refusal is not None:
        return refusal
    name = request.match_info["name"]
    known = app.runtime.incidents.heartbeats
    if name not in known:
        listed = ", ".join(sorted(known)) or "-"
        return json_error(
            request, 404, t("heartbeat.unknown", name=shown(name[:100]), known=listed)
        )
    event_id = request.headers.get(IDEMPOTENCY_HEADER, "").strip()[:200] or None
    outcome = await app.dispatch(
        Inbound(source=heartbeats.KIND, kind=heartbeats.KIND, payload=name, event_id=event_id)
    )
    if outcome.status in ("ok", "duplicate"):
        return web.json_response(dict(outcome.data))
    return json_error(request, 500, t("hook.failed"))


async def _incident(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    return await _ingest(
        request,
        token=app.settings.incident_hook_token,
        setting="SHIPWATCH_INCIDENT_HOOK_TOKEN",
        source=HOOK,
        read=from_generic,
    )


async def _ingest(
    request: web.Request,
    *,
    token: SecretStr | None,
    setting: str,
    source: str,
    read: Callable[[Any], Notification],
) -> web.Response:
    app = request.app[APP_KEY]
    refusal = _authorize(request, token, setting)
    if refusal is not None:
        return refusal
    limit = app.settings.hook_max_bytes
    body = await read_body(request, limit)
    if body is None:
        return json_error(request, 413, t("hook.too_large", limit=limit))
    read_before = _read_lately(app)
    key = (source, body)
    known = read_before.get(key)
    if known is None:
        try:
            notification = read(decode_json(body))
        except (BadBody, BadPayload) as error:
            return json_error(request, 400, error.text)
        known = (notification, notification.event_id())
        if len(body) <= _ReadLately.LARGEST:
            read_before.put(key, known)
    notification, payload_id = known
    event_id = request.headers.get(IDEMPOTENCY_HEADER, "").strip()[:200] or None
    outcome = await app.dispatch(
        Inbound(source=source, kind=KIND, payload=notification, event_id=event_id or payload_id)
    )
    if outcome.status == "duplicate":
        # Most of a storm: the one answer, encoded once.
        return web.Response(body=_DUPLICATE, content_type="application/json", charset="utf-8")
    if outcome.status == "ok":
        return web.json_response(dict(outcome.data))
    # Nothing was stored: a 5xx makes Alertmanager deliver again later.
    return json_error(request, 500, t("hook.failed"))


class _ReadLately:
    """The notifications read lately, by where they came from and their body. Alertmanager
    sends a group's notification again, byte for byte, every ``repeat_interval``, and in
    a storm most requests are such repeats: one read already is not decoded and checked
    again (a notification is immutable). What happens to it is still the pipeline's to
    say. Keyed by the body itself, not a digest of it: hashing bytes is cheaper than
    SHA-256, and equal keys are equal bodies."""

    SIZE = 1024
    # The largest body kept read: at most about 57 MB held (a 16 kB body, kept as the key,
    # parses to ~41 kB).
    LARGEST = 16 * 1024

    def __init__(self) -> None:
        self._read: OrderedDict[tuple[str, bytes], tuple[Notification, str]] = OrderedDict()

    def get(self, key: tuple[str, bytes]) -> tuple[Notification, str] | None:
        known = self._read.get(key)
        if known is not None:
            self._read.move_to_end(key)
        return known

    def put(
        self, key: tuple[str, bytes], known: tuple[Notification, str]
    ) -> tuple[Notification, str]:
        self._read[key] = known
        if len(self._read) > self.SIZE:
            self._read.popitem(last=False)
        return known


_read: weakref.WeakKeyDictionary[Application, _ReadLately] = weakref.WeakKeyDictionary()


def _read_lately(app: Application) -> _ReadLately:
    read = _read.get(app)
    if read is None:
        read = _read[app] = _ReadLately()
    return read


async def _postmortem(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    refusal = _authorize(request, app.settings.api_token, "SHIPWATCH_API_TOKEN")
    if refusal is not None:
        return refusal
    incident_id = int(request.match_info["id"])
    document = await app.db.run(
        postmortem_document, app.engine, incident_id=incident_id, now=app.clock.now()
    )
    if document is None:
        return json_error(request, 404, t("incident.unknown", id=incident_id))
    return web.Response(
        text=app.translator(app.settings.locale)(document),
        content_type="text/markdown",
        headers={"Content-Disposition": f'inline; filename="incident-{incident_id}.md"'},
    )


def _authorize(request: web.Request, token: SecretStr | None, setting: str) -> web.Response | None:
    if token is None or not token.get_secret_value():
        return json_error(request, 503, t("hook.closed", setting=setting))
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not same_secret(given.strip(), token.get_secret_value()):
        response = json_error(request, 401, t("hook.bad_token"))
        response.headers["WWW-Authenticate"] = 'Bearer realm="shipwatch"'
        return response
    return None


def json_error(request: web.Request, status: int, text: Text) -> web.Response:
    """``text`` as a JSON error in the caller's language (default ``SHIPWATCH_LOCALE``)."""
    app = request.app[APP_KEY]
    tr = app.translator(request_locale(request, app.settings.locale))
    return error_response(tr, status, text)
