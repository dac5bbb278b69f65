"""The files of the credentials package: issuer key files, trusted DID documents, and
writing a file so that a reader sees the old content or the new, never half of it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from raretrace.credentials.diddoc import Trust, build_trust
from raretrace.credentials.keys import IssuerKey, parse_issuer_key
from raretrace.domain.errors import ConfigError, NotFound


def read_text(path: Path, what: str) -> str:
    """The file's text; NotFound naming ``what`` if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"{what} {path} does not exist") from None
    except (OSError, UnicodeError) as exc:
        raise NotFound(f"cannot read {what} {path}: {exc}") from None


def read_json(path: Path, what: str) -> object:
    """The file's JSON; ConfigError naming the line if it is not JSON."""
    try:
        return json.loads(read_text(path, what))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} {path} is not JSON (line {exc.lineno}: {exc.msg})") from None


def write_issuer_key(path: Path, key: IssuerKey) -> None:
    """Create ``path`` (mode 0600, never overwriting) holding the issuer key."""
    text = json.dumps(key.to_json(), indent=2) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(
            f"{path} already exists; a key file is never overwritten (choose"
            " another --out, or keep using the existing key)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def read_issuer_key(path: Path) -> IssuerKey:
    """The issuer key in ``path``; ConfigError/NotFound saying what is wrong."""
    return parse_issuer_key(read_json(path, "issuer key file"), str(path))


def read_trust(paths: Iterable[Path]) -> Trust:
    """Trust built from DID document files (each a did.json the verifier chose to trust)."""
    return build_trust((str(p), read_json(p, "trusted DID document")) for p in paths)


def write_atomically(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` in one step (temporary file, fsync, rename)."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise ConfigError(f"cannot write in {directory}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
