"""The console's templates name only catalog keys both languages have, and an answer
shown once after a form can be neither planted nor read back by another session."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.i18n import catalog
from bot.web.console import flash
from bot.web.console.viewer import Viewer
from playbooks.people import Person
from tests.support import ROOT

TEMPLATES = ROOT / "bot" / "web" / "templates" / "console"
MINE = ("oncall.html", "reports.html", "report.html", "audit.html", "missing.html", "said.html")
KEY = re.compile(r"_\('([a-z0-9_.]+)'")
PREFIX = re.compile(r"_\('([a-z0-9_.]+\.)' ~")


def _keys(path: Path) -> tuple[set[str], set[str]]:
    text = path.read_text(encoding="utf-8")
    keys = {k for k in KEY.findall(text) if not k.endswith(".")}
    return keys, set(PREFIX.findall(text))


def test_every_key_in_the_pages_is_in_both_catalogs() -> None:
    for name in MINE:
        keys, prefixes = _keys(TEMPLATES / name)
        for locale in ("en", "zh"):
            words = catalog(locale)
            assert {k for k in keys if k not in words} == set(), (name, locale)
            assert {p for p in prefixes if not any(k.startswith(p) for k in words)} == set()


def _viewer(csrf: str) -> Viewer:
    return Viewer(Person("alice", "Alice"), "en", ZoneInfo("UTC"), csrf, "s1")


def _cookie_of(response: web.StreamResponse) -> str:
    return response.cookies[flash.COOKIE].value


def test_an_answer_is_read_back_by_its_session_only() -> None:
    response = web.Response()
    flash.remember(response, _viewer("token-a"), flash.Said("Acknowledged 页 #1", refused=False))
    value = _cookie_of(response)
    request = make_mocked_request(
        "GET", "/web/oncall", headers={"Cookie": f"{flash.COOKIE}={value}"}
    )
    assert flash.recall(request, _viewer("token-a")) == flash.Said("Acknowledged 页 #1", False)
    assert flash.recall(request, _viewer("token-b")) is None
    payload, _, signature = value.rpartition(".")
    forged = make_mocked_request(
        "GET", "/web/oncall", headers={"Cookie": f"{flash.COOKIE}=X{payload}.{signature}"}
    )
    assert flash.recall(forged, _viewer("token-a")) is None
    nothing = make_mocked_request("GET", "/web/oncall")
    assert flash.recall(nothing, _viewer("token-a")) is None
