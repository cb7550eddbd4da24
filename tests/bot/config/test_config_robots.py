"""robots.yaml: DingTalk and Feishu robots per channel, secrets named by environment
variable, problems named by file and line; the adapters built from them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot import adapters
from bot.adapters.base import DirectReach
from bot.app import StartupError
from bot.cli import main
from bot.config.directory import ConfigError, load
from bot.settings import Settings

GOOD = """
    dingtalk:
      "#releases":
        webhook: 0123456789abcdef0123
        secret_env: SHIPWATCH_DINGTALK_RELEASES_SECRET
        conversation: cid6KeBBLoveMJOGXoYKF5x7EeiodoA==
      "#ops": {webhook: "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789"}
    feishu:
      "#releases": {webhook: 2f1c5e8a-1b2c-4d5e-8f90-123456789abc, secret_env: FEISHU_SECRET}
"""


def write(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "robots.yaml").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


def test_no_robots_file_means_no_robots() -> None:
    config = load(None)
    assert config.robots.dingtalk == {}
    assert config.robots.feishu == {}


def test_robots_are_read_per_platform_and_channel(tmp_path: Path) -> None:
    config = load(write(tmp_path, GOOD))
    releases = config.robots.dingtalk["#releases"]
    assert releases.secret_env == "SHIPWATCH_DINGTALK_RELEASES_SECRET"
    assert releases.conversation == "cid6KeBBLoveMJOGXoYKF5x7EeiodoA=="
    assert config.robots.dingtalk["#ops"].secret_env is None
    assert list(config.robots.feishu) == ["#releases"]


def test_problems_name_file_line_and_field(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        """
        dingtalk:
          "#releases":
            webhook: 0123456789abcdef0123
            secret: SECthe-secret-itself
          releases: {webhook: 0123456789abcdef0123}
        feishu:
          "#ops": {webhook: "not a hook", secret_env: lowercase}
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load(folder)
    found = sorted(str(p).removeprefix(f"{folder}/") for p in caught.value.problems)
    assert found == [
        "robots.yaml:4: dingtalk.#releases.secret: secret is not a setting here; "
        "check its spelling and indentation",
        "robots.yaml:5: dingtalk.releases: 'releases' is not a channel; name it like "
        '"#releases" (quoted in YAML), or "@USER_ID" for a person\'s own robot',
        "robots.yaml:7: feishu.#ops.secret_env: 'lowercase' is not an environment variable "
        "name; use capitals, digits and '_' (like SHIPWATCH_API_TRAFFIC_SECRET); the secret "
        "itself belongs in the environment",
        "robots.yaml:7: feishu.#ops.webhook: 'not a hook' is neither a webhook URL nor a robot "
        "token; paste the robot's webhook address, or the access_token / hook id at its end",
    ]


def test_shipwatch_check_reports_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write(tmp_path, 'feishu:\n  "#ops": {webhook: "x"}\n')
    assert main(["check", str(folder)]) == 2
    assert f"{folder}/robots.yaml:2: feishu.#ops.webhook:" in capsys.readouterr().err


def test_a_platform_is_built_when_it_has_robots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPWATCH_DINGTALK_RELEASES_SECRET", "SECa")
    monkeypatch.setenv("FEISHU_SECRET", "b")
    built = adapters.build(Settings(), load(write(tmp_path, GOOD)))
    assert list(built) == ["dingtalk", "feishu"]
    assert all(not a.capabilities.callback_buttons for a in built.values())
    assert [r.path for a in built.values() for r in a.routes()] == [
        "/dingtalk/callback",
        "/feishu/events",
    ]


def test_dingtalk_alone_from_its_app_secret_and_nothing_without_settings() -> None:
    assert adapters.build(Settings(), load(None)) == {}
    built = adapters.build(Settings(dingtalk_app_secret="s3cret"), load(None))  # type: ignore[arg-type]
    assert list(built) == ["dingtalk"]


def test_the_apps_alone_run_their_platforms_and_reach_anyone_directly() -> None:
    settings = Settings(
        dingtalk_app_key="dingkey",
        dingtalk_app_secret="s3cret",  # type: ignore[arg-type]
        feishu_app_id="cli_a1",
        feishu_app_secret="s3cret",  # type: ignore[arg-type]
    )
    built = adapters.build(settings, load(None))
    assert list(built) == ["dingtalk", "feishu"]
    assert all(isinstance(a, DirectReach) and a.reaches("anyone") for a in built.values())
    without_app = adapters.build(Settings(dingtalk_app_secret="s3cret"), load(None))  # type: ignore[arg-type]
    assert isinstance(without_app["dingtalk"], DirectReach)
    assert not without_app["dingtalk"].reaches("anyone")


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        ({"dingtalk_app_key": "dingkey"}, "SHIPWATCH_DINGTALK_APP_SECRET"),
        ({"feishu_app_id": "cli_a1"}, "SHIPWATCH_FEISHU_APP_SECRET"),
        ({"feishu_app_secret": "s3cret"}, "SHIPWATCH_FEISHU_APP_ID"),
    ],
)
def test_half_an_app_stops_the_start_naming_the_missing_setting(
    settings: dict[str, str], missing: str
) -> None:
    with pytest.raises(StartupError, match=f"{missing} is not"):
        adapters.build(Settings(**settings), load(None))  # type: ignore[arg-type]


def test_a_robot_secret_missing_from_the_environment_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="SHIPWATCH_DINGTALK_RELEASES_SECRET, which is not set"):
        adapters.build(Settings(), load(write(tmp_path, GOOD)))
