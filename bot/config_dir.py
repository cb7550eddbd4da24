"""The config directory: YAML files validated with the file, line and field of every error.

The package ships defaults for every file; a file of the same name in
``SHIPWATCH_CONFIG_DIR`` replaces the shipped one whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from bot.config_alerts import AlertsFile
from bot.config_channels import ChannelName, ChannelNames, ChannelsFile
from bot.config_incidents import SeverityFile
from bot.config_procedures import PlaybooksFile
from bot.config_releases import (
    PlanFile,
    ReleaseConfig,
    ServiceSettings,
    ServicesFile,
    backend_problems,
    check_plan,
    plan_files,
)
from bot.config_robots import RobotsFile
from bot.config_summaries import SummariesFile
from bot.config_teams import TeamsFile, people_named
from playbooks.incident_policy import IncidentSettings, default_settings
from playbooks.paging import StepWhen
from playbooks.people import Directory, Person, Role
from playbooks.procedures import Procedure, procedure_problems
from playbooks.release_plan import ReleaseCatalog, Service
from playbooks.summary_metrics import SummarySettings
from playbooks.teams import Team

DEFAULTS = Path(__file__).with_name("defaults")
FILES = (
    "people.yaml",
    "roles.yaml",
    "services.yaml",
    "severity.yaml",
    "alerts.yaml",
    "teams.yaml",
    "summaries.yaml",
    "playbooks.yaml",
)
HANDLE = r"^[a-z0-9][a-z0-9._-]{0,63}$"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int | None
    field: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"
        )


class ConfigError(Exception):
    """The config directory has problems; each names file, line and field."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonEntry(_Strict):
    handle: str
    name: str = Field(min_length=1, max_length=200)
    identities: dict[str, str] = Field(default_factory=dict)
    locale: str | None = None
    # The channels this person is in, for platforms that cannot say (the console, robots):
    # news posted there is not sent to them again directly.
    channels: list[ChannelName] = Field(default_factory=list)

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        if not re.fullmatch(HANDLE, value):
            raise ValueError(
                f"{value!r} is not a handle; use lowercase letters, digits, '.', '_' or '-' "
                "(like alice or wang.wei)"
            )
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        if value is not None and value not in ("en", "zh"):
            raise ValueError(f"{value!r} is not a language Shipwatch speaks; use en or zh")
        return value


class PeopleFile(_Strict):
    people: list[PersonEntry]


DUTY = r"^[a-z][a-z0-9-]{0,30}$"


class RolesFile(_Strict):
    roles: dict[Role, list[str]]
    # Named duties of the plans (seed 001: DevOps, DBA, QA, PM): who owns a step.
    duties: dict[Annotated[str, StringConstraints(pattern=DUTY)], list[str]] = Field(
        default_factory=dict
    )


@dataclass(frozen=True, slots=True)
class Config:
    directory: Directory
    sources: Mapping[str, Path]
    releases: ReleaseConfig = field(default_factory=lambda: ReleaseConfig(ReleaseCatalog(), {}))
    incidents: IncidentSettings = field(default_factory=default_settings)
    teams: Mapping[str, Team] = field(default_factory=dict)
    robots: RobotsFile = field(default_factory=RobotsFile)
    channels: ChannelNames = field(default_factory=lambda: ChannelNames({}))
    summaries: SummarySettings = field(default_factory=SummarySettings)


