"""DingTalk's enterprise app robot: one-to-one messages (pages) to anyone of the
organisation through ``/v1.0/robot/oToMessages/batchSend``, with the app's access token."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.adapters.app_tokens import AppToken
from bot.adapters.robots import post_json, retry_after
from bot.clock import Clock
from bot.http_client import HttpClient
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import t

log = logging.getLogger("shipwatch.adapters.dingtalk")
MAX_BUTTONS = 5  # sampleActionCard2 … sampleActionCard5: that many buttons, one above another
THROTTLED_WAIT = 1.0
FLOW_CONTROLLED_WAIT = 60.0  # DingTalk holds one person's messages back for a while


class DingTalkApp:
    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        robot_code: str,
        api_url: str,
        http: HttpClient,
        clock: Clock,
    ) -> None:
        self._app_key = app_key
        self._app_secret = app_secret
        self._robot_code = robot_code
        self._api_url = api_url.rstrip("/")
        self._http = http
        self.token = AppToken(self._fetch_token, clock=clock)

    async def send(self, user_id: str, body: dict[str, Any]) -> None:
        """Send a robot webhook body (markdown or actionCard) to one person."""
        msg_key, param = template(body)
        request = {
            "robotCode": self._robot_code,
            "userIds": [user_id],
            "msgKey": msg_key,
            "msgParam": json.dumps(param, ensure_ascii=False),
        }
        url = f"{self._api_url}/v1.0/robot/oToMessages/batchSend"
        for first_try in (True, False):
            token = await self.token.get()
            headers = {"x-acs-dingtalk-access-token": token}
            status, answer, after = await post_json(
                self._http, url, request, headers=headers, what="DingTalk"
            )
            if first_try and _code(answer) == "InvalidAuthentication":
                self.token.forget(token)  # expired or revoked early: one new token, one retry
                continue
            _check_sent(status, answer, after, user_id=user_id)
            return

    async def _fetch_token(self) -> tuple[str, float]:
        url = f"{self._api_url}/v1.0/oauth2/accessToken"
        body = {"appKey": self._app_key, "appSecret": self._app_secret}
        status, answer, after = await post_json(self._http, url, body, what="DingTalk")
        token = answer.get("accessToken") if isinstance(answer, dict) else None
        if status == 200 and isinstance(token, str) and token:
            lifetime = answer.get("expireIn")
            return token, float(lifetime) if isinstance(lifetime, int | float) else 7200.0
        code, message = _code(answer), _message(answer)
        if status == 429 or _throttled(code):
            reason = f"DingTalk holds back the app's token requests ({code or status})"
            raise Throttled(
                t("delivery.failed", reason=reason), retry_after=retry_after(after, THROTTLED_WAIT)
            )
        if 400 <= status < 500:
            reason = (
                f"DingTalk refused the app's key and secret ({code or status}: {message}); "
                "check SHIPWATCH_DINGTALK_APP_KEY and SHIPWATCH_DINGTALK_APP_SECRET"
            )
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
        raise AdapterError(t("delivery.failed", reason=f"DingTalk answered {status}"))


def template(body: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A custom robot's markdown or actionCard as the app robot's msgKey and msgParam."""
    if body["msgtype"] == "markdown":
        markdown = body["markdown"]
        return "sampleMarkdown", {"title": markdown["title"], "text": markdown["text"]}
    card = body["actionCard"]
    buttons = card["btns"]
    text = card["text"]
    if len(buttons) == 1:
        only = buttons[0]
        param = {"title": card["title"], "text": text}
        return "sampleActionCard", param | {
            "singleTitle": only["title"],
            "singleURL": only["actionURL"],
        }
    shown, rest = buttons[:MAX_BUTTONS], buttons[MAX_BUTTONS:]
    if rest:  # more buttons than a template holds: the others as links in the text
        text += "\n\n" + "  \n".join(f"[{b['title']}]({b['actionURL']})" for b in rest)
    param = {"title": card["title"], "text": text}
    for n, button in enumerate(shown, start=1):
        param[f"actionTitle{n}"] = button["title"]
        param[f"actionURL{n}"] = button["actionURL"]
    return f"sampleActionCard{len(shown)}", param


def _check_sent(status: int, answer: Any, after: str, *, user_id: str) -> None:
    code, message = _code(answer), _message(answer)
    if status == 200 and isinstance(answer, dict):
        if user_id in (answer.get("invalidStaffIdList") or []):
            reason = (
                f"DingTalk knows no user {user_id} in this organisation, or the app may not "
                "reach them; check their dingtalk identity in people.yaml and the app's "
                "visible range"
            )
            raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
        if user_id in (answer.get("flowControlledStaffIdList") or []):
            reason = f"DingTalk holds back messages to {user_id} for now"
            wait = FLOW_CONTROLLED_WAIT
            raise Throttled(t("delivery.failed", reason=reason), retry_after=wait)
        if answer.get("processQueryKey"):
            return
    if status == 429 or _throttled(code):
        reason = f"DingTalk holds back the app's messages ({code or status}: {message})"
        raise Throttled(
            t("delivery.failed", reason=reason), retry_after=retry_after(after, THROTTLED_WAIT)
        )
    if status >= 500 or status == 200 or code == "InvalidAuthentication":
        raise AdapterError(t("delivery.failed", reason=f"DingTalk answered {status} {code}"))
    hint = ""
    if "PermissionDenied" in code:
        hint = "; grant the app the permission to send robot messages (qyapi_robot_sendmsg)"
    reason = f"DingTalk refused the message to {user_id} ({code or status}: {message}){hint}"
    raise AdapterError(t("delivery.failed", reason=reason), permanent=400 <= status < 500)


def _code(answer: Any) -> str:
    return str(answer.get("code") or "") if isinstance(answer, dict) else ""


def _message(answer: Any) -> str:
    return str(answer.get("message") or "")[:200] if isinstance(answer, dict) else ""


def _throttled(code: str) -> bool:
    return "QpsLimit" in code or code.startswith("Throttling")
