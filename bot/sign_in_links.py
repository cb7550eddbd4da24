"""The web console's one-time sign-in links: ``{public_url}/web/signin/<payload>.<mac>``,
the payload naming the person, a random token and the link's end. Built like the action
links (``bot.action_links``: the same HMAC-SHA256 over the payload, the same encoding)
under a context of their own, so neither kind of link can be passed off as the other.

Nothing is stored when a link is issued: the signature vouches for the person and the
end, and the link's one use is spent in the idempotency ledger as the session is made."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from bot.action_links import b64 as _b64
from bot.action_links import unb64 as _unb64

_CONTEXT = b"shipwatch web sign-in\x00"
_SEP = "\x1f"
PATH = "/web/signin/"


@dataclass(frozen=True, slots=True)
class Grant:
    """What a genuine link says: who it signs in, its one-use token, and until when."""

    handle: str
    token: str
    expires_at: datetime

    @property
    def event_id(self) -> str:
        """The ledger entry that marks the link used."""
        return f"signin:{self.token}"


class SignInLinkSigner:
    def __init__(self, secret: str, *, public_url: str, minutes: int) -> None:
        self._key = secret.encode()
        self._base = public_url.rstrip("/")
        self._minutes = minutes

    @property
    def minutes(self) -> int:
        return self._minutes

    def link(self, handle: str, now: datetime) -> str:
        expires = int((now + timedelta(minutes=self._minutes)).timestamp())
        token = secrets.token_urlsafe(16)
        payload = _b64(_SEP.join((handle, token, str(expires))).encode())
        return f"{self._base}{PATH}{payload}.{self._sign(payload)}"

    def read(self, link: str) -> Grant | None:
        """The grant of a genuine link (the last part of its path), else None."""
        payload, _, signature = link.partition(".")
        given = signature.encode("utf-8", "surrogateescape")
        if not payload or not hmac.compare_digest(given, self._sign(payload).encode()):
            return None
        try:
            handle, token, expires = _unb64(payload).decode().split(_SEP)
            expires_at = datetime.fromtimestamp(int(expires), UTC)
        except (ValueError, UnicodeDecodeError, OverflowError):
            return None
        return Grant(handle=handle, token=token, expires_at=expires_at)

    def _sign(self, payload: str) -> str:
        signed = _CONTEXT + payload.encode("utf-8", "surrogateescape")
        return _b64(hmac.new(self._key, signed, hashlib.sha256).digest()[:20])


def sign_in_links(
    secret: SecretStr | None, *, public_url: str, minutes: int
) -> SignInLinkSigner | None:
    """The signer, or None while no action-link secret is set (then /web says so)."""
    if secret is None or not secret.get_secret_value():
        return None
    return SignInLinkSigner(secret.get_secret_value(), public_url=public_url, minutes=minutes)


def session_hash(session_id: str) -> str:
    """What the database keeps of a session id."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogateescape")).hexdigest()
