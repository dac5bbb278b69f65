"""Open data: the ledger's flows and stage outputs as public tables by period, stage, country
and element, with every cell that fewer than k distinct participants stand behind suppressed
(docs/analytics.md, *Open data*).

The rule: a cell's kg is published only when at least k participants contributed to it —
for a stage output, the actors of the extractions and transforms summed in it; for a flow
between two places, at least k shippers *and* at least k receivers (a single receiver's
intake would otherwise be readable). A concentration row (shares, HHI) is published only when
no cell of its group is suppressed, since shares of the others would give the missing kg
back. Nothing else sums over suppressed cells. Pure: it reads the flow pass and the stage
outputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from raretrace.analytics.concentration import LIMIT, StageOutputs
from raretrace.analytics.engine import FlowEngine
from raretrace.analytics.indices import concentration
from raretrace.domain.elements import ELEMENT_ORDER
from raretrace.domain.registry import Registry

__all__ = ["COLUMNS", "OpenTables", "agreement_rows", "bucket_by", "open_tables"]

Row = dict[str, Any]

#: Per table: (column, type, description), in the order written. Types are Table Schema
#: types (Frictionless Data): string, number, integer, boolean.
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "flows": [
        ("period", "string",
         "the period (month YYYY-MM, quarter YYYY-Qn or "
         "year YYYY) of the shipment or transform"),
        ("element", "string",
         "element symbol (the rare earths, Th, U); "
         "kg are of the element, not oxide"),
        ("kind", "string", "ship: shipments between facilities; transform: processing at a plant"),
        ("from_stage", "string", "stage the material left (mine, separation, warehouse ...)"),
        ("from_country", "string", "ISO 3166-1 alpha-2 country it left"),
        ("to_stage", "string", "stage it went to"),
        ("to_country", "string", "country it went to"),
        ("kg", "number", "kg of the element moved; empty when suppressed"),
        ("participants", "integer",
         "the smaller of distinct senders and distinct "
         "receivers behind the cell; empty when suppressed"),
        ("suppressed", "boolean", "true when fewer than k participants stand behind the cell"),
    ],
    "stage_output": [
        ("period", "string", "the period of the extractions and transforms"),
        ("element", "string", "element symbol"),
        ("stage", "string",
         "stage whose output this is "
         "(mine: extraction; processing stages: transforms)"),
        ("country", "string", "country of the facility"),
        ("kg", "number", "kg of the element in the stage's outputs; empty when suppressed"),
        ("participants", "integer",
         "distinct participants whose events "
         "are summed; empty when suppressed"),
        ("suppressed", "boolean", "true when fewer than k participants stand behind the cell"),
    ],
    "concentration": [
        ("period", "string", "the period"),
        ("element", "string", "element symbol"),
        ("stage", "string", "stage"),
        ("countries", "integer", "countries with output"),
        ("hhi", "number",
         "Herfindahl-Hirschman index, sum of (100 "
         "x share)^2, 0-10,000; empty when suppressed"),
        ("top_country", "string", "the country with the largest share; empty when suppressed"),
        ("top_share", "number", "its share (0-1); empty when suppressed"),
        ("over_65", "boolean",
         "top_share above 0.65 (EU CRMA "
         "Art. 5(1)(b)); empty when suppressed"),
        ("suppressed", "boolean", "true when any country's cell of this group is suppressed"),
    ],
    "facilities": [
        ("id", "string", "facility id in the ledger's registry"),
        ("name", "string", "name"),
        ("operator", "string", "operating participant's id"),
        ("country", "string", "ISO 3166-1 alpha-2"),
        ("stages", "string", "stages it is registered for, primary first, separated by '|'"),
        ("technology_origin", "string", "country whose technology the plant runs on"),
        ("region", "string", "region, when registered"),
        ("lat", "number", "latitude (WGS 84), when registered"),
        ("lon", "number", "longitude (WGS 84), when registered"),
        ("capacity_t_per_year", "number", "registered capacity in tonnes a year, when registered"),
        ("cahra", "boolean", "in a conflict-affected or high-risk area"),
    ],
    "licences": [
        ("id", "string", "licence id"),
        ("holder", "string", "holding participant"),
        ("kind", "string", "operating, residue-storage or export"),
        ("facility", "string", "facility licensed (operating, residue-storage)"),
        ("regime", "string", "export-control regime (export licences)"),
        ("authority", "string", "granting participant"),
        ("valid_from", "string", "RFC 3339 time from which it holds"),
        ("valid_until", "string", "RFC 3339 time until which it holds (empty: no expiry)"),
    ],
    "agreements": [
        ("id", "string", "agreement id"),
        ("kind", "string", "offtake, supply, joint-venture, technology-transfer or investment"),
        ("status", "string", "approved or approved-with-conditions (only these are disclosed)"),
        ("parties", "string", "the parties' names, separated by '|'"),
        ("party_countries", "string", "the parties' ISO 3166-1 countries, in the same order"),
        ("jurisdictions", "string", "jurisdictions (ISO 3166-1 / 3166-2), separated by '|'"),
        ("decided", "string", "RFC 3339 time of the council's decision"),
        ("conditions", "string", "the decision's conditions, separated by '|'"),
        ("title", "string", "title, when the council made it public"),
        ("elements", "string", "elements covered, separated by '|', when made public"),
        ("volumes", "string", "volumes (JSON list of material, tonnes, per), when made public"),
        ("signed", "string", "date signed, when the dates were made public"),
        ("documents", "string", "documents' SHA-256 digests, separated by '|', when made public"),
        ("public_fields", "string", "the fields disclosed, separated by '|'"),
    ],
}  # fmt: skip


def bucket_by(period: str) -> Callable[[str], str]:
    """A stored time's period label: ``2025-01``, ``2025-Q1`` or ``2025``."""
    if period == "month":
        return lambda t: t[:7]
    if period == "year":
        return lambda t: t[:4]
    return lambda t: f"{t[:4]}-Q{(int(t[5:7]) + 2) // 3}"


