"""A small Unleash on loopback: the Admin API's feature-strategy endpoints, and no more.

``GET``, ``PUT`` and ``PATCH /api/admin/projects/{project}/features/{feature}/environments/
{environment}/strategies/{strategyId}`` answer the way Unleash does: the same paths and JSON
shapes, the raw API token in ``Authorization`` (401 without a valid one), 415 for a body that
is not ``application/json``, 404 for an unknown project, feature, environment or strategy, and
400 when a strategy's parameters are not all strings (Unleash's ``parametersSchema``). Every
request is recorded; tests can make it answer the next N requests with a chosen status, or
hold every answer until an ``asyncio.Event`` is set.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import serve

STRATEGY_PATH = (
    "/api/admin/projects/{project}/features/{feature}/environments/{environment}"
    "/strategies/{strategy_id}"
)


def flexible_rollout(
    strategy_id: str,
    *,
    rollout: str = "10",
    stickiness: str = "default",
    group_id: str = "checkout",
    constraints: list[dict[str, Any]] | None = None,
    segments: list[int] | None = None,
) -> dict[str, Any]:
    """A strategy object as Unleash returns it."""
    return {
        "id": strategy_id,
        "name": "flexibleRollout",
        "title": None,
        "disabled": False,
        "parameters": {"rollout": rollout, "stickiness": stickiness, "groupId": group_id},
        "constraints": constraints or [],
        "segments": segments or [],
        "variants": [],
    }


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or None


@dataclass(frozen=True, slots=True)
class Scripted:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, name: str, message: str) -> web.Response:
    """Unleash's error shape."""
    payload = {"id": str(uuid.uuid4()), "name": name, "message": message}
    return web.json_response(payload, status=status)


class JsonPatchError(Exception):
    pass


def apply_patch(document: dict[str, Any], operations: Any) -> dict[str, Any]:
    """RFC 6902 add/replace/remove on object members: what a strategy patch needs."""
    result = copy.deepcopy(document)
    if not isinstance(operations, list):
        raise JsonPatchError("a JSON Patch is a list of operations")
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise JsonPatchError(f"not a patch operation: {operation!r}")
        op, path = operation.get("op"), operation["path"]
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        if not parts:
            raise JsonPatchError("cannot patch the whole document")
        parent: Any = result
        for part in parts[:-1]:
            if not isinstance(parent, dict) or part not in parent:
                raise JsonPatchError(f"path {path} does not exist")
            parent = parent[part]
        last = parts[-1]
        if not isinstance(parent, dict):
            raise JsonPatchError(f"path {path} does not exist")
        if op == "add":
            parent[last] = operation.get("value")
        elif op == "replace":
            if last not in parent:
                raise JsonPatchError(f"cannot replace {path}: it does not exist")
            parent[last] = operation.get("value")
        elif op == "remove":
            if last not in parent:
                raise JsonPatchError(f"cannot remove {path}: it does not exist")
            del parent[last]
        else:
            raise JsonPatchError(f"unsupported op {op!r}")
    return result


def _invalid_strategy(strategy: Any) -> str | None:
    if not isinstance(strategy, dict) or not isinstance(strategy.get("name"), str):
        return "a strategy needs a name"
    parameters = strategy.get("parameters", {})
    if not isinstance(parameters, dict):
        return "parameters must be an object"
    for key, value in parameters.items():
        if not isinstance(value, str):
            return f'"parameters.{key}" must be string'
    if not isinstance(strategy.get("constraints", []), list):
        return "constraints must be a list"
    return None


class FakeUnleash:
    def __init__(self, token: str) -> None:
        self.token = token
        self.url = ""
        self.requests: list[Request] = []
        # project -> feature -> environment -> strategy id -> strategy
        self.projects: dict[str, dict[str, dict[str, dict[str, dict[str, Any]]]]] = {}
        self.hold: asyncio.Event | None = None  # when set, every answer waits for this event
        self._script: list[Scripted] = []
        self._runner: web.AppRunner | None = None

    # --- what a test can set up and ask -----------------------------------------------------

    def add_strategy(
        self, project: str, feature: str, environment: str, strategy: dict[str, Any]
    ) -> None:
        features = self.projects.setdefault(project, {})
        environments = features.setdefault(feature, {})
        environments.setdefault(environment, {})[strategy["id"]] = copy.deepcopy(strategy)

    def strategy(
        self, project: str, feature: str, environment: str, strategy_id: str
    ) -> dict[str, Any]:
        return self.projects[project][feature][environment][strategy_id]

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method in ("PUT", "PATCH")]

    def fail_next(self, count: int, status: int, *, body: str = "", retry_after: str = "") -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        self._script.extend(Scripted(status, body, headers) for _ in range(count))

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("GET", STRATEGY_PATH, self._handle)
        app.router.add_route("PUT", STRATEGY_PATH, self._handle)
        app.router.add_route("PATCH", STRATEGY_PATH, self._handle)
        self._runner, self.url = await serve(app)
        return self.url

    async def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- the API ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body: Any = None
        parse_error = False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                parse_error = True
        self.requests.append(Request(request.method, request.path, dict(request.headers), body))
        if self.hold is not None:
            await self.hold.wait()

        if self._script:
            scripted = self._script.pop(0)
            return web.Response(
                status=scripted.status, text=scripted.body, headers=scripted.headers
            )
        if request.headers.get("Authorization") != self.token:
            return _error(
                401,
                "AuthenticationRequired",
                "You must log in to use Unleash. Your request had no authorization header, "
                "or the API token is not valid.",
            )
        if raw and request.content_type != "application/json":
            return _error(415, "ContentTypeError", "We do not accept that content-type")
        if parse_error:
            return _error(400, "BadDataError", "Request body is not valid JSON")

        found = self._find(request.match_info)
        if isinstance(found, web.Response):
            return found
        environment, strategy_id = found
        current = environment[strategy_id]

        if request.method == "GET":
            return web.json_response(current)
        if request.method == "PATCH":
            try:
                updated = apply_patch(current, body)
            except JsonPatchError as error:
                return _error(400, "BadDataError", str(error))
        else:  # PUT: the given configuration replaces the stored one, id and all else kept
            if not isinstance(body, dict):
                return _error(400, "ValidationError", "the request body must be a strategy")
            updated = {**current, **body, "id": strategy_id}
        problem = _invalid_strategy(updated)
        if problem is not None:
            return _error(400, "ValidationError", problem)
        environment[strategy_id] = updated
        return web.json_response(updated)

    def _find(self, match: Any) -> tuple[dict[str, dict[str, Any]], str] | web.Response:
        project, feature = match["project"], match["feature"]
        environment, strategy_id = match["environment"], match["strategy_id"]
        if project not in self.projects:
            return _error(404, "NotFoundError", f"Could not find project with id {project}")
        features = self.projects[project]
        if feature not in features:
            return _error(404, "NotFoundError", f"Could not find feature {feature}")
        if environment not in features[feature]:
            return _error(
                404,
                "NotFoundError",
                f"Feature {feature} does not have environment {environment}",
            )
        strategies = features[feature][environment]
        if strategy_id not in strategies:
            return _error(404, "NotFoundError", f"Could not find strategy with id {strategy_id}")
        return strategies, strategy_id
