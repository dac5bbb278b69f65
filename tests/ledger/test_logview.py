"""The log as readers and witnesses see it, on real SQLite and PostgreSQL ledgers.

Every proof ``ledger.logview`` hands out must verify with the pure log library alone; witnesses
must cosign only along one consistent history and keep their state between runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from sqlalchemy import select

from ledger_support import new_ledger
from raretrace.domain.errors import ConfigError, NotFound, ValidationError, VerificationError
from raretrace.ledger import logview, service
from raretrace.log.checkpoint import verify_checkpoint
from raretrace.log.merkle import leaf_hash, verify_consistency, verify_inclusion
from raretrace.log.note import Ed25519Verifier, add_signatures, parse_note_unverified
from raretrace.log.witness import (
    CosignatureSigner,
    WitnessState,
    generate_cosigner_key,
    verify_cosigned_checkpoint,
)
from raretrace.store import schema
from raretrace.store.store import Store

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REGISTRY: dict[str, Any] = json.loads((FIXTURES / "example_registry.json").read_text())
EVENTS = (FIXTURES / "example_events.jsonl").read_text().splitlines()
REGISTRY_SIZE = 4  # the example registry: two participants, two facilities
KEY_FILES = ("log.key", "log.vkey", "registry.key")


def build(db: str, log_dir: Path, events: list[str], *, batch_size: int = 2) -> Store:
    """A ledger holding the example registry and ``events`` (a checkpoint per batch)."""
    ledger = new_ledger(db, REGISTRY, log_dir=log_dir)
    try:
        report = ledger.ingest(enumerate(events, 1), batch_size=batch_size)
        assert report.rejected == 0, [r.error.message for r in report.rejections]
    finally:
        ledger.close()
    return Store.open(db)


def forged_ledger(tmp_path: Path, genuine_log: Path, events: list[str]) -> Store:
    """A second ledger under the same origin and log key but with a different history:
    what an operator who rewrote the log would show."""
    log_dir = tmp_path / "forged" / genuine_log.name  # same directory name: same origin
    log_dir.mkdir(parents=True)
    for name in KEY_FILES:
        shutil.copy2(genuine_log / name, log_dir / name)
    return build(str(tmp_path / "forged.db"), log_dir, events)


def altered_history(count: int) -> list[str]:
    """The first ``count`` example events, the first one altered (same id, other content)."""
    first = json.loads(EVENTS[0])
    first["time"] = "2025-01-05T09:00:00Z"
    return [json.dumps(first), *EVENTS[1:count]]


def log_key(store: Store) -> Ed25519Verifier:
    return Ed25519Verifier.from_vkey(logview.log_vkey(store))


def new_witness(name: str) -> CosignatureSigner:
    return CosignatureSigner.from_skey(generate_cosigner_key(name)[0])


def stored_events(store: Store) -> list[tuple[int, str, str]]:
    with store.engine.connect() as conn:
        query = select(schema.events.c.seq, schema.events.c.id, schema.events.c.body)
        return [(int(r.seq), r.id, r.body) for r in conn.execute(query.order_by("seq"))]


def stored_sizes(store: Store) -> list[int]:
    with store.engine.connect() as conn:
        return sorted(int(s) for (s,) in conn.execute(select(schema.checkpoints.c.size)))


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "genuine" / "log"


@pytest.fixture
def store(db_url: str, log_dir: Path) -> Store:
    return build(db_url, log_dir, EVENTS)


# --- checkpoints and proofs -----------------------------------------------------------------


def test_the_latest_checkpoint_is_signed_by_the_log_key_and_published(
    store: Store, log_dir: Path
) -> None:
    note = logview.checkpoint_note(store)
    checkpoint = verify_checkpoint(note, log_key(store))
    assert checkpoint.size == REGISTRY_SIZE + len(EVENTS) == max(stored_sizes(store))
    assert checkpoint.origin == "raretrace.local/log"
    assert (log_dir / "checkpoint").read_text() == note
    assert logview.log_vkey(store) == (log_dir / "log.vkey").read_text().strip()


def test_every_event_has_an_inclusion_proof_that_verifies(store: Store) -> None:
    checkpoint = verify_checkpoint(logview.checkpoint_note(store), log_key(store))
    events = stored_events(store)
    assert len(events) == checkpoint.size
    for seq, event_id, body in events:
        view = logview.prove_event(store, event_id).to_json()
        assert list(view) == [
            "event_id", "leaf_index", "tree_size", "leaf", "event", "salt", "proof", "checkpoint",
        ]  # fmt: skip
        leaf, salt = base64.b64decode(view["leaf"]), base64.b64decode(view["salt"])
        assert view["event"] == json.loads(body) and len(salt) == 32
        # The leaf is the salted commitment to the event, not the event (docs/log.md).
        assert leaf == hashlib.sha256(salt + rfc8785.dumps(view["event"])).digest()
        assert (view["event_id"], view["leaf_index"], view["tree_size"]) == (
            event_id, seq, checkpoint.size,
        )  # fmt: skip
        verify_inclusion(
            leaf_hash=leaf_hash(leaf), index=seq, size=checkpoint.size,
            proof=[base64.b64decode(h) for h in view["proof"]], root=checkpoint.root_hash,
        )  # fmt: skip


def test_an_event_proves_against_an_older_checkpoint_only_if_it_is_in_that_tree(
    store: Store,
) -> None:
    first = stored_events(store)[0][1]
    old = stored_sizes(store)[0]
    proof = logview.prove_event(store, first, size=old)
    checkpoint = verify_checkpoint(proof.checkpoint, log_key(store))
    assert proof.tree_size == checkpoint.size == old
    verify_inclusion(
        leaf_hash=leaf_hash(proof.leaf), index=0, size=old, proof=proof.proof,
        root=checkpoint.root_hash,
    )  # fmt: skip
    with pytest.raises(NotFound, match=rf"leaf {REGISTRY_SIZE + 4}, not in the tree of size"):
        logview.prove_event(store, "e5", size=old)
    with pytest.raises(NotFound, match="no checkpoint is stored for tree size 3"):
        logview.prove_event(store, first, size=3)
    with pytest.raises(NotFound, match="no accepted event has id 'nope'"):
        logview.prove_event(store, "nope")


def test_consistency_proofs_between_stored_checkpoints_verify(store: Store) -> None:
    key = log_key(store)
    sizes = stored_sizes(store)
    for i, old in enumerate(sizes):
        for new in sizes[i:]:
            view = logview.prove_consistency(store, old_size=old, new_size=new).to_json()
            assert set(view) == {"old_size", "new_size", "proof", "old_checkpoint",
                                 "new_checkpoint"}  # fmt: skip
            verify_consistency(
                old_size=view["old_size"], new_size=view["new_size"],
                old_root=verify_checkpoint(view["old_checkpoint"], key).root_hash,
                new_root=verify_checkpoint(view["new_checkpoint"], key).root_hash,
                proof=[base64.b64decode(h) for h in view["proof"]],
            )  # fmt: skip
    latest = logview.prove_consistency(store, old_size=1)
    assert latest.new_size == sizes[-1] and latest.old_checkpoint is None
    with pytest.raises(NotFound, match=f"latest checkpoint has size {sizes[-1]}"):
        logview.prove_consistency(store, old_size=1, new_size=sizes[-1] + 1)
    with pytest.raises(ValidationError, match="0 < old size <= new size"):
        logview.prove_consistency(store, old_size=0)


def test_tampered_tiles_give_no_proof(store: Store, log_dir: Path) -> None:
    size = max(stored_sizes(store))
    tile = log_dir / "tile" / "0" / "000.p" / str(size)
    data = bytearray(tile.read_bytes())
    data[40] ^= 1  # one bit of leaf 1's hash
    tile.write_bytes(bytes(data))
    with pytest.raises(VerificationError, match="do not prove event 'e1'"):
        logview.prove_event(store, "e1")
    with pytest.raises(VerificationError, match="run `raretrace audit`"):
        logview.prove_consistency(store, old_size=REGISTRY_SIZE)


def test_an_empty_log_has_no_checkpoint_to_show_or_cosign(db_url: str, tmp_path: Path) -> None:
    service.init_ledger(db_url, require_signatures=False, log_dir=tmp_path / "log")
    store = Store.open(db_url)
    with pytest.raises(NotFound, match="no checkpoint yet"):
        logview.checkpoint_note(store)
    with pytest.raises(NotFound, match="no checkpoint yet"):
        logview.witness_cosign(
            store, signer=new_witness("w"), state=WitnessState(tmp_path / "w"),
            log_key=log_key(store),
        )  # fmt: skip


# --- witnesses ------------------------------------------------------------------------------


def test_two_witnesses_cosign_and_both_cosignatures_verify(
    store: Store, log_dir: Path, tmp_path: Path
) -> None:
    my, vn = new_witness("witness.example.my"), new_witness("witness.example.vn")
    key = log_key(store)
    first = logview.witness_cosign(store, signer=my, state=WitnessState(tmp_path / "my"),
                                   log_key=key)  # fmt: skip
    assert first.previous is None and first.published
    second = logview.witness_cosign(store, signer=vn, state=WitnessState(tmp_path / "vn"),
                                    log_key=key)  # fmt: skip
    assert second.signers == (key.name, "witness.example.my", "witness.example.vn")
    note = logview.checkpoint_note(store)
    assert note == second.note == (log_dir / "checkpoint").read_text()
    cosigned = verify_cosigned_checkpoint(
        note, log_key=key, witness_keys=[my.verifier(), vn.verifier()]
    )
    assert {c.name for c in cosigned.cosignatures} == {"witness.example.my", "witness.example.vn"}
    assert cosigned.checkpoint.size == max(stored_sizes(store))


def test_witness_state_persists_across_runs(db_url: str, log_dir: Path, tmp_path: Path) -> None:
    store = build(db_url, log_dir, EVENTS[:3])
    signer, state_dir = new_witness("witness.example.my"), tmp_path / "state"
    first = logview.witness_cosign(
        store, signer=signer, state=WitnessState(state_dir), log_key=log_key(store)
    )
    assert (state_dir / WitnessState.FILE_NAME).exists()
    ledger = service.open_ledger(db_url)
    try:
        assert ledger.ingest(enumerate(EVENTS[3:], 1)).accepted == 2
    finally:
        ledger.close()
    again = logview.witness_cosign(
        store, signer=signer, state=WitnessState(state_dir), log_key=log_key(store)
    )
    assert again.previous is not None and again.previous.size == first.size
    assert again.previous.root_hash == first.root and again.size == first.size + 2
    # The older checkpoint keeps its cosignature; the new one carries one too.
    verify_cosigned_checkpoint(
        logview.checkpoint_note(store, size=first.size), log_key=log_key(store),
        witness_keys=[signer.verifier()],
    )  # fmt: skip
    verify_cosigned_checkpoint(
        logview.checkpoint_note(store), log_key=log_key(store), witness_keys=[signer.verifier()]
    )


def test_a_witness_refuses_a_rewritten_history(store: Store, log_dir: Path, tmp_path: Path) -> None:
    forged = forged_ledger(tmp_path, log_dir, altered_history(3))
    signer, state = new_witness("witness.example.vn"), WitnessState(tmp_path / "vn")
    seen = logview.witness_cosign(forged, signer=signer, state=state, log_key=log_key(store))
    genuine_before = logview.checkpoint_note(store)
    root = base64.b64encode(seen.root).decode()
    with pytest.raises(VerificationError) as caught:
        logview.witness_cosign(store, signer=signer, state=state, log_key=log_key(store))
    message = caught.value.message
    assert f"is not consistent with cosigned size {seen.size} root {root}" in message
    assert f"size {REGISTRY_SIZE + len(EVENTS)} root " in message
    assert logview.checkpoint_note(store) == genuine_before  # nothing stored
    assert state.get(seen.origin) is not None
    assert state.get(seen.origin).size == seen.size  # type: ignore[union-attr]


def test_a_witness_refuses_a_log_that_went_backwards(
    store: Store, log_dir: Path, tmp_path: Path
) -> None:
    signer, state = new_witness("witness.example.my"), WitnessState(tmp_path / "my")
    seen = logview.witness_cosign(store, signer=signer, state=state, log_key=log_key(store))
    smaller = forged_ledger(tmp_path, log_dir, EVENTS[:3])
    with pytest.raises(VerificationError, match=f"went backwards: witness cosigned size "
                       f"{seen.size}, new checkpoint has size {REGISTRY_SIZE + 3}"):  # fmt: skip
        logview.witness_cosign(smaller, signer=signer, state=state, log_key=log_key(store))


def test_a_witness_checks_the_log_signature(store: Store, tmp_path: Path) -> None:
    from raretrace.log.note import generate_key

    other = Ed25519Verifier.from_vkey(generate_key("raretrace.local/log")[1])
    with pytest.raises(VerificationError, match="no valid signature from a trusted key"):
        logview.witness_cosign(
            store, signer=new_witness("w"), state=WitnessState(tmp_path / "w"), log_key=other
        )
    assert not (tmp_path / "w" / WitnessState.FILE_NAME).exists()


def test_only_a_valid_cosignature_of_the_stored_checkpoint_is_recorded(
    store: Store, log_dir: Path, tmp_path: Path
) -> None:
    witness, stranger = new_witness("witness.example.my"), new_witness("witness.example.my")
    note = logview.checkpoint_note(store)
    with pytest.raises(VerificationError, match="no cosignature by witness"):
        logview.record_cosignature(store, note, witness=witness.verifier())
    forged = add_signatures(note, [stranger])  # same name, another key: a different key id
    with pytest.raises(VerificationError, match="no cosignature by witness"):
        logview.record_cosignature(store, forged, witness=witness.verifier())
    cosigned = add_signatures(note, [witness])
    parsed = parse_note_unverified(cosigned)
    bad_sig = parsed.signatures[-1].signature[:-1] + bytes(
        [parsed.signatures[-1].signature[-1] ^ 1]
    )
    tampered = cosigned.replace(
        base64.b64encode(parsed.signatures[-1].key_id.to_bytes(4, "big")
                         + parsed.signatures[-1].signature).decode(),
        base64.b64encode(parsed.signatures[-1].key_id.to_bytes(4, "big") + bad_sig).decode(),
    )  # fmt: skip
    with pytest.raises(VerificationError, match="does not verify"):
        logview.record_cosignature(store, tampered, witness=witness.verifier())
    other = forged_ledger(tmp_path, log_dir, altered_history(4))  # a size the genuine log has
    elsewhere = add_signatures(logview.checkpoint_note(other), [witness])
    with pytest.raises(VerificationError, match=f"not the one stored for size {REGISTRY_SIZE + 4}"):
        logview.record_cosignature(store, elsewhere, witness=witness.verifier())
    assert logview.checkpoint_note(store) == note


def test_witness_keys_and_log_keys_are_read_from_files(tmp_path: Path) -> None:
    path = tmp_path / "w.key"
    vkey = logview.witness_keygen("witness.example.my", path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert logview.read_witness_key(path).verifier().vkey == vkey
    with pytest.raises(ConfigError, match="already exists"):
        logview.witness_keygen("witness.example.my", path)
    with pytest.raises(ConfigError, match="needs the log's verifier key"):
        logview.read_log_vkey(None, None)
    with pytest.raises(ConfigError, match="once"):
        logview.read_log_vkey("x", path)
    with pytest.raises(NotFound, match="cannot read witness key"):
        logview.read_witness_key(tmp_path / "missing.key")
