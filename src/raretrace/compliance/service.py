"""What ``raretrace check`` and ``raretrace portfolio`` call: one function each, which reads
the evidence from the ledger, checks the user's figures and runs the packs."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from raretrace.compliance.adapter import lot_evidence, lot_routes
from raretrace.compliance.context import CheckContext, instant
from raretrace.compliance.evidence import LotEvidence
from raretrace.compliance.facts import load_facts
from raretrace.compliance.packs import PACKS, eu_crma, run_packs
from raretrace.compliance.packs.eu_crma import StageVerdict
from raretrace.compliance.result import FAIL, NOT_APPLICABLE, CheckResult
from raretrace.domain import jsontext
from raretrace.domain.elements import RARE_EARTHS
from raretrace.domain.errors import ConfigError, NotFound
from raretrace.domain.model import Lot, parse_day
from raretrace.domain.registry import Registry
from raretrace.ledger.service import read_json
from raretrace.store import schema
from raretrace.store.store import Store


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The packs' answers for one lot as of one date."""

    lot: str
    as_of: date
    results: tuple[CheckResult, ...]

    @property
    def failed(self) -> bool:
        return any(r.status == FAIL for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "lot": self.lot,
            "as_of": self.as_of.isoformat(),
            "results": [r.to_json() for r in self.results],
        }


def parse_as_of(text: str | None) -> date:
    """``--as-of``: a calendar date YYYY-MM-DD (default: today, UTC)."""
    day = parse_day(text, "--as-of")
    return datetime.now(UTC).date() if day is None else day


def check_packs(names: Sequence[str]) -> tuple[str, ...]:
    """``--pack`` values, each a known pack (all of them when none is given)."""
    unknown = [n for n in names if n not in PACKS]
    if unknown:
        raise ConfigError(f"unknown pack {unknown[0]!r}; the packs are {', '.join(PACKS)}")
    return tuple(names) or PACKS


def check_value(value: float | None) -> float | None:
    """``--declared-value-usd``: a finite amount >= 0."""
    if value is not None and (not math.isfinite(value) or value < 0):
        raise ConfigError(
            f"--declared-value-usd {value} is not an amount; give a finite number of USD >= 0"
        )
    return value


def read_prices(path: Path | None) -> dict[str, float] | None:
    """``--prices FILE``: a JSON object of element -> USD per kg of contained element."""
    if path is None:
        return None
    doc: object = read_json(path)
    if not isinstance(doc, Mapping) or not doc:
        raise ConfigError(
            f'--prices {path}: must be a JSON object of element -> USD per kg, e.g. {{"Dy": 300.0}}'
        )
    prices = {}
    for element, price in doc.items():
        if element not in RARE_EARTHS:
            raise ConfigError(
                f"--prices {path}: {element!r} is not a rare-earth element symbol such as 'Dy'"
            )
        ok = isinstance(price, int | float) and not isinstance(price, bool)
        if not ok or not math.isfinite(price) or price < 0:
            raise ConfigError(
                f"--prices {path}: {element!r} is {price!r}; each price must be a finite"
                " number of USD per kg >= 0"
            )
        prices[str(element)] = float(price)
    return prices


def check_lot(
    store: Store,
    lot_id: str,
    *,
    as_of: date,
    packs: Sequence[str] = PACKS,
    declared_value_usd: float | None = None,
    prices: Mapping[str, float] | None = None,
) -> CheckReport:
    """Run ``packs`` on stored lot ``lot_id`` as of ``as_of``."""
    registry = store.registry()
    evidence = lot_evidence(store, lot_id, registry)
    ctx = CheckContext(evidence, registry, as_of, declared_value_usd, prices)
    return CheckReport(lot_id, as_of, tuple(run_packs(ctx, packs)))


# -- raretrace portfolio (eu-crma, Regulation (EU) 2024/1252 Art. 5(1)(b)) --------------------


