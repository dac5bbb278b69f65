"""Registry records from spreadsheet rows (``raretrace registry import``): one row a record,
the header naming the registry JSON fields (docs/formats.md, Registry).

Cells become JSON values by field: numbers for ``lat``, ``lon``, ``capacity_t_per_year``;
``true``/``false`` (or yes/no, 1/0) for ``cahra``; lists (``stage``, ``roles``, ``standards``,
``events``, ``lots``, ``findings``) separated by ``;``; ``keys`` as the JSON list
``raretrace keygen`` prints; times as RFC 3339 text or workbook dates (taken as UTC). Then each
row is checked by the registry's own parser against the ledger's registry and the rows above
it, so a row breaks exactly the rules a registry file would; the error names the row, the
column and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from raretrace.domain.errors import ValidationError
from raretrace.domain.registry import Registry, parse_record
from raretrace.interop.sheets import Cell, Row, Table, cell_text

#: --kind → (registry list, registry event type, the fields a row may have).
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "participants": ("participant", ("id", "name", "country", "subdivision", "roles", "keys")),
    "facilities": ("facility", (
        "id", "name", "operator", "country", "subdivision", "stage", "technology_origin",
        "cahra", "region", "lat", "lon", "capacity_t_per_year",
    )),
    "accreditations": ("accreditation", ("id", "auditor", "standards", "valid_from",
                                         "valid_until")),
    "licences": ("licence", (
        "id", "holder", "kind", "facility", "regime", "authority", "events", "lots",
        "valid_from", "valid_until",
    )),
    "audits": ("audit", (
        "id", "facility", "auditor", "standard", "date", "valid_until", "result", "findings",
    )),
}  # fmt: skip
_NUMBERS = {"lat", "lon", "capacity_t_per_year"}
_LISTS = {"roles", "standards", "events", "lots", "findings"}
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row was refused: its number, the column (None: the row as a whole), why."""

    row: int
    column: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}

    def line(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class CheckedRows:
    """The good rows as registry JSON records (in sheet order), and the bad ones."""

    kind: str
    records: tuple[dict[str, Any], ...]
    errors: tuple[RowError, ...]


class _CellError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def check_header(table: Table, kind: str) -> None:
    """ValidationError unless every header names a field of ``kind`` and ``id`` is there."""
    fields = KINDS[kind][1]
    unknown = [h for h in table.header if h not in fields]
    if unknown or "id" not in table.header:
        problem = (
            f"column(s) {unknown} are not fields of a {KINDS[kind][0]} record"
            if unknown
            else "there is no 'id' column"
        )
        raise ValidationError(
            "sheet-format",
            table.source,
            f"{problem}; the header names registry fields: {', '.join(fields)}"
            " (docs/formats.md, Registry)",
        )


def _number(column: str, value: Cell) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _CellError(column, f"must be a number, got {cell_text(value)!r}")
    try:
        return float(value)
    except ValueError:
        raise _CellError(column, f"must be a number, got {value!r}") from None


def _flag(column: str, value: Cell) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise _CellError(column, f"must be true or false, got {cell_text(value)!r}")


def _items(value: Cell) -> list[str]:
    return [part.strip() for part in cell_text(value).split(";") if part.strip()]


def _keys(column: str, value: Cell) -> Any:
    try:
        return json.loads(cell_text(value))
    except ValueError:
        raise _CellError(
            column, "must be the JSON list of key entries `raretrace keygen` prints"
        ) from None


_CONVERT: dict[str, Callable[[str, Cell], Any]] = {
    **{name: _number for name in _NUMBERS},
    "cahra": _flag,
    "keys": _keys,
    **{name: lambda _c, v: _items(v) for name in _LISTS},
    "stage": lambda _c, v: (lambda items: items[0] if len(items) == 1 else items)(_items(v)),
}


def row_record(row: Row) -> dict[str, Any]:
    """The JSON record of one row (cells converted by field)."""
    record: dict[str, Any] = {}
    for column, value in row.cells.items():
        convert = _CONVERT.get(column)
        record[column] = convert(column, value) if convert else cell_text(value)
    return record


def check_rows(table: Table, kind: str, known: Registry) -> CheckedRows:
    """Every row converted and checked with the registry parser, each against ``known`` and
    the good rows above it; duplicate ids within the sheet are refused too."""
    check_header(table, kind)
    event_type = KINDS[kind][0]
    everyone = known.copy()
    seen: dict[str, int] = {}
    records, errors = [], []
    for row in table.rows:
        try:
            record = row_record(row)
            parsed = parse_record(event_type, record, everyone)
        except _CellError as exc:
            errors.append(RowError(row.number, exc.column, exc.reason))
            continue
        except ValidationError as exc:
            errors.append(RowError(row.number, _column_of(exc, row.cells), exc.message))
            continue
        if parsed.id in seen:
            errors.append(RowError(row.number, "id", f"id {parsed.id!r} is also on row"
                                   f" {seen[parsed.id]}; give each record once"))  # fmt: skip
            continue
        seen[parsed.id] = row.number
        everyone.add(parsed)
        records.append(record)
    return CheckedRows(kind, tuple(records), tuple(errors))


def _column_of(error: ValidationError, cells: Mapping[str, Cell]) -> str | None:
    """The column a parser message is about: the first field it names in quotes."""
    named = [c for c in cells if f"'{c}'" in error.message or f" {c} " in error.message]
    if named:
        return named[0]
    missing = [c for c in ("id", "name", "country") if c not in cells]
    return missing[0] if missing and "must be" in error.message else None


def as_document(checked: CheckedRows) -> dict[str, list[dict[str, Any]]]:
    """The good records as a registry document (what ``registry load`` reads)."""
    return {checked.kind: list(checked.records)}
