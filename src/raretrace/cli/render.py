"""How the command line shows things: one format for masses and shares, tables that never cut
an id, and the JSON shapes of listed records.

Masses print in kg with thousands separators and at most three decimals (the gram), trailing
zeros dropped: ``3,300``, ``1,234.5``, ``0.001``. Shares print as percentages with one decimal
and always say what they are a share of. JSON keeps more: masses to the milligram (six
decimals), shares to 1e-9, exactly as ``raretrace trace --json`` does (``domain.views``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from raretrace.domain.model import RECYCLED, Facility, Lot, display_time
from raretrace.service.reads import LOT_FIELDS, facility_json, lot_json

__all__ = [
    "LOT_FIELDS",
    "MAGNET_ELEMENTS",
    "JsonReceipt",
    "Receipt",
    "discrepancies_table",
    "facilities_table",
    "facility_json",
    "join_shares",
    "kg",
    "lot_json",
    "lots_table",
    "print_table",
    "receipt_line",
    "share",
    "shown_of",
    "signed_kg",
    "signed_share",
    "table",
    "trace_text",
]


def kg(value: float) -> str:
    """A mass in kg as people read it: ``3,300``, ``1,234.5``, ``0.001`` (to the gram)."""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def signed_kg(value: float) -> str:
    """A mass difference in kg with its sign: ``+12.5``, ``-17.031``, ``0``."""
    text = kg(value)
    return text if text == "0" or text.startswith("-") else f"+{text}"


def share(value: float) -> str:
    """A share as a percentage with one decimal: ``42.0%``."""
    return f"{value:.1%}"


def signed_share(value: float) -> str:
    """A relative difference with its sign: ``-2.0%``, ``+0.6%``."""
    return f"{value:+.1%}"


def shown_of(shown: int, total: int, noun: str) -> str:
    """The note under a list cut by ``--limit``."""
    return f"showing {shown:,} of {total:,} {noun} (use --limit N for more, --limit 0 for all)"


class Receipt(Protocol):
    """A receipt whose measured mass differed from the shipped mass (stored or recomputed)."""

    @property
    def event_id(self) -> str: ...
    @property
    def lot(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def destination(self) -> str: ...
    @property
    def shipped_kg(self) -> float: ...
    @property
    def received_kg(self) -> float: ...


def receipt_line(d: Receipt) -> str:
    """``receipt r-17 of ALLOY-3 at JS-LINK (from CN-BAOTOU): shipped 1,000 kg, received
    980 kg (-20 kg, -2.0%)``."""
    delta = d.received_kg - d.shipped_kg
    relative = delta / d.shipped_kg if d.shipped_kg else 0.0
    return (
        f"receipt {d.event_id} of {d.lot} at {d.destination} (from {d.origin}): shipped"
        f" {kg(d.shipped_kg)} kg, received {kg(d.received_kg)} kg ({signed_kg(delta)} kg,"
        f" {signed_share(relative)})"
    )


def table(*headers: str, ids: Iterable[str] = (), numbers: Iterable[str] = ()) -> Table:
    """A table whose ``ids`` columns are never wrapped nor cut, ``numbers`` right-aligned."""
    id_set, number_set = set(ids), set(numbers)
    out = Table()
    for header in headers:
        out.add_column(
            header,
            no_wrap=header in id_set,
            overflow="ignore" if header in id_set else "fold",
            justify="right" if header in number_set else "left",
        )
    return out


def print_table(console: Console, rows: Table) -> None:
    """Print ``rows`` so that every id stays whole on one line.

    Into a pipe or file, the table takes its natural width (one row a line, nothing
    wrapped), whatever COLUMNS says: what is copied or grepped is the full id. On a terminal
    narrower than the table, only the other columns wrap; if the ids alone are wider than
    the terminal, the table is printed wider and the terminal folds the lines.
    """
    unbounded = console.options.update_width(1 << 20)
    needed = Measurement.get(console, unbounded, rows)
    width = max(console.width, needed.minimum) if console.is_terminal else needed.maximum
    if width == console.width:
        console.print(rows)
        return
    wide = Console(
        file=console.file, width=width, highlight=False, force_terminal=console.is_terminal,
        no_color=console.no_color,
    )  # fmt: skip
    wide.print(rows)


def join_shares(shares: dict[str, float], order: Sequence[str] | None = None) -> str:
    """``CN 61.2%, MY 38.8%``: largest first (or in ``order``)."""
    keys = order if order is not None else sorted(shares, key=lambda k: -shares[k])
    return ", ".join(f"{k} {share(shares[k])}" for k in keys)


# --- the listings and the trace ---------------------------------------------------------------


#: The elements a magnet buyer asks about first (NdFeB: neodymium, praseodymium, and the heavy
#: rare earths dysprosium and terbium).
MAGNET_ELEMENTS = ("Nd", "Pr", "Dy", "Tb")


def trace_text(console: Console, view: dict[str, Any], *, upstream_shown: int = 10) -> None:
    """``raretrace trace LOT``: the lot, its elements and their origins, its path, and the
    discrepancies in its lineage."""
    console.print(f"[bold]{view['lot']}[/]  {_where(view)}")
    rows = table(
        "element", "kg", "from country (share of this element)",
        "from mine (share of this element)", "recycled share",
        ids=("element",), numbers=("kg", "recycled share"),
    )  # fmt: skip
    recycled = view["recycled_share"]
    for element, mass in view["elements_kg"].items():
        rows.add_row(
            element,
            kg(mass),
            join_shares(view["origin"]["by_country"].get(element, {})),
            join_shares(view["origin"]["by_mine"].get(element, {})),
            share(recycled[element]) if element in recycled else "",
        )
    print_table(console, rows)
    example = _share_example(view)
    if example:
        console.print(f"shares are of each element's mass in this lot: {example}", markup=False)
    path = " → ".join(f"{s['stage']} {s['facility']} ({s['country']})" for s in view["path"])
    console.print(f"path: {path}", markup=False)
    _upstream(console, view, upstream_shown)


def _share_example(view: dict[str, Any]) -> str:
    """'61.2% of the Nd in this lot came from mines in CN': for a magnet element if the lot
    holds one (what buyers ask about), else for its heaviest element."""
    by_country = view["origin"]["by_country"]
    masses = {e: kg for e, kg in view["elements_kg"].items() if by_country.get(e)}
    if not masses:
        return ""
    magnet = [e for e in MAGNET_ELEMENTS if e in masses]
    element = magnet[0] if magnet else max(masses, key=lambda e: masses[e])
    country, part = max(by_country[element].items(), key=lambda item: item[1])
    if country == RECYCLED:  # scrap has no mine: it is its own origin (domain.provenance)
        return f"{share(part)} of the {element} in this lot is recycled material"
    return f"{share(part)} of the {element} in this lot came from mines in {country}"


def _upstream(console: Console, view: dict[str, Any], shown: int) -> None:
    found = view["discrepancies"]
    if not found:
        console.print(
            "discrepancies upstream: none (every receipt in this lot's lineage weighed what was"
            " shipped, within tolerance)",
            markup=False,
        )
        return
    console.print(
        f"discrepancies upstream: {len(found)} receipt(s) in this lot's lineage weighed more or"
        " less than was shipped, beyond tolerance:",
        markup=False,
    )
    for d in found[:shown]:
        console.print(f"  {receipt_line(JsonReceipt(d))}", markup=False)
    if len(found) > shown:
        console.print(
            f"  ... {len(found) - shown} more; `raretrace trace {view['lot']} --json` lists"
            " them all",
            markup=False,
        )


def _where(view: dict[str, Any]) -> str:
    mass = f"{view['form']}, {kg(view['mass_kg'])} kg"
    if "in_transit_to" in view:
        return (
            f"{mass}, in transit from {view['facility']} to {view['in_transit_to']} (consignee"
            f" {view['consignee']}, shipped {view['time']})"
        )
    return (
        f"{mass}, {view['status'].replace('_', ' ')} at {view['facility']} (custodian"
        f" {view['custodian']}, last event {view['time']})"
    )


class JsonReceipt:
    """A discrepancy as ``trace --json`` lists it, read as a ``Receipt``."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.event_id: str = doc["event_id"]
        self.lot: str = doc["lot"]
        self.origin: str = doc["from"]
        self.destination: str = doc["to"]
        self.shipped_kg: float = doc["shipped_kg"]
        self.received_kg: float = doc["received_kg"]


