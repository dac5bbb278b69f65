"""The transparency log as the service shows it: checkpoint, verifier key, proofs, the
tiles as files, and witnesses' cosignatures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raretrace.domain.errors import NotFound
from raretrace.ledger import logview
from raretrace.ledger.settings import LedgerSettings
from raretrace.log.witness import CosignatureVerifier
from raretrace.service.access import Forbidden, Principal, require
from raretrace.store.store import Store

#: The files of the log directory the service may serve (never its keys or state).
CHECKPOINT = "checkpoint"
TILES = "tile"
ENTRIES = "tile/entries"


def checkpoint(store: Store) -> str:
    """The latest signed checkpoint note, witness cosignatures included."""
    return logview.checkpoint_note(store)


def vkey(store: Store) -> str:
    """The log's verifier key (C2SP signed-note vkey)."""
    return logview.log_vkey(store)


def consistency(store: Store, *, old_size: int, new_size: int | None) -> dict[str, Any]:
    """``log consistency --json``: hashes only, so anyone may ask."""
    return logview.prove_consistency(store, old_size=old_size, new_size=new_size).to_json()


def log_file(store: Store, principal: Principal, relative: str) -> Path:
    """The file of the log directory at ``relative`` (``checkpoint`` or under ``tile/``) if
    it exists and the caller may read it: hash tiles and entry bundles of salted commitments
    are public; the entry bundles of a log not yet moved to commitments (``raretrace log
    migrate``: its entries are the events in clear) need ``read-log-entries``; anything else
    in the folder (keys, state) is NotFound.
    """
    missing = NotFound(f"the log has no file {relative!r}")
    parts = relative.split("/")
    if relative != CHECKPOINT and (parts[0] != TILES or len(parts) < 3):
        raise missing
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        raise missing
    settings = LedgerSettings.from_meta(store.meta())
    if relative.startswith(ENTRIES + "/") and settings.clear_leaves:
        require(principal, "read-log-entries")
    root = settings.log.directory
    path = root.joinpath(*parts)
    if not path.is_file() or root.resolve() not in path.resolve().parents:
        raise missing
    return path


def cosign(store: Store, principal: Principal, *, note: str, witness_vkey: str) -> dict[str, Any]:
    """Add a witness's cosignature (``note`` cosigned by the key ``witness_vkey``) to the
    stored checkpoint of its size; the witness must be the token's own."""
    require(principal, "cosign")
    verifier = CosignatureVerifier.from_vkey(witness_vkey)
    if verifier.name != principal.participant:
        raise Forbidden(
            "witness-not-token",
            f"the cosignature key is witness {verifier.name!r}, but this token is witness"
            f" {principal.participant!r}; cosign with your own key",
        )
    stored, published = logview.record_cosignature(store, note, witness=verifier)
    return {"note": stored, "published": published}
