"""Traffic moved by an Unleash feature flag: the rollout percent of one gradual-rollout strategy.

Each service names one strategy — ``project``, ``feature``, ``environment`` and ``strategy_id``
in its traffic settings — of type ``flexibleRollout`` ("Gradual rollout" in the Unleash UI).
Shipwatch changes only that strategy's ``rollout`` parameter; stickiness, group id,
constraints, segments, variants and the strategy's title are never touched. The token is an
Unleash admin (or project) API token, sent as Unleash expects it: the raw ``Authorization``
header, without ``Bearer``.

Requests (Unleash Admin API)
============================

``GET {url}/api/admin/projects/{project}/features/{feature}``
``    /environments/{environment}/strategies/{strategy_id}`` (one path, wrapped here)
    reads the strategy (``getFeatureStrategy``); ``get_state`` is that read alone.
``PATCH`` the same path with a JSON Patch (RFC 6902) body
    ``[{"op": "replace", "path": "/parameters/rollout", "value": "30"}]``
    (``patchFeatureStrategy``, "Change specific properties of a strategy").

Why PATCH rather than PUT: both are documented operations of the Admin API, but PUT
(``updateFeatureStrategy``) *replaces* the strategy configuration with the request body, so a
read-modify-write would send back every field as it was at our GET. Anything a person changed
in the UI between our GET and our PUT (a constraint added during an incident, say) would be
silently reverted, and fields the body leaves out are reset by some server versions. PATCH
makes Unleash apply the one change to the strategy as it is stored at that moment; it is the
form Unleash's own end-to-end tests use to change a rollout. The GET before it is still needed
to refuse a strategy that is not ``flexibleRollout``, or is disabled, and to skip the write
(and the event in Unleash's audit log) when the rollout already has the wanted value. Values
are strings, as Unleash stores strategy parameters: ``"30"``, not ``30``. Each request gets
the full configured timeout.

Percents
========

Unleash's rollout is a whole number from 0 to 100. A plan's percent is rounded half up
(2.5% → 3%), except that rounding never switches a stage off or fully on: any percent above
0 and below 1 becomes 1 (a 0.5% canary must not become 0%, which is off), and any percent
above 99 and below 100 becomes 99. A disabled strategy serves nobody, so ``get_state``
reports 0% for it and ``set_percent`` above 0% is refused until someone enables it.

Idempotency
===========

Unleash takes no idempotency key, but setting a rollout is idempotent by nature: the same key
delivered twice sets the same value twice, and the second time Shipwatch sees the value is
already there and writes nothing. Hence ``idempotent=True``; and ``reads_state=True``, since
``get_state`` asks Unleash.

Errors follow the webhook backend's contract (``bot.traffic.webhook``): 429/503 honour
``Retry-After``, 5xx, timeouts and connection failures are retried, and other 4xx are
permanent, with a sentence saying what to check (401: the token; 403: the token's permissions
and change requests; 404: project, feature, environment and strategy id).
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from bot.traffic.base import TrafficCapabilities, TrafficState
from bot.traffic.http import (
    SessionProvider,
    check_percent,
    client_timeout,
    display_url,
    failure,
    read_error_body,
    redact,
    status_failure,
    transport_failure,
)

FLEXIBLE_ROLLOUT = "flexibleRollout"


def rollout_for(percent: float) -> int:
    """Unleash's whole-number rollout for ``percent`` (see "Percents" above)."""
    if percent <= 0:
        return 0
    if percent >= 100:
        return 100
    whole = int(Decimal(repr(percent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(max(whole, 1), 99)


class UnleashTraffic:
    """Moves one ``flexibleRollout`` strategy's rollout; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        project: str,
        feature: str,
        environment: str,
        strategy_id: str,
        timeout: timedelta,
        session: SessionProvider,
    ) -> None:
        if not token:
            raise ValueError("the unleash backend needs a non-empty API token")
        path = "/".join(
            quote(part, safe="")
            for part in (
                "api",
                "admin",
                "projects",
                project,
                "features",
                feature,
                "environments",
                environment,
                "strategies",
                strategy_id,
            )
        )
        self._url = URL(f"{base_url.rstrip('/')}/{path}", encoded=True)
        self._token = token
        self._project = project
        self._feature = feature
        self._environment = environment
        self._strategy_id = strategy_id
        self._timeout = timeout
        self._session = session
        self._what = f"Unleash {redact(display_url(base_url), token)}"

    def capabilities(self) -> TrafficCapabilities:
        return TrafficCapabilities(idempotent=True, reads_state=True)

    async def set_percent(
        self,
        target: str,
        percent: float,
        *,
        expected_version: str,
        idempotency_key: str,
        stage: str,
    ) -> None:
        check_percent(percent)
        await self._set_rollout(rollout_for(percent))

    async def get_state(self, target: str) -> TrafficState:
        strategy = await self._read()
        if strategy.get("disabled") is True:
            return TrafficState(0.0)
        return TrafficState(self._rollout_of(strategy))

    async def rollback(self, target: str, *, reason: str, idempotency_key: str) -> None:
        await self._set_rollout(0)

    # --- internals --------------------------------------------------------------------------

    async def _set_rollout(self, rollout: int) -> None:
        strategy = await self._read()
        if rollout > 0 and strategy.get("disabled") is True:
            raise failure(
                f"{self._where()} is disabled, so a rollout would reach nobody; "
                "enable the strategy in Unleash first",
                permanent=True,
            )
        parameters = strategy["parameters"]
        if str(parameters.get("rollout")) == str(rollout):
            return  # already there: no write, no event in Unleash's audit log
        op = "replace" if "rollout" in parameters else "add"
        patch = [{"op": op, "path": "/parameters/rollout", "value": str(rollout)}]
        updated = await self._request("PATCH", patch)
        if isinstance(updated, dict) and isinstance(updated.get("parameters"), dict):
            stored = updated["parameters"].get("rollout")
            if stored is not None and str(stored) != str(rollout):
                raise failure(
                    f"{self._what} accepted the change but the strategy's rollout is "
                    f"{stored!r}, not {str(rollout)!r}"
                )

    async def _read(self) -> dict[str, Any]:
        strategy = await self._request("GET")
        if not isinstance(strategy, dict) or not isinstance(strategy.get("parameters"), dict):
            raise failure(
                f"{self._what} answered something that is not a strategy; "
                "check that url is the Unleash server's base URL",
                permanent=True,
            )
        name = strategy.get("name")
        if name != FLEXIBLE_ROLLOUT:
            raise failure(
                f"{self._where()} is a {name!r} strategy; Shipwatch only moves the rollout of "
                f"a {FLEXIBLE_ROLLOUT!r} (gradual rollout) strategy",
                permanent=True,
            )
        return strategy

    def _rollout_of(self, strategy: dict[str, Any]) -> float:
        value = strategy["parameters"].get("rollout")
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and 0 <= number <= 100):
            raise failure(
                f"{self._where()} has rollout {value!r}, which is not a percent from 0 to 100",
                permanent=True,
            )
        return number

    def _where(self) -> str:
        return (
            f"strategy {self._strategy_id!r} of feature {self._feature!r} "
            f"(project {self._project!r}, environment {self._environment!r})"
        )

    def _advice(self, status: int) -> str | None:
        if status == 401:
            return (
                "Unleash did not accept the token: check that token_env holds a valid admin or "
                "project API token for this server (sent as-is, without 'Bearer')"
            )
        if status == 403:
            return (
                "the token may not change this strategy: check its permissions in project "
                f"{self._project!r}, and whether change requests are required in environment "
                f"{self._environment!r}"
            )
        if status == 404:
            return (
                f"no {self._where()}: check project, feature, environment and strategy_id, "
                "and that url is the Unleash server's base URL"
            )
        return None

    async def _request(self, method: str, body: Any = None) -> Any:
        headers = {"Authorization": self._token, "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        session = await self._session()
        try:
            async with session.request(
                method,
                self._url,
                data=data,
                headers=headers,
                timeout=client_timeout(self._timeout),
                allow_redirects=False,
            ) as response:
                if not 200 <= response.status < 300:
                    answer = await read_error_body(response)
                    raise status_failure(
                        self._what,
                        response.status,
                        response.headers,
                        answer,
                        secrets=(self._token,),
                        advice=self._advice(response.status),
                    )
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise transport_failure(
                self._what, error, self._timeout, secrets=(self._token,)
            ) from error
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise failure(
                f"{self._what} answered {method} with something that is not JSON; "
                "check that url is the Unleash server's base URL",
                permanent=True,
            ) from None