@dataclass(frozen=True, slots=True)
class OpenTables:
    """The tables, each a list of rows keyed as ``COLUMNS``."""

    k: int
    period: str
    tables: dict[str, list[Row]]


def _order(e: str) -> int:
    return ELEMENT_ORDER[e]


def _flows(engine: FlowEngine, k: int) -> list[Row]:
    cells: dict[tuple[str, str, str, str, str, str, str], list[Any]] = {}
    for key, els in engine.links.items():
        bucket, kind, a, b = key
        if (a[0], a[1]) == (b[0], b[1]):
            continue
        senders, receivers = engine.link_actors[key]
        for e, kg in els.items():
            cell = cells.setdefault((bucket, e, kind, a[0], a[1], b[0], b[1]), [0.0, set(), set()])
            cell[0] += kg
            cell[1] |= senders
            cell[2] |= receivers
    rows = []
    for (bucket, e, kind, fs, fc, ts, tc), (kg, senders, receivers) in sorted(
        cells.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]), kv[0][2:])
    ):
        n = min(len(senders), len(receivers))
        hidden = n < k
        rows.append({
            "period": bucket, "element": e, "kind": kind, "from_stage": fs, "from_country": fc,
            "to_stage": ts, "to_country": tc, "kg": None if hidden else round(kg, 6),
            "participants": None if hidden else n, "suppressed": hidden,
        })  # fmt: skip
    return rows


