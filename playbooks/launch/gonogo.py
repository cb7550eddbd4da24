"""The Go/No-Go matrix: each dimension scores its full weight when it meets its target
(the seed's 达成? column) and nothing when it does not; the total picks the verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from playbooks.errors import UsageError
from playbooks.launch.plan import GoNoGoPolicy
from playbooks.messages import t


class Verdict(StrEnum):
    GO = "GO"
    REVIEW = "REVIEW"
    NO_GO = "NO-GO"


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    label: str
    weight: float
    op: str
    target: float
    value: float
    met: bool


@dataclass(frozen=True, slots=True)
class Assessment:
    score: float
    verdict: Verdict
    rows: tuple[Row, ...]
    by: str
    at: datetime
    approved_by: str | None = None

    @property
    def passes(self) -> bool:
        """GO, or a REVIEW a release manager has approved."""
        return self.verdict is Verdict.GO or (
            self.verdict is Verdict.REVIEW and self.approved_by is not None
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "verdict": self.verdict.value,
            "by": self.by,
            "at": self.at.isoformat(),
            "approved_by": self.approved_by,
            "rows": [
                {
                    "name": r.name,
                    "label": r.label,
                    "weight": r.weight,
                    "op": r.op,
                    "target": r.target,
                    "value": r.value,
                    "met": r.met,
                }
                for r in self.rows
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Assessment:
        return cls(
            score=data["score"],
            verdict=Verdict(data["verdict"]),
            by=data["by"],
            at=datetime.fromisoformat(data["at"]),
            approved_by=data.get("approved_by"),
            rows=tuple(Row(**row) for row in data["rows"]),
        )


def verdict_for(score: float, policy: GoNoGoPolicy) -> Verdict:
    if score >= policy.go_at:
        return Verdict.GO
    if score >= policy.review_at:
        return Verdict.REVIEW
    return Verdict.NO_GO


def parse_values(words: list[str], policy: GoNoGoPolicy) -> dict[str, float]:
    """``functional=96 performance=92 …`` into numbers, every dimension once, 0 to 100."""
    known = [d.name for d in policy.dimensions]
    counts = {d.name for d in policy.dimensions if d.count}
    values: dict[str, float] = {}
    for word in words:
        name, sep, text = word.partition("=")
        name = name.strip().lower()
        if not sep:
            raise UsageError(t("gonogo.not_a_pair", value=word, known=", ".join(known)))
        if name not in known:
            raise UsageError(t("gonogo.unknown_dimension", value=name, known=", ".join(known)))
        if name in values:
            raise UsageError(t("gonogo.repeated", name=name))
        try:
            number = float(text.strip().removesuffix("%"))
        except ValueError:
            raise UsageError(t("gonogo.not_a_number", name=name, value=text)) from None
        if not 0 <= number <= 100:  # NaN fails this too
            raise UsageError(t("gonogo.out_of_range", name=name, value=text))
        if name in counts and not number.is_integer():
            raise UsageError(t("gonogo.not_a_count", name=name, value=text))
        values[name] = number
    missing = [name for name in known if name not in values]
    if missing:
        raise UsageError(t("gonogo.missing", missing=", ".join(missing)))
    return values


def assess(
    values: Mapping[str, float], policy: GoNoGoPolicy, *, by: str, at: datetime
) -> Assessment:
    rows = tuple(
        Row(
            name=d.name,
            label=d.label,
            weight=d.weight,
            op=d.op.value,
            target=d.target,
            value=values[d.name],
            met=d.met_by(values[d.name]),
        )
        for d in policy.dimensions
    )
    score = round(sum(r.weight for r in rows if r.met), 2)
    return Assessment(score=score, verdict=verdict_for(score, policy), rows=rows, by=by, at=at)
