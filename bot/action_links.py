"""One-time action links: where a platform's buttons can only open a link (DingTalk,
Feishu), each button is a link to ``/act/<link>`` signed for the person it is issued to
(the page that runs it is ``bot/action_pages.py``)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from pydantic import SecretStr

_CONTEXT = b"shipwatch action link\x00"
_SEP = "\x1f"


def event_id(token: str) -> str:
    """The ledger entry that marks a link used: one run per button token."""
    return f"act:{token}"


class LinkSigner:
    """Issues and reads links; a link names its token and recipient, and a forged or
    altered one fails its HMAC."""

    def __init__(self, secret: str, *, public_url: str) -> None:
        self._key = secret.encode()
        self._base = public_url.rstrip("/")

    def link(self, token: str, *, platform: str, user_id: str) -> str:
        payload = _b64(_SEP.join((platform, user_id, token)).encode())
        return f"{self._base}/act/{payload}.{self._sign(payload)}"

    def read(self, link: str) -> tuple[str, str, str] | None:
        """(platform, user id, token) of a genuine link, else None."""
        payload, _, signature = link.partition(".")
        # Bytes, never str: compare_digest refuses a str with anything but ASCII in it.
        given = signature.encode("utf-8", "surrogateescape")
        if not payload or not hmac.compare_digest(given, self._sign(payload).encode()):
            return None
        try:
            platform, user_id, token = _unb64(payload).decode().split(_SEP)
        except (ValueError, UnicodeDecodeError):
            return None
        return platform, user_id, token

    def _sign(self, payload: str) -> str:
        signed = _CONTEXT + payload.encode("utf-8", "surrogateescape")
        digest = hmac.new(self._key, signed, hashlib.sha256).digest()
        return _b64(digest[:20])


def signer_from(secret: SecretStr | None, *, public_url: str) -> LinkSigner | None:
    if secret is None or not secret.get_secret_value():
        return None
    return LinkSigner(secret.get_secret_value(), public_url=public_url)


def b64(data: bytes) -> str:
    """URL-safe base64 without padding: how a link's payload and signature are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_b64, _unb64 = b64, unb64
