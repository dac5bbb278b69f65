"""The RMI Additional Minerals Reporting Template (AMRT, "Rare Earth Elements" since 1.3) as
raretrace fills it from the ledger, and the workbook it writes and reads back.

What follows the RMI template: the sheet names ``Declaration``, ``Smelter List`` and ``Mine
List``; the Declaration's fields (company name, declaration scope, description of scope,
company unique id and its authority, address, contact, authorizer, effective date, the
mineral reporting scope "Rare Earth Elements" and questions 1 and 2); the Smelter List's and
Mine List's column headings. What raretrace adds: a ``Country of Origin`` sheet (the mined
material's countries with their shares of the rare-earth mass delivered, which the template
asks about only as text), the facility's raretrace id as the smelter identification (source
"raretrace registry") and its stage, the mine shares, and a ``raretrace`` sheet with the
participant, period and deliveries the figures rest on. The cell positions are raretrace's
own (the RMI workbook is not copied: its licence does not allow that), so this is a file in
the template's shape for people and tools that read it by heading, not a filled-in copy of
RMI's workbook. docs/interchange.md lists every cell.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from raretrace.domain.elements import RARE_EARTHS
from raretrace.domain.errors import ValidationError
from raretrace.domain.model import RECYCLED, Facility
from raretrace.domain.registry import Registry

MINERAL = "Rare Earth Elements"
TEMPLATE = "RMI AMRT 1.3 (shape)"
#: The facility stages listed as smelters/refiners/processors (RMI: the pinch point where
#: material from many mines is processed): separation refineries, metal reduction, alloying,
#: magnet making, and recyclers, which refine secondary feed.
PROCESSOR_STAGES = ("separation", "reduction", "alloying", "magnet", "recycling")
SHARE_DIGITS = 6

DECLARATION_FIELDS = (
    ("company_name", "Company Name (*):"),
    ("declaration_scope", "Declaration Scope or Class (*):"),
    ("scope_description", "Description of Scope:"),
    ("company_id", "Company Unique ID:"),
    ("company_id_authority", "Company Unique ID Authority:"),
    ("address", "Address:"),
    ("contact_name", "Contact Name (*):"),
    ("authorizer", "Authorizer (*):"),
    ("effective_date", "Effective Date (*):"),
    ("mineral_scope", "Mineral Reporting Scope (*):"),
    ("q1", f"1) Is any {MINERAL} intentionally added or used in the product(s) or in the"
     " production process? (*)"),
    ("q2", f"2) Does any {MINERAL} remain in the product(s)? (*)"),
)  # fmt: skip
SMELTER_COLUMNS = (
    "Metal (*)", "Smelter Look-up (*)", "Smelter Name (*)", "Smelter Country (*)",
    "Smelter Identification", "Source of Smelter Identification Number",
    "Smelter Facility Location: State / Province",
    "Does 100% of the smelter's feedstock originate from recycled or scrap sources?",
    "Comments", "raretrace stage",
)  # fmt: skip
MINE_COLUMNS = (
    "Metal (*)", "Mine Name (*)", "Mine Identification", "Source of Mine Identification Number",
    "Mine Country (*)", "Mine Facility Location: State / Province",
    "raretrace share of rare-earth mass", "raretrace rare-earth kg",
)  # fmt: skip
COUNTRY_COLUMNS = ("Metal", "Country of origin", "Share of rare-earth mass", "Rare-earth kg")


@dataclass(frozen=True, slots=True)
class Smelter:
    facility: str
    name: str
    country: str
    region: str
    stage: str
    recycled_feed: bool


@dataclass(frozen=True, slots=True)
class Origin:
    """A mine (or ``recycled``) or country, with its share and kg of the rare earths."""

    key: str
    name: str
    country: str
    share: float
    kg: float


@dataclass(frozen=True, slots=True)
class Amrt:
    """Everything the workbook holds."""

    declaration: dict[str, str]
    smelters: tuple[Smelter, ...]
    mines: tuple[Origin, ...]
    countries: tuple[Origin, ...]
    info: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "declaration": dict(self.declaration),
            "smelters": [_fields(s) for s in self.smelters],
            "mines": [_fields(m) for m in self.mines],
            "countries": [_fields(c) for c in self.countries],
            "info": dict(self.info),
        }  # fmt: skip


def _fields(value: object) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__slots__}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One shipment to a customer: the lot, the kg shipped, the rare-earth kg per element
    in it, and the lot's origin shares (``by_mine``/``by_country`` per element)."""

    event: str
    lot: str
    ree_kg: dict[str, float]
    by_mine: Mapping[str, Mapping[str, float]]
    by_country: Mapping[str, Mapping[str, float]]


