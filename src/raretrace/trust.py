"""Trust files: the keys (and tolerance) someone checking evidence chooses to trust.

A trust file is what a buyer, customs office or regulator keeps beside ``raretrace verify``:
the log's verifier key, witness cosigner keys, the registry authority's key, and optionally a
tolerance. Nothing inside a bundle is trusted unless it matches this file.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

from raretrace.domain.errors import ConfigError, NotFound, RaretraceError, VerificationError
from raretrace.domain.model import Tolerance
from raretrace.log.note import Ed25519Verifier, parse_vkey
from raretrace.log.witness import SIG_TYPE_COSIGNATURE_V1, CosignatureVerifier

__all__ = ["TrustedKeys", "b64_exact", "parse_trust", "read_trust_file"]

_SIG_TYPE_ED25519 = 0x01

_DEFAULT_TOLERANCE = Tolerance()


@dataclass(frozen=True, slots=True)
class TrustedKeys:
    """What the checker trusts: log and witness vkeys, registry authority keys, tolerance."""

    logs: tuple[Ed25519Verifier, ...] = ()
    witnesses: tuple[CosignatureVerifier, ...] = ()
    registry: tuple[bytes, ...] = ()
    tolerance: Tolerance = _DEFAULT_TOLERANCE


def parse_trust(text: str, *, source: str = "trust file") -> TrustedKeys:
    """A trust file: one entry a line; ``#`` comments and blank lines are ignored.

    An entry is a C2SP vkey (type 0x01: a log key; 0x04: a witness cosigner key), or
    ``registry <base64 Ed25519 public key>``, or ``tolerance <relative> <absolute_kg>``.
    """
    logs: list[Ed25519Verifier] = []
    witnesses: list[CosignatureVerifier] = []
    registry: list[bytes] = []
    tolerance: Tolerance | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source} line {number}"
        words = line.split()
        try:
            if words[0] == "registry" and len(words) == 2:
                registry.append(b64_exact(words[1], 32, f"{where}: the registry key"))
            elif words[0] == "tolerance" and len(words) == 3:
                if tolerance is not None:
                    raise ConfigError(f"{where}: a second 'tolerance' line")
                tolerance = Tolerance(relative=float(words[1]), absolute_kg=float(words[2]))
            elif len(words) == 1:
                _add_vkey(words[0], logs, witnesses)
            else:
                raise ConfigError("expected a vkey, 'registry <key>' or 'tolerance <rel> <kg>'")
        except (RaretraceError, ValueError) as exc:
            message = exc.message if isinstance(exc, RaretraceError) else str(exc)
            raise ConfigError(f"{where}: {message}") from None
    return TrustedKeys(
        tuple(logs), tuple(witnesses), tuple(registry), tolerance or _DEFAULT_TOLERANCE
    )


def _add_vkey(vkey: str, logs: list[Ed25519Verifier], witnesses: list[CosignatureVerifier]) -> None:
    _, _, sig_type, _ = parse_vkey(vkey)
    if sig_type == _SIG_TYPE_ED25519:
        logs.append(Ed25519Verifier.from_vkey(vkey))
    elif sig_type == SIG_TYPE_COSIGNATURE_V1:
        witnesses.append(CosignatureVerifier.from_vkey(vkey))
    else:
        raise ConfigError(f"vkey type 0x{sig_type:02x} is neither a log key nor a witness key")


def read_trust_file(path: Path) -> TrustedKeys:
    """``parse_trust`` of a file, or NotFound / ConfigError saying what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotFound(f"cannot read the trust file {path}: {exc}") from None
    return parse_trust(text, source=str(path))


def b64_exact(text: str, size: int, what: str) -> bytes:
    """Strict base64 of exactly ``size`` bytes, in its one canonical spelling."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size or base64.b64encode(raw).decode() != text:
        raise VerificationError(f"{what} is not the canonical base64 of {size} bytes")
    return raw
