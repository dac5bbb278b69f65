"""Writing the open data: each table as Parquet (pyarrow) and CSV, a data dictionary, and a
``datapackage.json`` (Frictionless Data Package v1: https://specs.frictionlessdata.io/).

The folder is written whole or not at all: the files go to a temporary folder beside it,
which is renamed into place at the end.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from raretrace.analytics.opendata import COLUMNS, OpenTables
from raretrace.domain.errors import ConfigError

__all__ = ["check_target", "write_open_data"]

_ARROW_TYPES = {"string": "string", "number": "float64", "integer": "int64", "boolean": "bool_"}


def check_target(folder: Path) -> None:
    """ConfigError unless ``folder`` can be made: it must not exist (or be an empty folder),
    and its parent must be a writable folder. Checked before anything is read."""
    if folder.exists() and not (folder.is_dir() and not any(folder.iterdir())):
        what = "a folder that is not empty" if folder.is_dir() else "a file"
        raise ConfigError(
            f"cannot write the open data to {folder}: it is {what}; give a new folder"
        )
    parent = folder.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ConfigError(
            f"cannot write the open data to {folder}: folder {parent} does not exist or cannot"
            " be written; give a path in a writable folder"
        )


def _pyarrow() -> Any:
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise ConfigError(
            "open-data export writes Parquet with pyarrow, which is not installed; install it"
            " with: pip install 'raretrace[open-data]'"
        ) from None
    return pa, pq


def _schema(pa: Any, table: str) -> Any:
    return pa.schema(
        [(name, getattr(pa, _ARROW_TYPES[kind])()) for name, kind, _ in COLUMNS[table]]
    )


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _dictionary(data: OpenTables, about: dict[str, Any]) -> str:
    lines = [
        "# Data dictionary",
        "",
        f"Made by `raretrace open-data export` on {about['created']} from a raretrace ledger;"
        f" period {about['from'] or 'the first event'} to {about['to'] or 'the last event'},"
        f" by {data.period}.",
        "",
        f"**Suppression.** A cell is published only when at least k = {data.k} distinct"
        " participants stand behind it (for a flow: k shippers and k receivers); otherwise its"
        " kg and participant count are empty and `suppressed` is true. A concentration row is"
        " empty when any country's cell of its group is suppressed. No published figure sums"
        " over a suppressed cell.",
        "",
        "Masses are kg of the element (not oxide). Each table is both `NAME.parquet` and"
        " `NAME.csv` (UTF-8, comma-separated, header row, empty cells for missing values).",
    ]
    for table, columns in COLUMNS.items():
        lines += ["", f"## {table}", "", "| column | type | meaning |", "|---|---|---|"]
        lines += [f"| `{n}` | {t} | {d} |" for n, t, d in columns]
    return "\n".join(lines) + "\n"


def _datapackage(data: OpenTables, about: dict[str, Any]) -> dict[str, Any]:
    resources = []
    for table, columns in COLUMNS.items():
        schema = {"fields": [{"name": n, "type": t, "description": d} for n, t, d in columns],
                  "missingValues": [""]}  # fmt: skip
        resources.append({
            "name": table, "path": f"{table}.csv", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", "schema": schema,
        })  # fmt: skip
        resources.append({"name": f"{table}-parquet", "path": f"{table}.parquet",
                          "format": "parquet", "mediatype": "application/vnd.apache.parquet",
                          "schema": schema})  # fmt: skip
    return {
        "name": "raretrace-open-data",
        "title": "Rare-earth flows and concentration from a raretrace ledger",
        "description": (
            f"Aggregates by {data.period}, stage, country and element; cells with fewer than"
            f" {data.k} participants suppressed (data-dictionary.md)."
        ),
        "created": about["created"],
        "raretrace": {"k": data.k, "period": data.period, "from": about["from"], "to": about["to"]},
        "resources": resources,
    }


def write_open_data(folder: Path, data: OpenTables, about: dict[str, Any]) -> list[Path]:
    """Write every table (Parquet and CSV), the dictionary and datapackage.json into
    ``folder``; the paths written, relative to it."""
    pa, pq = _pyarrow()
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    written: list[Path] = []
    try:
        for table, rows in data.tables.items():
            names = [n for n, _, _ in COLUMNS[table]]
            arrow = pa.Table.from_pylist(rows, schema=_schema(pa, table))
            pq.write_table(arrow, work / f"{table}.parquet")
            with (work / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
                out = csv.writer(fh)
                out.writerow(names)
                out.writerows([_csv_cell(r[n]) for n in names] for r in rows)
            written += [Path(f"{table}.parquet"), Path(f"{table}.csv")]
        (work / "data-dictionary.md").write_text(_dictionary(data, about), encoding="utf-8")
        package = json.dumps(_datapackage(data, about), indent=2, ensure_ascii=False) + "\n"
        (work / "datapackage.json").write_text(package, encoding="utf-8")
        written += [Path("data-dictionary.md"), Path("datapackage.json")]
        os.chmod(work, 0o755)
        if folder.exists():
            folder.rmdir()  # empty, checked before
        work.rename(folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return written