@dataclass(frozen=True, slots=True)
class PortfolioQuery:
    """Which lots make the portfolio: ``lots`` by id, or every lot ``received_by`` a
    participant from ``start`` to ``end`` (both days included)."""

    lots: tuple[str, ...] = ()
    received_by: str | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class PortfolioReport:
    """The eu-crma benchmark on a portfolio: per strategic element and stage each country's
    share, the element-stages above the limit, the recycled share, and the overall result."""

    query: PortfolioQuery
    lots: tuple[str, ...]
    #: Strategic element -> its kg in the portfolio (the weights of the shares).
    elements_kg: dict[str, float]
    stages: tuple[StageVerdict, ...]
    recycled_share: float | None
    recycling_benchmark: float
    result: CheckResult

    @property
    def failed(self) -> bool:
        return self.result.status == FAIL

    def to_json(self) -> dict[str, Any]:
        q = self.query
        return {
            "lots": list(self.lots),
            "received_by": q.received_by,
            "from": q.start.isoformat() if q.start else None,
            "to": q.end.isoformat() if q.end else None,
            "elements_kg": self.elements_kg,
            "stages": [v.to_json() for v in self.stages],
            "recycled": {"share": self.recycled_share, "benchmark": self.recycling_benchmark},
            "result": self.result.to_json(),
        }


def portfolio_query(
    lots: Sequence[str], received_by: str | None, start: str | None, end: str | None
) -> PortfolioQuery:
    """The portfolio's arguments checked: either lots, or a receiver and a whole period."""
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    usage = "give --lot LOT (repeatable) or --received-by PARTICIPANT --from DATE --to DATE"
    period = received_by is not None or first is not None or last is not None
    if lots and period:
        raise ConfigError(f"--lot and --received-by select a portfolio two ways; {usage}")
    if lots:
        twice = next((lot for i, lot in enumerate(lots) if lot in lots[:i]), None)
        if twice is not None:
            raise ConfigError(f"--lot {twice!r} is given twice; give each lot once")
        return PortfolioQuery(lots=tuple(lots))
    if received_by is None or first is None or last is None:
        missing = [o for o, v in (("--received-by", received_by), ("--from", first),
                                  ("--to", last)) if v is None]  # fmt: skip
        raise ConfigError(f"no portfolio: {', '.join(missing)} missing; {usage}")
    if first > last:
        raise ConfigError(
            f"--from {first} is after --to {last}; give a period whose first day is not after"
            " its last"
        )
    return PortfolioQuery(received_by=received_by, start=first, end=last)


def portfolio(store: Store, query: PortfolioQuery) -> PortfolioReport:
    """Judge the eu-crma benchmark on the portfolio ``query`` selects. A lot given by id
    weighs what it held when it was made; a receipt weighs the kg received, with the lot's
    composition (which receipts, adjustments and partial use scale, never change)."""
    facts = load_facts(eu_crma.PACK)
    with store.engine.connect() as conn:
        if query.received_by is None:
            weights = _weights_as_made(store, conn, query.lots)
        else:
            _known_participant(store.registry(conn), query.received_by)
            weights = _weights_received(store, conn, query)
    evidence = [_portfolio_evidence(lot, kg) for lot, kg, _ in weights]
    ids = [lot.id for lot, _, _ in weights]
    events = tuple(dict.fromkeys(e for _, _, evs in weights for e in evs))
    if not ids:
        result = CheckResult(
            eu_crma.PACK, facts.text("rule"), NOT_APPLICABLE,
            f"no lots received by {query.received_by} from {query.start} to {query.end}:"
            " nothing to judge", facts_reviewed=facts.reviewed,
        )  # fmt: skip
    else:
        result = replace(eu_crma.portfolio_result(evidence, facts, ids), events=events)
    strategic = facts.strings("strategic_elements")
    totals = {e: sum(ev.elements_kg.get(e, 0.0) for ev in evidence) for e in strategic}
    return PortfolioReport(
        query=query, lots=tuple(ids), elements_kg={e: kg for e, kg in totals.items() if kg > 0},
        stages=tuple(eu_crma.stage_verdicts(evidence, facts)),
        recycled_share=eu_crma.recycled_share(evidence, facts),
        recycling_benchmark=facts.number("recycling_benchmark"), result=result,
    )  # fmt: skip


