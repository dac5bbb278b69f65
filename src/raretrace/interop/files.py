"""Reading and writing the interchange files: whole files replaced in one step, and input
files read with one-line errors that name the file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from raretrace.domain.errors import ConfigError, NotFound, ValidationError


def write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` in one step (temporary file, fsync, rename), so a
    failure leaves the old file (or none) and never half a file."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise ConfigError(f"cannot write in {directory}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, value: Any) -> None:
    """JSON, indented, UTF-8, ending with a newline."""
    write_text(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path, what: str) -> Any:
    """A JSON file, or one error naming it and what is wrong (not UTF-8, not JSON)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotFound(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "format", str(path), f"{what} is not UTF-8 text (byte {data[exc.start]:#04x} at"
            f" offset {exc.start}); JSON files are UTF-8 (RFC 8259 §8.1)"
        ) from None  # fmt: skip
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "format", str(path),
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None  # fmt: skip
