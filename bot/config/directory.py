"""The config directory: YAML files validated with the file, line and field of every error.

The package ships defaults for every file; a file of the same name in
``SHIPWATCH_CONFIG_DIR`` replaces the shipped one whole.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from bot.config.alerts import AlertsFile
from bot.config.channels import ChannelName, ChannelNames, ChannelsFile
from bot.config.explain import explain
from bot.config.heartbeats import HeartbeatsFile
from bot.config.incidents import SeverityFile
from bot.config.procedures import DUTY, PlaybooksFile
from bot.config.refs import References, reference_problems
from bot.config.releases import (
    PlanFile,
    ReleaseConfig,
    ServiceSettings,
    ServicesFile,
    backend_problems,
    check_plan,
    plan_files,
)
from bot.config.robots import RobotsFile
from bot.config.status import StatusFile
from bot.config.summaries import SummariesFile
from bot.config.teams import TeamsFile, people_named
from bot.config.zone import OptionalZone
from bot.i18n import FALLBACK, Translator
from playbooks.incidents.policy import IncidentSettings, default_settings
from playbooks.incidents.status import StatusSettings
from playbooks.messages import Text, raw, t
from playbooks.oncall.paging import StepWhen
from playbooks.oncall.teams import Team
from playbooks.people import Directory, Person, Role
from playbooks.procedures.plan import Procedure, procedure_problems
from playbooks.releases.plan import ReleaseCatalog, Service
from playbooks.reports.metrics import SummarySettings

DEFAULTS = Path(__file__).with_name("defaults")
_ENGLISH = Translator(FALLBACK, UTC)
FILES = (
    "people.yaml",
    "roles.yaml",
    "services.yaml",
    "severity.yaml",
    "alerts.yaml",
    "teams.yaml",
    "summaries.yaml",
    "playbooks.yaml",
    "heartbeats.yaml",
    "status.yaml",
)
HANDLE = r"^[a-z0-9][a-z0-9._-]{0,63}$"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int | None
    field: str
    problem: str  # in English
    text: Text | None = None  # the same, for a reader of another language

    def __str__(self) -> str:
        return self.said(_ENGLISH)

    def said(self, translate: Callable[[Text], str]) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        problem = translate(self.text) if self.text is not None else self.problem
        return f"{where}: {self.field}: {problem}" if self.field else f"{where}: {problem}"


def _problem(file: str, line: int | None, field: str, text: Text) -> ConfigProblem:
    return ConfigProblem(file, line, field, _ENGLISH(text), text)


class ConfigError(Exception):
    """The config directory has problems; each names file, line and field.

    ``warnings`` are what is worth knowing but does not stop Shipwatch from starting.
    """

    def __init__(
        self, problems: list[ConfigProblem], warnings: tuple[ConfigProblem, ...] = ()
    ) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
        self.warnings = warnings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonEntry(_Strict):
    handle: str
    name: str = Field(min_length=1, max_length=200)
    identities: dict[str, str] = Field(default_factory=dict)
    locale: str | None = None
    # where the person's direct messages show times (else SHIPWATCH_TIMEZONE)
    timezone: OptionalZone = None
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
    status: StatusSettings = field(default_factory=StatusSettings)
    # Worth knowing, not worth refusing to start over (shown by `shipwatch check`).
    warnings: tuple[ConfigProblem, ...] = ()


def load(config_dir: Path | None) -> Config:
    """Read and validate every file, raising one ``ConfigError`` that lists all problems.

    Every file is read and every check runs even when an earlier one found problems, so
    one run names them all: a file with problems still gives what it can to the checks of
    the references between files.
    """
    problems: list[ConfigProblem] = []
    warnings: list[ConfigProblem] = []
    if config_dir is not None and not config_dir.is_dir():
        raise ConfigError([ConfigProblem(str(config_dir), None, "", "is not a directory")])
    sources = {name: _source(config_dir, name) for name in FILES}
    people = _parse(sources["people.yaml"], PeopleFile, problems)
    roles = _parse(sources["roles.yaml"], RolesFile, problems)
    handles = _raw_names(sources["people.yaml"], "people", key="handle")
    if (
        roles is not None
        and handles is not None
        and config_dir is not None
        and _shipped_roles_for_other_people(sources)
    ):
        roles = _example_roles_for(roles, handles, config_dir, warnings)
    directory = _directory(people, roles, sources, handles, problems)
    releases = _releases(config_dir, sources["services.yaml"], problems)
    playbooks = _playbooks(sources["playbooks.yaml"], problems)
    if releases is not None and playbooks is not None:
        catalog = replace(releases.catalog, playbooks=playbooks)
        releases = replace(releases, catalog=catalog)
    severity = _parse(sources["severity.yaml"], SeverityFile, problems)
    alerts = _parse(sources["alerts.yaml"], AlertsFile, problems)
    heartbeats = _parse(sources["heartbeats.yaml"], HeartbeatsFile, problems)
    teams = _parse(sources["teams.yaml"], TeamsFile, problems)
    robots = _optional(config_dir, "robots.yaml", RobotsFile, problems)
    channels = _optional(config_dir, "channels.yaml", ChannelsFile, problems)
    summaries = _parse(sources["summaries.yaml"], SummariesFile, problems)
    status = _parse(sources["status.yaml"], StatusFile, problems)
    team_names = _raw_names(sources["teams.yaml"], "teams")
    if teams is not None and _example_teams_for_other_people(sources):
        teams = TeamsFile()  # the shipped example team names the shipped example people
        team_names = set()
    elif team_names is None and teams is not None:
        team_names = set(teams.teams)
    if teams is not None:
        _check_team_people(teams, handles, sources["teams.yaml"], problems)
        _check_team_steps(teams, sources["teams.yaml"], problems)
    if releases is not None and summaries is not None:
        _check_tiers(releases, summaries, sources["services.yaml"], problems)
    if severity is not None and _shipped_severity_for_other_people(sources):
        # the shipped audiences name the shipped example people; channels still apply
        severity = severity.model_copy(update={"audiences": severity.audiences.without_people()})
    if severity is not None:
        _check_audiences(severity, handles, sources["severity.yaml"], problems)
    references = References(
        handles=handles,
        roles=frozenset(role.value for role in Role),
        duties=_raw_names(sources["roles.yaml"], "duties"),
        teams=team_names,
        services=_raw_names(sources["services.yaml"], "services"),
        shipped=DEFAULTS,
    )
    for path, loc, problem in reference_problems(config_dir, sources, references):
        problems.append(_at(path, loc, problem))
    problems.sort(key=lambda p: (p.file, p.line or 0))
    if (
        problems
        or directory is None
        or releases is None
        or severity is None
        or alerts is None
        or heartbeats is None
        or teams is None
        or robots is None
        or channels is None
        or summaries is None
        or status is None
    ):
        raise ConfigError(problems, tuple(warnings))
    built_teams = _teams(teams, severity)
    return Config(
        directory=_team_zones(directory, built_teams),
        sources=sources,
        releases=releases,
        incidents=replace(
            severity.to_settings(),
            alerts=alerts.to_settings(),
            heartbeats=heartbeats.to_settings(),
        ),
        teams=built_teams,
        robots=robots,
        channels=ChannelNames(channels.root),
        summaries=summaries.to_settings(),
        status=_status(status, sources, releases),
        warnings=tuple(warnings),
    )


def _team_zones(directory: Directory, teams: Mapping[str, Team]) -> Directory:
    """Someone with no ``timezone`` of their own reads their direct messages in their
    team's (the teams whose rotations they are in, when those agree), as on-call people
    live where their team does."""
    zones: dict[str, set[str]] = {}
    for team in teams.values():
        for rotation in team.rotations.values():
            for handle in rotation.participants:
                zones.setdefault(handle, set()).add(str(team.tz))
    by_zone = {str(team.tz): team.tz for team in teams.values()}
    people = {
        handle: replace(person, tz=by_zone[next(iter(zones[handle]))])
        if person.tz is None and len(zones.get(handle, ())) == 1
        else person
        for handle, person in directory.people.items()
    }
    return replace(directory, people=people)


def _teams(teams: TeamsFile, severity: SeverityFile) -> dict[str, Team]:
    hours = severity.working_hours
    return {
        name: entry.to_team(name, country=hours.country, everyone=hours)
        for name, entry in teams.teams.items()
    }


def _at(path: Path, loc: tuple[Any, ...], problem: str | Text) -> ConfigProblem:
    """A problem at ``loc`` of ``path``, with the line it is on."""
    lines = _line_map(path.read_text("utf-8"))
    text = problem if isinstance(problem, Text) else raw(problem)
    return _problem(str(path), _nearest_line(lines, loc), _field(loc), text)


def _shipped_roles_for_other_people(sources: Mapping[str, Path]) -> bool:
    return sources["roles.yaml"].parent == DEFAULTS and sources["people.yaml"].parent != DEFAULTS


def _example_roles_for(
    roles: RolesFile, handles: set[str], config_dir: Path, warnings: list[ConfigProblem]
) -> RolesFile:
    """The shipped roles.yaml beside a people.yaml of one's own: its roles and duties go
    to those of its example people who are in that people.yaml, and the rest are left out
    (not blamed on the shipped file, which nobody here wrote)."""
    kept = roles.model_copy(
        update={
            "roles": {r: [h for h in hs if h in handles] for r, hs in roles.roles.items()},
            "duties": {d: [h for h in hs if h in handles] for d, hs in roles.duties.items()},
        }
    )
    named = {h for hs in (*roles.roles.values(), *roles.duties.values()) for h in hs}
    if named - handles:
        held = "nobody" if not named & handles else "others"
        said = t(
            "config.roles_example",
            people=", ".join(sorted(named - handles)),
            held=t(f"config.roles_example.{held}"),
        )
        warnings.append(_problem(str(config_dir / "roles.yaml"), None, "", said))
    return kept


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


def _status(
    status: StatusFile, sources: Mapping[str, Path], releases: ReleaseConfig
) -> StatusSettings:
    """The shipped status.yaml describes the shipped example services: beside a
    services.yaml of your own it turns the page off rather than show services you do not
    have."""
    if sources["status.yaml"].parent == DEFAULTS and sources["services.yaml"].parent != DEFAULTS:
        return StatusSettings()
    return status.to_settings(set(releases.catalog.services))


def _shipped_severity_for_other_people(sources: Mapping[str, Path]) -> bool:
    return sources["severity.yaml"].parent == DEFAULTS and sources["people.yaml"].parent != DEFAULTS


def _check_audiences(
    severity: SeverityFile, handles: set[str] | None, path: Path, problems: list[ConfigProblem]
) -> None:
    """A notice for someone who is not in people.yaml would reach nobody."""
    if handles is None:
        return
    lines = _line_map(path.read_text("utf-8"))
    for item in ("management", "public"):
        for index, entry in enumerate(getattr(severity.audiences, item)):
            if entry.startswith("@") and entry[1:].lower() not in handles:
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
    teams: TeamsFile, handles: set[str] | None, path: Path, problems: list[ConfigProblem]
) -> None:
    if handles is None:
        return
    lines = _line_map(path.read_text("utf-8"))
    for name, entry in teams.teams.items():
        for where, handle in people_named(entry):
            if handle not in handles:
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
    """The services and plans; a service may name a plan whose file has problems of its own
    (those are named once, in that file)."""
    plans = {}
    names: set[str] = set()
    for path in plan_files(config_dir, DEFAULTS).values():
        data = _read(path, [])
        names.add(str(data.get("name", path.stem)) if isinstance(data, dict) else path.stem)
        pruned: set[str] = set()
        plan = _parse(path, PlanFile, problems, pruned=pruned)
        if plan is None:
            continue
        lines = _line_map(path.read_text("utf-8"))
        for where, problem in check_plan(plan):
            loc = _loc(where)
            if _follows_from(loc, pruned):
                continue
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
        if entry.plan not in names:
            loc = ("services", name, "plan")
            known = ", ".join(sorted(names)) or "none"
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
    return ReleaseConfig(ReleaseCatalog(services=catalog, plans=plans), settings)


def _follows_from(loc: tuple[Any, ...], pruned: set[str]) -> bool:
    """Whether a plan's problem may only be the echo of a section left out for its own
    problems: a stage target names a guard that was left out, say."""
    if not loc or not pruned:
        return False
    return loc[0] in pruned or ("guards" in pruned and "targets" in loc)


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


if TYPE_CHECKING:
    _LoaderBase = yaml.SafeLoader
else:
    _LoaderBase = object  # a mixin: the parser comes from the class it is mixed into


class _UniqueKeys(_LoaderBase):
    """YAML keeps the last of two equal keys silently; a config file must not.

    Each repeated key is noted (with its line) and reading goes on, so one run names them all.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.repeated: list[tuple[Any, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                self.repeated.append((key, key_node.start_mark.line + 1))
            seen.add(key)
        return super().construct_mapping(node, deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A day that is no day (2026-02-30) stays text, for its field to name."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


class _UniqueKeyLoader(_UniqueKeys, yaml.SafeLoader):
    """PyYAML's own parser: its messages name a file's problems."""


# libyaml's parser where PyYAML has it (the wheels do), about ten times faster; a file it
# refuses is read again by the loader above, so a problem is said in the same words.
_FastLoader: type[_UniqueKeys] = (
    type("_FastLoader", (_UniqueKeys, yaml.CSafeLoader), {})
    if getattr(yaml, "__with_libyaml__", False)
    else _UniqueKeyLoader
)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_UniqueKeyLoader.add_constructor(_TIMESTAMP, _UniqueKeys.construct_yaml_timestamp)
_FastLoader.add_constructor(_TIMESTAMP, _UniqueKeys.construct_yaml_timestamp)


def _source(config_dir: Path | None, name: str) -> Path:
    if config_dir is not None and (config_dir / name).is_file():
        return config_dir / name
    return DEFAULTS / name


def _parse(
    path: Path, model: type[M], problems: list[ConfigProblem], *, pruned: set[str] | None = None
) -> M | None:
    """The file as ``model``, every problem of it added to ``problems``.

    A file with problems still yields what it can, so the checks that follow (references
    between files, a plan's stages) run in the same pass: the entries of a named collection
    that have problems (a service, a team) are left out, as is any other section with
    problems; the top-level sections so affected are added to ``pruned``.
    """
    data = _read(path, problems)
    if data is None:
        return None
    lines = _line_map(path.read_text("utf-8"))
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            loc = tuple(item["loc"])
            problems.append(
                _problem(str(path), _nearest_line(lines, loc), _field(loc), explain(item))
            )
        salvage = _without_problems(data, error.errors(), pruned)
        if salvage is None:
            return None
        try:
            return model.model_validate(salvage)
        except ValidationError:
            return None


def _read(path: Path, problems: list[ConfigProblem]) -> Any:
    """The YAML data of ``path`` (``{}`` when empty), or ``None`` when it cannot be read."""
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
    loader = _FastLoader(text)
    try:
        try:
            data = loader.get_single_data()
        except yaml.YAMLError:
            loader.dispose()
            loader = _UniqueKeyLoader(text)
            data = loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or "is not valid YAML"
        problems.append(ConfigProblem(str(path), line, "", f"not valid YAML: {reason}"))
        return None
    finally:
        loader.dispose()
    for key, line in loader.repeated:
        problems.append(_problem(str(path), line, "", t("config.repeated_key", setting=repr(key))))
    return data if data is not None else {}


def _without_problems(
    data: Any, errors: list[Any], pruned: set[str] | None
) -> dict[str, Any] | None:
    """``data`` less the named entries and sections that have problems, or ``None``."""
    if not isinstance(data, dict):
        return None
    kept = dict(data)
    for item in errors:
        loc = tuple(item["loc"])
        if loc and pruned is not None and str(loc[0]) in pruned and loc[0] not in kept:
            continue  # its section is already left out
        if not loc or loc[0] not in kept:
            return None
        section = kept[loc[0]]
        if len(loc) > 1 and isinstance(section, dict) and loc[1] in section:
            kept[loc[0]] = {k: v for k, v in section.items() if k != loc[1]}
        else:
            kept.pop(loc[0])
        if pruned is not None:
            pruned.add(str(loc[0]))
    return kept


def _raw_names(path: Path, section: str, *, key: str | None = None) -> set[str] | None:
    """The names a file gives, whether or not their entries are valid: a reference to an
    entry with problems is not a second problem. ``None`` when the file is past reading
    (its own problem): then nothing is checked against it."""
    data = _read(path, [])
    if not isinstance(data, dict):
        return None
    entries = data.get(section)
    if entries is None:
        return set()
    if key is None:
        return {str(k) for k in entries} if isinstance(entries, dict) else None
    if not isinstance(entries, list):
        return None
    return {str(e[key]).lower() for e in entries if isinstance(e, dict) and key in e}


def _directory(
    people: PeopleFile | None,
    roles: RolesFile | None,
    sources: Mapping[str, Path],
    handles: set[str] | None,
    problems: list[ConfigProblem],
) -> Directory | None:
    """Who is who; the roles and duties of roles.yaml are checked against ``handles`` (every
    handle people.yaml gives) even when people.yaml itself has problems."""
    if roles is not None and handles is not None:
        roles_path = sources["roles.yaml"]
        named: list[tuple[tuple[Any, ...], str]] = [
            (("roles", role.value, i), h)
            for role, hs in roles.roles.items()
            for i, h in enumerate(hs)
        ]
        named += [
            (("duties", duty, i), h) for duty, hs in roles.duties.items() for i, h in enumerate(hs)
        ]
        for named_at, handle in named:
            if handle not in handles:
                problems.append(_at(roles_path, named_at, f"{handle!r} is not in people.yaml"))
    if people is None or roles is None:
        return None
    seen: set[str] = set()
    people_path = sources["people.yaml"]
    identities: dict[tuple[str, str], str] = {}
    for index, entry in enumerate(people.people):
        if entry.handle in seen:
            at: tuple[Any, ...] = ("people", index, "handle")
            problems.append(_at(people_path, at, f"{entry.handle} is listed twice"))
        seen.add(entry.handle)
        for platform, user_id in entry.identities.items():
            owner = identities.setdefault((platform, user_id), entry.handle)
            if owner != entry.handle:
                at = ("people", index, "identities", platform)
                problems.append(
                    _at(
                        people_path,
                        at,
                        f"{platform} identity {user_id!r} also belongs to {owner}",
                    )
                )
    granted: dict[str, set[Role]] = {}
    for role, role_handles in roles.roles.items():
        for handle in role_handles:
            granted.setdefault(handle, set()).add(role)
    return Directory.of(
        (
            Person(
                handle=e.handle,
                name=e.name,
                roles=frozenset(granted.get(e.handle, set())),
                identities=dict(e.identities),
                locale=e.locale,
                tz=ZoneInfo(e.timezone) if e.timezone else None,
                channels=frozenset(e.channels),
            )
            for e in people.people
        ),
        {duty: tuple(duty_handles) for duty, duty_handles in roles.duties.items()},
    )


def _line_map(text: str) -> Mapping[tuple[Any, ...], int]:
    """Each path's line in ``text``, composed only when a problem asks for one: a file
    without problems is not parsed a second time (that doubled the start's YAML work)."""
    return _LazyLines(text)


class _LazyLines(Mapping[tuple[Any, ...], int]):
    def __init__(self, text: str) -> None:
        self._text = text

    def _map(self) -> dict[tuple[Any, ...], int]:
        return _composed_lines(self._text)

    def __getitem__(self, key: tuple[Any, ...]) -> int:
        return self._map()[key]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._map())

    def __len__(self) -> int:
        return len(self._map())


@functools.lru_cache(maxsize=64)
def _composed_lines(text: str) -> dict[tuple[Any, ...], int]:
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