#: (lot, its weight per element in kg, the events the weight rests on)
_Weighted = tuple[Lot, dict[str, float], tuple[str, ...]]


def _weights_as_made(store: Store, conn: Connection, lot_ids: Sequence[str]) -> list[_Weighted]:
    found = {lot_id: lot for lot_id, (lot, _) in store.lots_by_id(conn, lot_ids).items()}
    for lot_id in lot_ids:
        if lot_id not in found:
            store.lot(lot_id)  # raises NotFound with the usual hint
    made = _as_made(conn, found.values())
    return [(found[i], made[i].elements_kg, (made[i].event,)) for i in lot_ids]


def _weights_received(store: Store, conn: Connection, query: PortfolioQuery) -> list[_Weighted]:
    assert query.start is not None and query.end is not None
    ev, links = schema.events, schema.lot_events
    rows = conn.execute(
        select(ev.c.id, links.c.lot, links.c.mass_kg)
        .join(links, links.c.seq == ev.c.seq)
        .where(ev.c.type == "receive", ev.c.actor == query.received_by,
               links.c.role == "received", ev.c.time >= instant(query.start),
               ev.c.time < instant(query.end + timedelta(days=1)))
        .order_by(ev.c.seq)
    ).all()  # fmt: skip
    received: dict[str, tuple[float, list[str]]] = {}
    for event_id, lot_id, kg in rows:
        total, events = received.get(lot_id, (0.0, []))
        received[lot_id] = (total + kg, [*events, event_id])
    lots = {lot_id: lot for lot_id, (lot, _) in store.lots_by_id(conn, received).items()}
    made = _as_made(conn, lots.values())
    out: list[_Weighted] = []
    for lot_id, (kg, events) in received.items():
        as_made = made[lot_id]
        scale = kg / as_made.mass_kg
        weights = {e: v * scale for e, v in as_made.elements_kg.items()}
        out.append((lots[lot_id], weights, tuple(events)))
    return out


@dataclass(frozen=True, slots=True)
class _AsMade:
    event: str
    mass_kg: float
    elements_kg: dict[str, float]


def _as_made(conn: Connection, lots: Iterable[Lot]) -> dict[str, _AsMade]:
    """Each lot as the event that made it recorded it (its output spec)."""
    lots = list(lots)
    seqs = sorted({lot.created_seq for lot in lots})
    bodies: dict[int, Any] = {}
    for i in range(0, len(seqs), 900):
        query = select(schema.events.c.seq, schema.events.c.body)
        for seq, body in conn.execute(query.where(schema.events.c.seq.in_(seqs[i : i + 900]))):
            bodies[seq] = jsontext.loads(body)
    out = {}
    for lot in lots:
        body = bodies[lot.created_seq]
        spec = next(o for o in body["outputs"] if o["lot"] == lot.id)
        elements = {e: float(kg) for e, kg in spec["elements_kg"].items() if e != "other"}
        out[lot.id] = _AsMade(body["id"], float(spec["mass_kg"]), elements)
    return out


def _portfolio_evidence(lot: Lot, elements_kg: dict[str, float]) -> LotEvidence:
    """What eu-crma reads about one lot of a portfolio: its weights, routes and mines."""
    return LotEvidence(
        lot=lot.id, form=lot.form, mass_kg=sum(elements_kg.values()), elements_kg=elements_kg,
        custodian=lot.custodian, facility=lot.facility, facility_country="",
        routes=lot_routes(lot),
        by_mine={e: dict(s) for e, s in lot.provenance.by_mine.items()},
    )  # fmt: skip


def _known_participant(registry: Registry, participant: str) -> None:
    """NotFound naming ``participant`` and the nearest registered ids, unless registered."""
    if participant in registry.participants:
        return
    near = difflib.get_close_matches(participant, registry.participants, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(near)}? " if near else ""
    raise NotFound(
        f"participant {participant!r} is not in the registry; {hint}give the id of the"
        " participant that received the lots (a receive event's actor)"
    )
