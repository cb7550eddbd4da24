"""A config directory whose people are reachable on the chat platforms, for adapter tests."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from bot.config.directory import DEFAULTS

# Slack user ids, Telegram numeric ids, DingTalk staff ids and Feishu open ids of the
# shipped example people; each is reached first on the platform named first.
PEOPLE = {
    "alice": {"slack": "U0ALICE", "telegram": "1001", "dingtalk": "ding-alice", "feishu": "ou_a"},
    "bob": {"slack": "U0BOB", "telegram": "1002", "dingtalk": "ding-bob", "feishu": "ou_b"},
    "carol": {"slack": "U0CAROL", "telegram": "1003", "dingtalk": "ding-carol", "feishu": "ou_c"},
    "dave": {"slack": "U0DAVE", "telegram": "1004", "dingtalk": "ding-dave", "feishu": "ou_d"},
    "mallory": {"slack": "U0MAL", "telegram": "1005", "dingtalk": "ding-mal", "feishu": "ou_m"},
}


def chat_config(
    folder: Path, *, first: str, also: Mapping[str, Mapping[str, str]] | None = None
) -> Path:
    """people.yaml with ``first`` as everyone's preferred platform, and the shipped teams
    (which name the shipped people) beside it. ``also``: more identities by handle (a
    platform whose tests alone need it)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["people:"]
    for handle, known in PEOPLE.items():
        ids = {**known, **(also or {}).get(handle, {})}
        lines += [f"  - handle: {handle}", f"    name: {handle.title()}", "    identities:"]
        order = [first, *(p for p in ids if p != first)]
        lines += [f'      {platform}: "{ids[platform]}"' for platform in order]
        lines.append(f"      console: {handle}")
    (folder / "people.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(DEFAULTS / "teams.yaml", folder / "teams.yaml")
    return folder