def ree_kg(shipped_kg: float, mass_kg: float, elements: Mapping[str, float]) -> dict[str, float]:
    """The rare-earth kg per element in ``shipped_kg`` of a lot whose ``elements`` weighed
    ``mass_kg`` together (the ratio is constant over the lot's life)."""
    return {e: shipped_kg * kg / mass_kg for e, kg in elements.items() if e in RARE_EARTHS and kg}


def _shares(deliveries: Sequence[Delivery], by: str, registry: Registry) -> tuple[Origin, ...]:
    totals: dict[str, float] = {}
    for d in deliveries:
        shares = d.by_mine if by == "mine" else d.by_country
        for element, kg in d.ree_kg.items():
            for key, share in shares.get(element, {}).items():
                totals[key] = totals.get(key, 0.0) + kg * share
    whole = math.fsum(totals.values())
    out = []
    for key, kg in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])):
        site = registry.facilities.get(key) if by == "mine" else None
        if by == "mine":
            name = site.name if site else ("recycled or scrap" if key == RECYCLED else key)
            country = site.country if site else ""
        else:
            name = country = key
        share = round(kg / whole, SHARE_DIGITS) if whole else 0.0
        out.append(Origin(key, name, country, share, round(kg, 6)))
    return tuple(out)


def smelter_list(facilities: Sequence[Facility]) -> tuple[Smelter, ...]:
    """The processors among ``facilities``, in id order."""
    chosen = [f for f in facilities if set(f.stages) & set(PROCESSOR_STAGES)]
    return tuple(
        Smelter(f.id, f.name, f.country, f.region, next(s for s in f.stages
                                                        if s in PROCESSOR_STAGES),
                "recycling" in f.stages)
        for f in sorted(chosen, key=lambda f: f.id)
    )  # fmt: skip


def build_amrt(
    *,
    participant: str,
    registry: Registry,
    deliveries: Sequence[Delivery],
    lineage: Sequence[Facility],
    period: tuple[str, str],
    effective_date: str,
) -> Amrt:
    """The AMRT of ``participant`` for its ``deliveries`` in ``period`` (first, last day)."""
    company = registry.participants.get(participant)
    if company is None:
        raise ValidationError("amrt", f"participant {participant!r}", "is not registered")
    declaration = {
        "company_name": company.name,
        "declaration_scope": "User defined",
        "scope_description": f"{MINERAL} delivered by {company.name} from {period[0]} to"
        f" {period[1]}: {len(deliveries)} shipments recorded in the raretrace ledger",
        "company_id": company.id,
        "company_id_authority": "raretrace registry",
        "address": company.country,
        "contact_name": company.name,
        "authorizer": company.name,
        "effective_date": effective_date,
        "mineral_scope": MINERAL,
        "q1": "Yes" if deliveries else "No",
        "q2": "Yes" if deliveries else "No",
    }
    info = {
        "participant": participant,
        "from": period[0],
        "to": period[1],
        "deliveries": str(len(deliveries)),
        "events": " ".join(d.event for d in deliveries),
        "lots": " ".join(sorted({d.lot for d in deliveries})),
        "template": TEMPLATE,
    }
    return Amrt(
        declaration, smelter_list(lineage), _shares(deliveries, "mine", registry),
        _shares(deliveries, "country", registry), info,
    )  # fmt: skip


# -- the workbook --------------------------------------------------------------------------


