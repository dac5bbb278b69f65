"""Read a scenario file (JSON or YAML) into a :class:`~raretrace.analytics.network.Scenario`.

The file is checked against the published JSON Schema (``schemas/scenario.schema.json``),
then for what a schema cannot say (ids that must exist, dates in order, compositions that
add up). Every refusal is a ``ValidationError`` under the rule ``scenario-file`` naming the
place in the file (``lanes[3] (MY-LAMP>VN-SMMV).via[0]``), what was found and what to do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

from raretrace.analytics.network import (
    CAPACITY_ADDITION,
    CONSTRAINTS,
    DEMAND_GROWTH,
    EU_SINGLE_COUNTRY,
    EXPORT_BAN,
    OUTAGE,
    PORT_CLOSURE,
    RECYCLED_FLOOR,
    US_DEFENCE,
    CorridorSpec,
    Demand,
    Facility,
    Lane,
    Option,
    Port,
    Region,
    Scenario,
    Shock,
    Target,
)
from raretrace.domain.errors import ConfigError, ValidationError

RULE = "scenario-file"


class _Loader(yaml.SafeLoader):
    """YAML without implicit dates: a date stays the string the schema expects."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def schema() -> Mapping[str, Any]:
    """The published scenario JSON Schema."""
    text = files("raretrace").joinpath("schemas/scenario.schema.json").read_text("utf-8")
    loaded: Mapping[str, Any] = json.loads(text)
    return loaded


def read_scenario(path: Path) -> Scenario:
    """Read, validate and build the scenario in ``path`` (``.yaml``/``.yml`` or JSON)."""
    if not path.exists():
        raise ConfigError(f"scenario file {path} does not exist; write one with --template")
    if path.is_dir():
        raise ConfigError(f"scenario file {path} is a folder; give a JSON or YAML file")
    return parse_scenario(load_document(path.read_bytes(), str(path)), str(path))