def lots_table(lots: Iterable[Lot]) -> Table:
    """The rows of ``raretrace lots``."""
    rows = table(
        "lot", "form", "kg", "status", "facility", "custodian", "last event",
        ids=("lot", "facility", "custodian", "last event"), numbers=("kg",),
    )  # fmt: skip
    for lot in lots:
        rows.add_row(
            lot.id, lot.form, kg(lot.mass_kg), lot.status, lot.facility, lot.custodian,
            display_time(lot.time),
        )  # fmt: skip
    return rows


def facilities_table(facilities: Iterable[Facility]) -> Table:
    """The rows of ``raretrace facilities``."""
    rows = table(
        "facility", "name", "stages", "country", "operator", "technology origin", "CAHRA",
        ids=("facility", "operator"),
    )  # fmt: skip
    for f in facilities:
        rows.add_row(
            f.id, f.name, "/".join(f.stages), f.country, f.operator, f.technology_origin,
            "yes" if f.cahra else "",
        )  # fmt: skip
    return rows


def discrepancies_table(found: Iterable[Receipt]) -> Table:
    """The rows of ``raretrace discrepancies``."""
    rows = table(
        "receive event", "lot", "from → to", "shipped kg", "received kg", "Δ kg", "Δ %",
        ids=("receive event", "lot", "from → to"),
        numbers=("shipped kg", "received kg", "Δ kg", "Δ %"),
    )  # fmt: skip
    for d in found:
        delta = d.received_kg - d.shipped_kg
        rows.add_row(
            d.event_id, d.lot, f"{d.origin} → {d.destination}", kg(d.shipped_kg),
            kg(d.received_kg), signed_kg(delta),
            signed_share(delta / d.shipped_kg if d.shipped_kg else 0.0),
        )  # fmt: skip
    return rows
