"""The wheel an operator installs carries every file of the packages, data folders included."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

from tests.support import ROOT

PACKAGES = ("bot", "commands", "playbooks", "storage")
# Left where they are: the venv, git, earlier builds and caches, and local databases.
_ROOT_ONLY = {".git", ".venv", "build", "dist", "var"}
_ANYWHERE = ("__pycache__", "*.egg-info", ".*_cache", ".hypothesis", "*.db", "*.db-*")


def _not_source(folder: str, names: list[str]) -> Iterable[str]:
    ignored = set(shutil.ignore_patterns(*_ANYWHERE)(folder, names))
    if Path(folder) == ROOT:
        ignored |= _ROOT_ONLY & set(names)
    return ignored


def copy_checkout(to: Path) -> Path:
    """The checkout without build output: a ``build/`` left by an earlier build would put
    files into the wheel that the package-data patterns no longer name."""
    shutil.copytree(ROOT, to, ignore=_not_source)
    return to


def build_wheel(source: Path, out: Path) -> set[str]:
    """Build offline with this venv's setuptools; the names inside the wheel."""
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"),
            *("--no-index", "--quiet", "--wheel-dir", str(out), str(source)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = out.glob("shipwatch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def package_files(source: Path) -> set[str]:
    """Every file under the packages but bytecode, relative to ``source``."""
    return {
        path.relative_to(source).as_posix()
        for package in PACKAGES
        for path in (source / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_venv_can_build_the_wheel_offline() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in map(Requirement, pyproject["build-system"]["requires"]):
        installed = version(requirement.name)
        assert requirement.specifier.contains(installed), (
            f"this venv has {requirement.name} {installed} but building needs {requirement}; "
            "reinstall the dev dependencies (make .venv/.installed after touching pyproject.toml)"
        )


def test_the_wheel_carries_every_file_of_the_checkouts_packages(tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "source")
    expected = package_files(source)
    # The walk sees the data the code reads at run time (plans are one folder down).
    assert {
        "bot/config/defaults/plans/standard.yaml",
        "bot/i18n/en.yaml",
        "storage/migrations/script.py.mako",
        "storage/migrations/versions/0001_initial_schema.py",
    } <= expected
    missing = sorted(expected - build_wheel(source, tmp_path / "dist"))
    assert not missing, (
        f"the wheel leaves out {missing}: name their folder in "
        "[tool.setuptools.package-data] of pyproject.toml"
    )


def test_a_new_folder_under_defaults_ships_and_an_unlisted_data_folder_is_caught(
    tmp_path: Path,
) -> None:
    source = copy_checkout(tmp_path / "source")
    added = {
        "bot/config/defaults/runbooks/launch.yaml": "steps: []\n",
        "storage/migrations/versions/README": "one file per revision\n",
        "bot/templates/incident.html": "<p>{{ title }}</p>\n",
    }
    for name, text in added.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text, encoding="utf-8")
    missing = package_files(source) - build_wheel(source, tmp_path / "dist")
    # A folder nobody listed is what the check above reports; the listed ones need no edit.
    assert missing == {"bot/templates/incident.html"}
