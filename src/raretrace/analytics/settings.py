"""The analytics settings: warning thresholds and the open data's suppression, from the
packaged ``data/analytics-settings.json`` or a user's file over it (``--settings FILE``).

A user's file may give any subset of the keys; every key it gives is checked (a misspelt
threshold is refused, never ignored) and replaces the packaged value.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from raretrace.domain.elements import CONSERVED
from raretrace.domain.errors import ConfigError
from raretrace.domain.model import FORMS, STAGES

__all__ = ["AnalyticsSettings", "load_settings"]

DATA_FILE = "analytics-settings.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trend(_Strict):
    period_days: int = Field(ge=1, le=3660)
    periods: int = Field(ge=0, le=60)


class SingleCountryShare(_Strict):
    max_share: float = Field(gt=0, le=1)
    elements: tuple[str, ...]
    stages: tuple[str, ...]


class DaysOfCover(_Strict):
    min_days: float = Field(ge=0)
    groups: dict[str, tuple[str, ...]]
    stages: tuple[str, ...]
    forms: tuple[str, ...]


class DiscrepancyRate(_Strict):
    max_rate: float = Field(ge=0, le=1)
    min_receipts: int = Field(ge=1)


class Expiry(_Strict):
    within_days: int = Field(ge=0, le=3660)


class Capacity(_Strict):
    max_ratio: float = Field(gt=0)


class OpenData(_Strict):
    k: int = Field(ge=1, le=1000)
    period: Literal["month", "quarter", "year"]


class AnalyticsSettings(_Strict):
    """Every threshold the analytics use (docs/analytics.md names each)."""

    version: Literal[1]
    about: str = ""
    trend: Trend
    single_country_share: SingleCountryShare
    days_of_cover: DaysOfCover
    discrepancy_rate: DiscrepancyRate
    expiry: Expiry
    capacity: Capacity
    open_data: OpenData
    #: Where the settings came from: "packaged" or the user's file.
    source: str = "packaged"


def _packaged() -> dict[str, Any]:
    text = files("raretrace").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key != "groups":
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


def _check_names(s: AnalyticsSettings, where: str) -> None:
    for name, values, allowed in (
        ("single_country_share.elements", s.single_country_share.elements, CONSERVED),
        ("single_country_share.stages", s.single_country_share.stages, STAGES),
        ("days_of_cover.stages", s.days_of_cover.stages, STAGES),
        ("days_of_cover.forms", s.days_of_cover.forms, FORMS),
        (
            "days_of_cover.groups",
            [e for g in s.days_of_cover.groups.values() for e in g],
            CONSERVED,
        ),
    ):
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise ConfigError(
                f"settings {where}: {name} has {unknown[0]!r}, which is not one of"
                f" {', '.join(sorted(allowed))}; correct it"
            )


def load_settings(path: Path | None = None) -> AnalyticsSettings:
    """The packaged settings, with ``path``'s keys over them when given."""
    doc = _packaged()
    where = "packaged"
    if path is not None:
        where = str(path)
        try:
            user = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"settings {path}: not JSON ({exc.msg} at line {exc.lineno}); give a JSON"
                f" object like the packaged {DATA_FILE} (docs/analytics.md)"
            ) from None
        if not isinstance(user, dict):
            raise ConfigError(f"settings {path}: expected a JSON object, got {type(user).__name__}")
        doc = _merge(doc, user)
    try:
        settings = AnalyticsSettings.model_validate({**doc, "source": where})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"settings {where}: {field}: {first['msg']} (got {first.get('input')!r});"
            " see docs/analytics.md for each setting"
        ) from None
    _check_names(settings, where)
    return settings