def load(config_dir: Path | None) -> Config:
    """Read and validate every file, raising one ``ConfigError`` that lists all problems."""
    problems: list[ConfigProblem] = []
    if config_dir is not None and not config_dir.is_dir():
        raise ConfigError([ConfigProblem(str(config_dir), None, "", "is not a directory")])
    sources = {name: _source(config_dir, name) for name in FILES}
    people = _parse(sources["people.yaml"], PeopleFile, problems)
    roles = _parse(sources["roles.yaml"], RolesFile, problems)
    directory = None
    if people is not None and roles is not None:
        directory = _directory(people, roles, sources, problems)
    releases = _releases(config_dir, sources["services.yaml"], problems)
    playbooks = _playbooks(sources["playbooks.yaml"], problems)
    if releases is not None and playbooks is not None:
        catalog = replace(releases.catalog, playbooks=playbooks)
        releases = replace(releases, catalog=catalog)
    severity = _parse(sources["severity.yaml"], SeverityFile, problems)
    alerts = _parse(sources["alerts.yaml"], AlertsFile, problems)
    teams = _parse(sources["teams.yaml"], TeamsFile, problems)
    robots = _optional(config_dir, "robots.yaml", RobotsFile, problems)
    channels = _optional(config_dir, "channels.yaml", ChannelsFile, problems)
    summaries = _parse(sources["summaries.yaml"], SummariesFile, problems)
    if teams is not None and _example_teams_for_other_people(sources):
        teams = TeamsFile()  # the shipped example team names the shipped example people
    if directory is not None and teams is not None:
        _check_team_people(teams, directory, sources["teams.yaml"], problems)
    if teams is not None:
        _check_team_steps(teams, sources["teams.yaml"], problems)
    if releases is not None and summaries is not None:
        _check_tiers(releases, summaries, sources["services.yaml"], problems)
    if severity is not None and _shipped_severity_for_other_people(sources):
        # the shipped audiences name the shipped example people; channels still apply
        severity = severity.model_copy(update={"audiences": severity.audiences.without_people()})
    if directory is not None and severity is not None:
        _check_audiences(severity, directory, sources["severity.yaml"], problems)
    if (
        problems
        or directory is None
        or releases is None
        or severity is None
        or alerts is None
        or teams is None
        or robots is None
        or channels is None
        or summaries is None
    ):
        raise ConfigError(problems)
    return Config(
        directory=directory,
        sources=sources,
        releases=releases,
        incidents=replace(severity.to_settings(), alerts=alerts.to_settings()),
        teams={name: entry.to_team(name) for name, entry in teams.teams.items()},
        robots=robots,
        channels=ChannelNames(channels.root),
        summaries=summaries.to_settings(),
    )


def _optional(
    config_dir: Path | None, name: str, model: type[M], problems: list[ConfigProblem]
) -> M | None:
    """A file with no shipped default (robots.yaml): absent means empty."""
    if config_dir is None or not (config_dir / name).is_file():
        return model()
    return _parse(config_dir / name, model, problems)


def _example_teams_for_other_people(sources: Mapping[str, Path]) -> bool:
    return sources["teams.yaml"].parent == DEFAULTS and sources["people.yaml"].parent != DEFAULTS


def _check_team_steps(teams: TeamsFile, path: Path, problems: list[ConfigProblem]) -> None:
    """A step that can never reach anyone is a typo, not a policy."""
    lines = _line_map(path.read_text("utf-8"))
    for name, entry in teams.teams.items():
        if all(step.when is StepWhen.WORKING_HOURS for step in entry.escalation.steps):
            where = ("teams", name, "escalation", "steps")
            problems.append(
                ConfigProblem(
                    str(path),
                    _nearest_line(lines, where),
                    _field(where),
                    "every step is when: working_hours, so a page outside working hours "
                    "reaches nobody; give at least one step no when (or when: always)",
                )
            )
        for index, step in enumerate(entry.escalation.steps):
            problem = None
            if step.notify == "manager" and not entry.manager:
                problem = "notifies the manager, but the team names no manager"
            elif step.notify in ("primary", "secondary") and step.notify not in entry.layers:
                problem = f"notifies {step.notify}, but the team has no {step.notify} layer"
            if problem:
                loc = ("teams", name, "escalation", "steps", index, "notify")
                problems.append(
                    ConfigProblem(str(path), _nearest_line(lines, loc), _field(loc), problem)
                )


def _check_tiers(
    releases: ReleaseConfig, summaries: SummariesFile, path: Path, problems: list[ConfigProblem]
) -> None:
    """A service's SLA tier must be one summaries.yaml gives an objective for."""
    lines = _line_map(path.read_text("utf-8"))
    known = ", ".join(sorted(summaries.sla.tiers)) or "none"
    for name, service in releases.catalog.services.items():
        if service.tier is not None and service.tier not in summaries.sla.tiers:
            loc = ("services", name, "tier")
            problems.append(
                ConfigProblem(
                    str(path),
                    _nearest_line(lines, loc),
                    _field(loc),
                    f"there is no SLA tier {service.tier!r} in summaries.yaml; tiers: {known}",
                )
            )


