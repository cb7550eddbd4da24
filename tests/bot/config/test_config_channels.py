"""channels.yaml: names inside, platform ids at the edge, and its mistakes by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config.channels import ChannelNames
from bot.config.directory import ConfigError, load


def test_names_and_ids_both_ways_and_unlisted_ones_pass_through() -> None:
    names = ChannelNames({"telegram": {"#releases": "-1001"}, "slack": {"#releases": "C0REL"}})
    assert names.to_id("telegram", "#releases") == "-1001"
    assert names.to_id("slack", "#releases") == "C0REL"
    assert names.to_id("console", "#releases") == "#releases"
    assert names.to_name("telegram", "-1001") == "#releases"
    assert names.to_name("telegram", "-2002") == "-2002"


def test_a_file_in_the_config_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "channels.yaml").write_text('telegram:\n  "#releases": "-1001"\n')
    assert load(tmp_path).channels.to_id("telegram", "#releases") == "-1001"
    assert load(None).channels.to_id("telegram", "#releases") == "#releases"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('telegram:\n  releases: "-1001"\n', "is not a channel name"),
        ('telegram:\n  "#releases": "#other"\n', "channels.yaml:2"),
    ],
)
def test_mistakes_are_named_with_file_and_line(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "channels.yaml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        load(tmp_path)
    assert fragment in str(raised.value)


@pytest.mark.parametrize("platform", ["dingtalk", "feishu"])
def test_robot_platforms_are_sent_to_robots_yaml(tmp_path: Path, platform: str) -> None:
    text = f'telegram:\n  "#ops": "-1002"\n{platform}:\n  "#releases": "chat-1"\n'
    (tmp_path / "channels.yaml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        load(tmp_path)
    said = str(raised.value)
    assert f"channels.yaml:4: {platform}:" in said
    assert "robots.yaml a conversation:" in said