def load_document(raw: bytes, name: str) -> Any:
    """The JSON or YAML document in ``raw`` (YAML is a superset of JSON, so one parser)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            RULE, name, f"scenario file {name} is not UTF-8 text (byte {exc.start}); "
            "give a JSON or YAML file",
        ) from None  # fmt: skip
    if not text.strip():
        raise ValidationError(RULE, name, f"scenario file {name} is empty; see --template")
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not JSON or YAML"
        raise ValidationError(
            RULE, name, f"scenario file {name}{where}: {problem}; fix the syntax"
        ) from None


def parse_scenario(doc: Any, name: str = "scenario") -> Scenario:
    """Validate ``doc`` (the parsed file) against the schema and the id rules; build it."""
    _check_schema(doc, name)
    return _Builder(doc, name).build()


def place(doc: Any, path: Sequence[str | int]) -> str:
    """``facilities[3] (MY-LYNAS-LAMP).capacity_t``: a path in the file, with the ids of the
    objects it passes through."""
    text, node = "", doc
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, Mapping) and isinstance(node.get("id"), str):
                text += f" ({node['id']})"
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return text or "(top level)"


def _check_schema(doc: Any, name: str) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is None:
        return
    where = place(doc, list(error.absolute_path))
    message = " ".join(error.message.split())  # one line, whatever the value's repr
    message = message if len(message) <= 200 else message[:200] + "…"
    raise ValidationError(
        RULE, where, f"scenario file {name}: {where}: {message} (schema: docs/analytics.md, "
        "src/raretrace/schemas/scenario.schema.json)",
    )  # fmt: skip


def _date(text: str | None, where: str, name: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            RULE, where, f"scenario file {name}: {where}: {text!r} is not a date; use YYYY-MM-DD"
        ) from None


class _Builder:
    """Turns a schema-valid document into a Scenario, checking ids and references."""

    def __init__(self, doc: Mapping[str, Any], name: str) -> None:
        self.doc, self.name = doc, name
        self.elements: tuple[str, ...] = tuple(doc["elements"])
        self.ids: dict[str, str] = {}
        self.lane_ids: set[str] = set()

    def fail(self, path: Sequence[str | int], message: str) -> ValidationError:
        where = place(self.doc, path)
        return ValidationError(RULE, where, f"scenario file {self.name}: {where}: {message}")

    def build(self) -> Scenario:
        facilities = {f.id: f for f in self._each("facilities", self._facility)}
        ports = {p.id: p for p in self._each("ports", self._port)}
        regions = {r.id: r for r in self._each("regions", self._region)}
        self.facilities, self.ports, self.regions = facilities, ports, regions
        lanes = tuple(self._each("lanes", self._lane))
        demand = tuple(self._each("demand", self._demand))
        year = int(self.doc["year"])
        if not any(d.year == year for d in demand):
            years = sorted({d.year for d in demand})
            raise self.fail(
                ["demand"], f"no demand for the year solved ({year}); the file has demand "
                f"for {years}: add entries for {year} or change year",
            )  # fmt: skip
        shocks = tuple(self._each("shocks", self._shock))
        corridor = self._corridor() if "corridor" in self.doc else None
        return Scenario(
            title=str(self.doc.get("title", "")), year=year, elements=self.elements,
            facilities=facilities, ports=ports, regions=regions, lanes=lanes, demand=demand,
            shocks=shocks, corridor=corridor,
            shortage_cost_usd_per_t=float(self.doc.get("shortage_cost_usd_per_t", 1e8)),
        )  # fmt: skip

    def _each(self, key: str, make: Any) -> list[Any]:
        return [make(obj, [key, i]) for i, obj in enumerate(self.doc.get(key, []))]

    def _claim(self, ident: str, path: list[str | int]) -> None:
        if ident in self.ids:
            raise self.fail([*path, "id"], f"id {ident!r} is used twice (first at "
                            f"{self.ids[ident]}); facilities, ports and regions share one "
                            "set of ids: rename one")  # fmt: skip
        self.ids[ident] = place(self.doc, path)

    def _known_elements(self, given: Any, path: list[str | int]) -> tuple[str, ...]:
        for element in given:
            if element not in self.elements:
                raise self.fail(
                    path, f"{element} is not among the modelled elements "
                    f"{list(self.elements)}: add it to 'elements' or drop it",
                )  # fmt: skip
        return tuple(given)

    def _facility(self, obj: Mapping[str, Any], path: list[str | int]) -> Facility:
        self._claim(obj["id"], path)
        composition = obj.get("composition")
        if composition is not None:
            self._known_elements(composition, [*path, "composition"])
            if sum(composition.values()) > 1 + 1e-9:
                raise self.fail([*path, "composition"], f"adds up to "
                                f"{sum(composition.values()):.4g}, more than 1 t per t of "
                                "rare-earth content; give fractions of the content")  # fmt: skip
        recovery = obj.get("recovery", 1.0)
        if isinstance(recovery, Mapping):
            self._known_elements(recovery, [*path, "recovery"])
            missing = [e for e in self.elements if e not in recovery]
            if missing:
                raise self.fail([*path, "recovery"], f"gives no recovery for {missing}; "
                                "give every modelled element or one number for all")  # fmt: skip
            rates = {e: float(recovery[e]) for e in self.elements}
        else:
            rates = dict.fromkeys(self.elements, float(recovery))
        return Facility(
            id=obj["id"], name=obj.get("name", obj["id"]), country=obj["country"],
            stages=tuple(obj["stages"]), capacity_t=obj.get("capacity_t"), recovery=rates,
            cost_usd_per_t=float(obj.get("cost_usd_per_t", 0.0)),
            composition=None if composition is None else {
                e: float(composition.get(e, 0.0)) for e in self.elements},
            capacity_elements=self._known_elements(
                obj.get("capacity_elements", ()), [*path, "capacity_elements"]),
            lat=obj.get("lat"), lon=obj.get("lon"),
        )  # fmt: skip

    def _port(self, obj: Mapping[str, Any], path: list[str | int]) -> Port:
        self._claim(obj["id"], path)
        return Port(
            id=obj["id"], name=obj.get("name", obj["id"]), country=obj["country"],
            capacity_t=obj.get("capacity_t"), cost_usd_per_t=float(obj.get("cost_usd_per_t", 0)),
            lat=obj.get("lat"), lon=obj.get("lon"),
        )  # fmt: skip

    def _region(self, obj: Mapping[str, Any], path: list[str | int]) -> Region:
        self._claim(obj["id"], path)
        return Region(obj["id"], obj.get("name", obj["id"]), tuple(obj["countries"]))

    def _lane(self, obj: Mapping[str, Any], path: list[str | int]) -> Lane:
        origin, destination, via = obj["from"], obj["to"], tuple(obj.get("via", ()))
        if origin not in self.facilities:
            raise self.fail([*path, "from"], f"{origin!r} is not a facility of this file; "
                            "a lane starts at a facility")  # fmt: skip
        if destination not in self.facilities and destination not in self.regions:
            raise self.fail([*path, "to"], f"{destination!r} is neither a facility nor a "
                            "region of this file")  # fmt: skip
        if destination == origin:
            raise self.fail([*path, "to"], f"the lane ends where it starts ({origin})")
        if destination in self.facilities and self.facilities[destination].is_source:
            raise self.fail([*path, "to"], f"{destination} is a source (it has a "
                            "composition) and receives nothing; drop the lane or the "
                            "composition")  # fmt: skip
        for i, port in enumerate(via):
            if port not in self.ports:
                raise self.fail([*path, "via", i], f"{port!r} is not a port of this file")
        ident = obj.get("id") or ">".join((origin, *via, destination))
        lane = Lane(
            id=ident, origin=origin, destination=destination, via=via,
            capacity_t=obj.get("capacity_t"), cost_usd_per_t=float(obj["cost_usd_per_t"]),
            transit_days=float(obj.get("transit_days", 0.0)),
            elements=self._known_elements(obj.get("elements", ()), [*path, "elements"]),
        )  # fmt: skip
        if ident in self.lane_ids:
            raise self.fail(path, f"lane id {ident!r} is used twice; give the lanes ids")
        self.lane_ids.add(ident)
        return lane

    def _demand(self, obj: Mapping[str, Any], path: list[str | int]) -> Demand:
        if obj["region"] not in self.regions:
            raise self.fail([*path, "region"], f"{obj['region']!r} is not a region of this file")
        content = obj["content"]
        self._known_elements(content, [*path, "content"])
        if sum(content.values()) > 1 + 1e-9:
            raise self.fail([*path, "content"], "the element content adds up to more than "
                            "the magnet's mass; give fractions of the magnet's mass")  # fmt: skip
        return Demand(
            region=obj["region"], year=int(obj["year"]), magnets_t=float(obj["magnets_t"]),
            content={e: float(v) for e, v in content.items()},
            must_meet=bool(obj.get("must_meet", False)),
        )  # fmt: skip

    def _span(self, obj: Mapping[str, Any], path: list[str | int]) -> tuple[dt.date | None, ...]:
        start = _date(obj.get("from"), place(self.doc, [*path, "from"]), self.name)
        end = _date(obj.get("until"), place(self.doc, [*path, "until"]), self.name)
        if "days" in obj and "until" in obj:
            raise self.fail(path, "give 'days' or 'until', not both")
        if end is not None:
            end += dt.timedelta(days=1)  # 'until' is the last day in force
        elif "days" in obj and start is not None:
            end = start + dt.timedelta(days=int(obj["days"]))
        if start is not None and end is not None and end <= start:
            raise self.fail([*path, "until"], f"ends ({obj.get('until')}) before it starts "
                            f"({obj.get('from')})")  # fmt: skip
        return start, end

    def _shock(self, obj: Mapping[str, Any], path: list[str | int]) -> Shock:
        kind = obj["type"]
        start, end = self._span(obj, path)
        if kind == EXPORT_BAN:
            elements = self._known_elements(obj["elements"], [*path, "elements"])
            return Shock(kind, start, end, country=obj["country"],
                         stages=tuple(obj.get("stages", ())), elements=elements)  # fmt: skip
        if kind in (OUTAGE, CAPACITY_ADDITION):
            if obj["facility"] not in self.facilities:
                raise self.fail([*path, "facility"], f"{obj['facility']!r} is not a facility "
                                "of this file")  # fmt: skip
            return Shock(kind, start, end, facility=obj["facility"],
                         capacity_t=float(obj.get("capacity_t", 0.0)))  # fmt: skip
        if kind == PORT_CLOSURE:
            if obj["port"] not in self.ports:
                raise self.fail([*path, "port"], f"{obj['port']!r} is not a port of this file")
            return Shock(kind, start, end, port=obj["port"])
        assert kind == DEMAND_GROWTH
        if obj["region"] not in self.regions:
            raise self.fail([*path, "region"], f"{obj['region']!r} is not a region of this file")
        return Shock(kind, region=obj["region"], factor=float(obj["factor"]), year=obj["year"])

    def _corridor(self) -> CorridorSpec:
        spec = self.doc["corridor"]
        options = [self._option(o, ["corridor", "options", i])
                   for i, o in enumerate(spec["options"])]  # fmt: skip
        targets = [self._target(t, ["corridor", "targets", i])
                   for i, t in enumerate(spec["targets"])]  # fmt: skip
        found = spec.get("constraints", {})
        for key in (US_DEFENCE, EU_SINGLE_COUNTRY):
            region = found.get(key, {}).get("region")
            if region is not None and region not in self.regions:
                raise self.fail(["corridor", "constraints", key, "region"],
                                f"{region!r} is not a region of this file")  # fmt: skip
        for i, region in enumerate(found.get(RECYCLED_FLOOR, {}).get("regions", [])):
            if region not in self.regions:
                raise self.fail(["corridor", "constraints", RECYCLED_FLOOR, "regions", i],
                                f"{region!r} is not a region of this file")  # fmt: skip
        us, eu, floor = (found.get(k, {}) for k in CONSTRAINTS)
        return CorridorSpec(
            options=tuple(options), targets=tuple(targets),
            enabled=frozenset(k for k in CONSTRAINTS if found.get(k, {}).get("enabled")),
            us_defence_region=us.get("region", ""),
            us_defence_excluded=tuple(us.get("excluded_countries", ())),
            eu_region=eu.get("region", ""), eu_max_share=float(eu.get("max_share", 0.65)),
            recycled_share=float(floor.get("share", 0.0)),
            recycled_regions=tuple(floor.get("regions", ())),
            configured=frozenset(k for k in CONSTRAINTS if k in found),
        )  # fmt: skip

    def _option(self, obj: Mapping[str, Any], path: list[str | int]) -> Option:
        site = obj["site"]
        if site not in self.facilities and site not in self.ports:
            raise self.fail([*path, "site"], f"{site!r} is neither a facility nor a port of "
                            "this file; declare the site (capacity_t 0 for a new one)")  # fmt: skip
        if site in self.facilities and self.facilities[site].capacity_t is None:
            raise self.fail([*path, "site"], f"{site} has no capacity limit, so adding "
                            "capacity changes nothing; give it a capacity_t")  # fmt: skip
        if site in self.ports and self.ports[site].capacity_t is None:
            raise self.fail([*path, "site"], f"port {site} has no capacity limit, so adding "
                            "capacity changes nothing; give it a capacity_t")  # fmt: skip
        ident = obj.get("id") or f"{site}+{obj['capacity_t']:g}"
        return Option(ident, site, float(obj["capacity_t"]), float(obj["annual_cost_usd"]))

    def _target(self, obj: Mapping[str, Any], path: list[str | int]) -> Target:
        if "region" in obj and obj["region"] not in self.regions:
            raise self.fail([*path, "region"], f"{obj['region']!r} is not a region of this file")
        return Target(
            id=obj["id"], stage=obj.get("stage", ""), countries=tuple(obj.get("countries", ())),
            t=float(obj.get("t", 0.0)), region=obj.get("region", ""),
            share=float(obj.get("share", 0.0)),
        )  # fmt: skip