def _shipped_severity_for_other_people(sources: Mapping[str, Path]) -> bool:
    return sources["severity.yaml"].parent == DEFAULTS and sources["people.yaml"].parent != DEFAULTS


def _check_audiences(
    severity: SeverityFile, directory: Directory, path: Path, problems: list[ConfigProblem]
) -> None:
    """A notice for someone who is not in people.yaml would reach nobody."""
    lines = _line_map(path.read_text("utf-8"))
    for item in ("management", "public"):
        for index, entry in enumerate(getattr(severity.audiences, item)):
            if entry.startswith("@") and directory.get(entry[1:].lower()) is None:
                loc = ("audiences", item, index)
                problems.append(
                    ConfigProblem(
                        str(path),
                        _nearest_line(lines, loc),
                        _field(loc),
                        f"{entry[1:]!r} is not in people.yaml",
                    )
                )


def _check_team_people(
    teams: TeamsFile, directory: Directory, path: Path, problems: list[ConfigProblem]
) -> None:
    lines = _line_map(path.read_text("utf-8"))
    for name, entry in teams.teams.items():
        for where, handle in people_named(entry):
            if directory.get(handle) is None:
                loc = ("teams", name, *where)
                problems.append(
                    ConfigProblem(
                        str(path),
                        _nearest_line(lines, loc),
                        _field(loc),
                        f"{handle!r} is not in people.yaml",
                    )
                )


def _releases(
    config_dir: Path | None, services_path: Path, problems: list[ConfigProblem]
) -> ReleaseConfig | None:
    before = len(problems)
    plans = {}
    for path in plan_files(config_dir, DEFAULTS).values():
        plan = _parse(path, PlanFile, problems)
        if plan is None:
            continue
        lines = _line_map(path.read_text("utf-8"))
        for where, problem in check_plan(plan):
            loc = _loc(where)
            problems.append(ConfigProblem(str(path), _nearest_line(lines, loc), where, problem))
        if plan.name in plans:
            problems.append(
                ConfigProblem(
                    str(path),
                    _nearest_line(lines, ("name",)),
                    "name",
                    f"another plan file is already named {plan.name!r}",
                )
            )
        plans[plan.name] = plan.to_plan()
    services = _parse(services_path, ServicesFile, problems)
    if services is None:
        return None
    lines = _line_map(services_path.read_text("utf-8"))
    catalog: dict[str, Service] = {}
    settings: dict[str, ServiceSettings] = {}
    for name, entry in services.services.items():
        if entry.plan not in plans:
            loc = ("services", name, "plan")
            known = ", ".join(sorted(plans)) or "none"
            problems.append(
                ConfigProblem(
                    str(services_path),
                    _nearest_line(lines, loc),
                    _field(loc),
                    f"there is no plan {entry.plan!r}; plans: {known}",
                )
            )
        for where, problem in backend_problems(name, entry):
            problems.append(
                ConfigProblem(str(services_path), _nearest_line(lines, _loc(where)), where, problem)
            )
        catalog[name] = Service(
            name=name,
            plan=entry.plan,
            release_channel=entry.release_channel,
            traffic=entry.traffic.backend,
            metrics=entry.metrics.source,
            team=entry.team,
            incident_channel=entry.incident_channel,
            tier=entry.tier,
        )
        settings[name] = ServiceSettings(traffic=entry.traffic, metrics=entry.metrics)
    if len(problems) > before:
        return None
    return ReleaseConfig(ReleaseCatalog(services=catalog, plans=plans), settings)


def _playbooks(path: Path, problems: list[ConfigProblem]) -> dict[str, Procedure] | None:
    parsed = _parse(path, PlaybooksFile, problems)
    if parsed is None:
        return None
    lines = _line_map(path.read_text("utf-8"))
    found = parsed.to_procedures()
    for name, procedure in found.items():
        for where, problem in procedure_problems(procedure):
            # A playbook's clock is its recovery target.
            loc = ("playbooks", name, *_loc(where.replace("clock", "recovery")))
            problems.append(
                ConfigProblem(str(path), _nearest_line(lines, loc), _field(loc), problem)
            )
    return found