def _outputs(outputs: StageOutputs, k: int) -> tuple[list[Row], list[Row]]:
    rows: list[Row] = []
    groups: dict[tuple[str, str, str], dict[str, tuple[float, int]]] = {}
    for (bucket, e, stage, country), kg in sorted(
        outputs.kg.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]), kv[0][2:])
    ):
        n = len(outputs.actors.get((bucket, e, stage, country), ()))
        hidden = n < k
        rows.append({
            "period": bucket, "element": e, "stage": stage, "country": country,
            "kg": None if hidden else round(kg, 6), "participants": None if hidden else n,
            "suppressed": hidden,
        })  # fmt: skip
        groups.setdefault((bucket, e, stage), {})[country] = (kg, n)
    conc: list[Row] = []
    for (bucket, e, stage), cells in groups.items():
        hidden = any(n < k for _, n in cells.values())
        c = concentration({country: kg for country, (kg, _) in cells.items()})
        conc.append({
            "period": bucket, "element": e, "stage": stage, "countries": len(cells),
            "hhi": None if hidden else round(c.hhi, 1),
            "top_country": None if hidden else c.top_country,
            "top_share": None if hidden else round(c.top_share, 6),
            "over_65": None if hidden else c.top_share > LIMIT, "suppressed": hidden,
        })  # fmt: skip
    return rows, conc


def _registry(registry: Registry) -> tuple[list[Row], list[Row]]:
    facilities = [
        {"id": f.id, "name": f.name, "operator": f.operator, "country": f.country,
         "stages": "|".join(f.stages), "technology_origin": f.technology_origin,
         "region": f.region or None, "lat": f.lat, "lon": f.lon,
         "capacity_t_per_year": f.capacity_t_per_year, "cahra": f.cahra}
        for f in sorted(registry.facilities.values(), key=lambda f: f.id)
    ]  # fmt: skip
    # Which shipments or lots an export licence covers is not published: it would name them.
    licences = [
        {"id": x.id, "holder": x.holder, "kind": x.kind, "facility": x.facility,
         "regime": x.regime, "authority": x.authority, "valid_from": x.valid_from,
         "valid_until": x.valid_until}
        for x in sorted(registry.licences.values(), key=lambda x: x.id)
    ]  # fmt: skip
    return facilities, licences


def agreement_rows(registry: Registry) -> list[Row]:
    """The disclosed agreements (approved, with or without conditions): exactly what the
    public sees of each (``Agreement.public_json``), flattened to one row; a field the council
    did not make public is empty. Disclosure is the council's decision, so no k applies."""
    rows: list[Row] = []
    for agreement in sorted(registry.agreements.values(), key=lambda a: a.id):
        shown = agreement.public_json()
        if "status" not in shown:
            continue  # not disclosed
        parties, last = shown["parties"], shown["history"][-1]
        dates, volumes = shown.get("dates"), shown.get("volumes")
        rows.append({
            "id": shown["id"], "kind": shown["kind"], "status": shown["status"],
            "parties": "|".join(p["name"] for p in parties),
            "party_countries": "|".join(p["country"] for p in parties),
            "jurisdictions": "|".join(shown["jurisdictions"]),
            "decided": last.get("time"), "conditions": "|".join(last.get("conditions", ())),
            "title": shown.get("title"),
            "elements": "|".join(shown["elements"]) if "elements" in shown else None,
            "volumes": json.dumps(volumes, separators=(",", ":")) if volumes else None,
            "signed": dates.get("signed") if dates else None,
            "documents": "|".join(d["sha256"] for d in shown["documents"])
            if "documents" in shown else None,
            "public_fields": "|".join(shown["public_fields"]),
        })  # fmt: skip
    return rows


def open_tables(
    engine: FlowEngine, outputs: StageOutputs, registry: Registry, *, k: int, period: str
) -> OpenTables:
    """The public tables of a pass bucketed by ``bucket_by(period)`` with participants kept."""
    stage_output, conc = _outputs(outputs, k)
    facilities, licences = _registry(registry)
    return OpenTables(k, period, {
        "flows": _flows(engine, k), "stage_output": stage_output, "concentration": conc,
        "facilities": facilities, "licences": licences, "agreements": agreement_rows(registry),
    })  # fmt: skip