def workbook_bytes(amrt: Amrt) -> bytes:
    """The .xlsx file of ``amrt`` (docs/interchange.md lists the cells)."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Declaration"
    sheet["B2"] = f"Additional Minerals Reporting Template: {MINERAL}"
    sheet["B2"].font = Font(bold=True)
    for i, (key, label) in enumerate(DECLARATION_FIELDS, start=4):
        sheet.cell(row=i, column=2, value=label)
        sheet.cell(row=i, column=4, value=amrt.declaration.get(key, ""))
    _table(book.create_sheet("Smelter List"), SMELTER_COLUMNS, [
        [MINERAL, "Smelter not listed", s.name, s.country, s.facility, "raretrace registry",
         s.region, "Yes" if s.recycled_feed else "No", "", s.stage]
        for s in amrt.smelters
    ])  # fmt: skip
    _table(book.create_sheet("Mine List"), MINE_COLUMNS, [
        [MINERAL, m.name, m.key, "raretrace registry", m.country, "", m.share, m.kg]
        for m in amrt.mines
    ])  # fmt: skip
    _table(book.create_sheet("Country of Origin"), COUNTRY_COLUMNS, [
        [MINERAL, c.key, c.share, c.kg] for c in amrt.countries
    ])  # fmt: skip
    _table(book.create_sheet("raretrace"), ("field", "value"), sorted(amrt.info.items()))
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _table(sheet: Any, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from openpyxl.styles import Font

    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))


def read_workbook(data: bytes, source: str) -> Amrt:
    """An AMRT workbook raretrace wrote (or one a person filled in with the same sheets and
    headings) back as values; ValidationError naming the sheet or cell that is missing."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:
        raise ValidationError(
            "amrt-format", source, f"not an Excel .xlsx workbook ({type(exc).__name__})"
        ) from None
    for name in ("Declaration", "Smelter List", "Mine List", "Country of Origin"):
        if name not in book.sheetnames:
            raise ValidationError(
                "amrt-format", source, f"has no {name!r} sheet; is it an AMRT workbook?"
            )
    declaration = _declaration(book["Declaration"], source)
    smelters = tuple(
        Smelter(_text(r["Smelter Identification"]), _text(r["Smelter Name (*)"]),
                _text(r["Smelter Country (*)"]),
                _text(r.get("Smelter Facility Location: State / Province")),
                _text(r.get("raretrace stage")), r[SMELTER_COLUMNS[7]] == "Yes")
        for r in _rows(book["Smelter List"], SMELTER_COLUMNS[:8], source)
    )  # fmt: skip
    mines = tuple(
        Origin(_text(r["Mine Identification"]), _text(r["Mine Name (*)"]),
               _text(r["Mine Country (*)"]), _number(r.get(MINE_COLUMNS[6]), source),
               _number(r.get(MINE_COLUMNS[7]), source))
        for r in _rows(book["Mine List"], MINE_COLUMNS[:5], source)
    )  # fmt: skip
    countries = tuple(
        Origin(_text(r["Country of origin"]), _text(r["Country of origin"]),
               _text(r["Country of origin"]),
               _number(r["Share of rare-earth mass"], source),
               _number(r.get("Rare-earth kg"), source))
        for r in _rows(book["Country of Origin"], COUNTRY_COLUMNS[:3], source)
    )  # fmt: skip
    info = {}
    if "raretrace" in book.sheetnames:
        rows = _rows(book["raretrace"], ("field", "value"), source)
        info = {_text(r["field"]): _text(r["value"]) for r in rows}
    return Amrt(declaration, smelters, mines, countries, info)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _number(value: object, source: str) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError("amrt-format", source, f"a share or mass is {value!r}, not a number")
    return float(value)


def _declaration(sheet: Any, source: str) -> dict[str, str]:
    by_label = {
        str(sheet.cell(row=r, column=2).value or "").strip(): sheet.cell(row=r, column=4).value
        for r in range(1, sheet.max_row + 1)
    }
    out = {}
    for key, label in DECLARATION_FIELDS:
        if label not in by_label:
            raise ValidationError(
                "amrt-format", f"{source} sheet 'Declaration'", f"has no row {label!r} in column B"
            )
        out[key] = _text(by_label[label])
    return out


def _rows(sheet: Any, required: Sequence[str], source: str) -> list[dict[str, Any]]:
    grid = [list(r) for r in sheet.iter_rows(values_only=True)]
    if not grid:
        raise ValidationError("amrt-format", f"{source} sheet {sheet.title!r}", "is empty")
    header = [str(h).strip() if h is not None else "" for h in grid[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationError(
            "amrt-format", f"{source} sheet {sheet.title!r}", f"has no column(s) {missing}"
        )
    rows = []
    for values in grid[1:]:
        if all(v is None or v == "" for v in values):
            continue
        rows.append({h: v for h, v in zip(header, values, strict=False) if h})
    return rows