def _loc(where: str) -> tuple[Any, ...]:
    """``stages[1].percent`` → ``("stages", 1, "percent")``."""
    return tuple(
        int(part) if part.isdigit() else part for part in re.split(r"[.\[\]]+", where) if part
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML keeps the last of two equal keys silently; a config file must not."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def _source(config_dir: Path | None, name: str) -> Path:
    if config_dir is not None and (config_dir / name).is_file():
        return config_dir / name
    return DEFAULTS / name


def _parse(path: Path, model: type[M], problems: list[ConfigProblem]) -> M | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        problems.append(ConfigProblem(str(path), None, "", f"cannot be read ({error.strerror})"))
        return None
    except UnicodeDecodeError:
        problems.append(
            ConfigProblem(str(path), None, "", "is not UTF-8 text; save it as UTF-8 (not GBK)")
        )
        return None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or "is not valid YAML"
        problems.append(ConfigProblem(str(path), line, "", f"not valid YAML: {reason}"))
        return None
    lines = _line_map(text)
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as error:
        for item in error.errors():
            loc = tuple(item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "missing":
                message = f"{loc[-1]} is missing; add it"
            elif item["type"] == "extra_forbidden":
                message = f"{loc[-1]} is not a setting here; check its spelling and indentation"
            problems.append(
                ConfigProblem(str(path), _nearest_line(lines, loc), _field(loc), message)
            )
        return None


def _directory(
    people: PeopleFile,
    roles: RolesFile,
    sources: Mapping[str, Path],
    problems: list[ConfigProblem],
) -> Directory | None:
    seen: set[str] = set()
    people_lines = _line_map(sources["people.yaml"].read_text("utf-8"))
    roles_lines = _line_map(sources["roles.yaml"].read_text("utf-8"))
    identities: dict[tuple[str, str], str] = {}
    for index, entry in enumerate(people.people):
        loc: tuple[Any, ...] = ("people", index, "handle")
        if entry.handle in seen:
            problems.append(
                ConfigProblem(
                    str(sources["people.yaml"]),
                    _nearest_line(people_lines, loc),
                    _field(loc),
                    f"{entry.handle} is listed twice",
                )
            )
        seen.add(entry.handle)
        for platform, user_id in entry.identities.items():
            owner = identities.setdefault((platform, user_id), entry.handle)
            if owner != entry.handle:
                where: tuple[Any, ...] = ("people", index, "identities", platform)
                problems.append(
                    ConfigProblem(
                        str(sources["people.yaml"]),
                        _nearest_line(people_lines, where),
                        _field(where),
                        f"{platform} identity {user_id!r} also belongs to {owner}",
                    )
                )
    granted: dict[str, set[Role]] = {}
    for role, handles in roles.roles.items():
        for index, handle in enumerate(handles):
            if handle not in seen:
                where = ("roles", role.value, index)
                problems.append(
                    ConfigProblem(
                        str(sources["roles.yaml"]),
                        _nearest_line(roles_lines, where),
                        _field(where),
                        f"{handle!r} is not in people.yaml",
                    )
                )
            granted.setdefault(handle, set()).add(role)
    for duty, handles in roles.duties.items():
        for index, handle in enumerate(handles):
            if handle not in seen:
                where = ("duties", duty, index)
                problems.append(
                    ConfigProblem(
                        str(sources["roles.yaml"]),
                        _nearest_line(roles_lines, where),
                        _field(where),
                        f"{handle!r} is not in people.yaml",
                    )
                )
    if problems:
        return None
    return Directory.of(
        (
            Person(
                handle=e.handle,
                name=e.name,
                roles=frozenset(granted.get(e.handle, set())),
                identities=dict(e.identities),
                locale=e.locale,
                channels=frozenset(e.channels),
            )
            for e in people.people
        ),
        {duty: tuple(handles) for duty, handles in roles.duties.items()},
    )


def _line_map(text: str) -> dict[tuple[Any, ...], int]:
    node = yaml.compose(text)
    return dict(_lines(node, ())) if node is not None else {}


def _lines(node: yaml.Node, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Every path in a YAML document with the line it starts on (1-based)."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value
            yield (*path, name), key.start_mark.line + 1
            yield from _lines(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _lines(item, (*path, index))


def _nearest_line(lines: Mapping[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    for end in range(len(loc), -1, -1):
        key = tuple(str(part) if not isinstance(part, int) else part for part in loc[:end])
        if key in lines:
            return lines[key]
    return None


def _field(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for "the key itself", already named before it
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
