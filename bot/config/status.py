"""``status.yaml``: the public status page: whether it is on, its title, which services
are public and under what names and groups, and maintenance windows. Whether each service
named is one of services.yaml's, and listed once, is checked with the other references
(``bot/config/refs.py``)."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from playbooks.incidents.status import Component, Maintenance, Names, StatusSettings

SERVICE = r"^[a-z0-9][a-z0-9._-]{0,99}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NamesEntry(_Strict):
    en: str = Field(min_length=1, max_length=200)
    zh: str | None = Field(default=None, min_length=1, max_length=200)

    def to_names(self) -> Names:
        return Names(self.en, self.zh)


# A name is one text for both languages, or ``{en: …, zh: …}``.
Name = str | NamesEntry


def _names(value: Name) -> Names:
    return Names(value) if isinstance(value, str) else value.to_names()


class ComponentEntry(_Strict):
    service: str = Field(pattern=SERVICE)
    name: Name
    group: Name | None = None


class MaintenanceEntry(_Strict):
    services: list[str] = Field(min_length=1)
    start: AwareDatetime
    end: AwareDatetime
    title: Name

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> MaintenanceEntry:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class StatusFile(_Strict):
    enabled: bool = False
    title: Name = Field(default_factory=lambda: NamesEntry(en="Service status", zh="服务状态"))
    components: list[ComponentEntry] = Field(default_factory=list)
    maintenance: list[MaintenanceEntry] = Field(default_factory=list)

    def to_settings(self, services: set[str] | None = None) -> StatusSettings:
        """The page; with ``services``, only the components of those services (the shipped
        file's examples on a config that has services of its own)."""
        return StatusSettings(
            enabled=self.enabled,
            title=_names(self.title),
            components=tuple(
                Component(e.service, _names(e.name), _names(e.group) if e.group else None)
                for e in self.components
                if services is None or e.service in services
            ),
            maintenance=tuple(
                Maintenance(tuple(m.services), m.start, m.end, _names(m.title))
                for m in self.maintenance
            ),
        )
