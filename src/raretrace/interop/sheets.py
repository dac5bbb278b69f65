"""Reading a table from a CSV file or an Excel workbook: a header row and data rows, each
cell with the row number and column name a user sees in their spreadsheet program.

What a spreadsheet can hold that a table of records cannot is refused, naming the cells:
merged cells (which value belongs to which row?) and formulas (raretrace reads values; a
formula's cached result may be stale or absent). Empty rows are skipped and counted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from raretrace.domain.errors import ConfigError, NotFound, ValidationError

Cell = str | int | float | bool | datetime | date | time | None
SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its number in the sheet and its cells by header name (blank cells
    left out)."""

    number: int
    cells: dict[str, Cell]


@dataclass(frozen=True, slots=True)
class Table:
    """The header and the non-empty data rows of a sheet; ``empty_rows`` were skipped."""

    source: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    empty_rows: int


def _fail(source: str, message: str) -> ValidationError:
    return ValidationError("sheet-format", source, message)


def read_table(path: Path, *, sheet: str | None = None) -> Table:
    """The table in ``path`` (``.csv`` UTF-8, or ``.xlsx``: the sheet named ``sheet`` if the
    workbook has one, else the first)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(
            f"{path} is neither .csv nor .xlsx; save the sheet as CSV (UTF-8) or Excel .xlsx"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    if suffix == ".csv":
        return _csv_table(str(path), data)
    return _xlsx_table(str(path), data, sheet)


def _csv_table(source: str, data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(
            source,
            f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); save the"
            " sheet as 'CSV UTF-8'",
        ) from None
    if "\x00" in text:
        raise _fail(source, "holds NUL bytes: not a CSV text file")
    grid = [
        (number, [c.strip() for c in cells])
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
    ]
    return _table(source, [(n, [c or None for c in cells]) for n, cells in grid])


def _xlsx_table(source: str, data: bytes, sheet: str | None) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise _fail(source, f"not an Excel .xlsx workbook ({type(exc).__name__})") from None
    except Exception as exc:  # zipfile.BadZipFile and friends: not a workbook either
        raise _fail(source, f"not an Excel .xlsx workbook ({type(exc).__name__})") from None
    ws = book[sheet] if sheet is not None and sheet in book.sheetnames else book.worksheets[0]
    where = f"{source} sheet {ws.title!r}"
    merged = [str(r) for r in ws.merged_cells.ranges]
    if merged:
        raise _fail(
            where,
            f"cells {', '.join(merged[:5])} are merged; unmerge them and give every row its"
            " own value in every cell",
        )
    grid: list[tuple[int, list[Cell]]] = []
    for row in ws.iter_rows():
        cells: list[Cell] = []
        for cell in row:
            if cell.data_type == "f":
                raise _fail(
                    where,
                    f"cell {cell.coordinate} holds a formula ({str(cell.value)[:40]}); raretrace"
                    " reads values: copy the column and paste it as values",
                )
            cells.append(_value(cell.value))
        number = row[0].row if row and row[0].row is not None else len(grid) + 1
        grid.append((number, cells))
    return _table(where, grid)


def _value(value: object) -> Cell:
    """A workbook value as a cell: text stripped (blank: None); Decimal as float; rich text
    and anything else as its text."""
    if isinstance(value, str):
        return value.strip() or None
    if value is None or isinstance(value, (bool, int, float, datetime, date, time)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value).strip() or None


def _table(source: str, grid: Sequence[tuple[int, Sequence[Cell]]]) -> Table:
    filled = [(n, cells) for n, cells in grid if any(c is not None for c in cells)]
    if not filled:
        raise _fail(source, "holds no header row; the first row names the fields")
    (head_number, head), body = filled[0], filled[1:]
    header = [str(c) if c is not None else "" for c in head]
    while header and not header[-1]:
        header.pop()
    _check_header(source, head_number, header)
    rows = []
    for number, cells in body:
        extra = [i for i, c in enumerate(cells) if c is not None and i >= len(header)]
        if extra:
            raise _fail(
                source,
                f"row {number} has a value in column {extra[0] + 1}, which has no header;"
                " name the column in the header row or clear the cell",
            )
        values: dict[str, Cell] = {
            header[i]: c for i, c in enumerate(cells[: len(header)]) if c is not None
        }
        rows.append(Row(number, values))
    empty = len(grid) - len(filled)
    return Table(source, tuple(header), tuple(rows), empty)


def _check_header(source: str, number: int, header: Sequence[str]) -> None:
    for i, name in enumerate(header):
        if not name:
            raise _fail(source, f"row {number} (the header) has no name in column {i + 1}")
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise _fail(source, f"the header names {repeated} more than once; name each field once")


def cell_text(value: Cell) -> str:
    """A cell as text: times as RFC 3339 (a workbook time without a zone is taken as UTC),
    whole floats without ``.0``."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.isoformat()
        return value.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    if isinstance(value, date):
        return value.isoformat() + "T00:00:00Z"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_rows(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV text of ``rows`` under ``header`` (for tests and templates)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
