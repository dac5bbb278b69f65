"""C2SP tlog-cosignature v1: the spec example, and witnesses cosigning a growing log."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from log_strategies import synthetic_leaves

from raretrace.domain.errors import ConfigError, VerificationError
from raretrace.log.checkpoint import Checkpoint, sign_checkpoint
from raretrace.log.merkle import MemoryHashStore, consistency_proof, leaf_hash
from raretrace.log.note import Ed25519Signer, parse_note_unverified
from raretrace.log.witness import (
    CosignatureSigner,
    CosignatureVerifier,
    Witness,
    WitnessConflict,
    WitnessState,
    cosign,
    cosigned_message,
    generate_cosigner_key,
    parse_cosignature,
    verify_cosigned_checkpoint,
)

ORIGIN = "council.example/rare-earth-log"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


class Log:
    """A tiny log: leaves in memory, checkpoints signed by the log key."""

    def __init__(self, salt: int = 0) -> None:
        self.key = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
        self.store = MemoryHashStore()
        self.salt = salt

    def grow(self, n: int, salt: int | None = None) -> str:
        for data in synthetic_leaves(n, salt=self.salt if salt is None else salt):
            self.store.append(leaf_hash(data + b"@%d" % self.store.size))
        return sign_checkpoint(Checkpoint(ORIGIN, self.store.size, self.store.root()), self.key)

    def proof(self, old: int) -> list[bytes]:
        if old == 0:
            return []
        return consistency_proof(self.store, old_size=old, new_size=self.store.size)


def _witness(name: str, state_dir: Path, log: Log) -> Witness:
    signer = CosignatureSigner(name, Ed25519PrivateKey.generate(), clock=lambda: T0)
    return Witness(signer, WitnessState(state_dir), logs=[log.key.verifier()], clock=lambda: T0)


def test_c2sp_cosignature_example_decodes(c2sp: Any) -> None:
    (vector,) = [
        v for v in c2sp["checkpoint"]["vectors"] if v["id"] == "c2sp-tlog-cosignature-example"
    ]
    parsed = parse_note_unverified(vector["note"])
    cosig = parse_cosignature(parsed.signatures[1])
    want = vector["parsed_cosignature"]
    assert cosig.name == want["key_name"]
    assert f"{cosig.key_id:08x}" == want["key_id_hex"]
    assert cosig.timestamp == want["timestamp"]
    assert cosig.signature.hex() == want["ed25519_sig_hex"]
    assert cosigned_message(parsed.text, cosig.timestamp) == vector["cosigned_message"].encode()


def test_cosigner_keys_use_type_0x04() -> None:
    skey, vkey = generate_cosigner_key("regulator.gov.my/witness")
    signer = CosignatureSigner.from_skey(skey)
    assert signer.verifier().vkey == vkey
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    assert signer.skey == skey
    with pytest.raises(ConfigError):
        CosignatureVerifier.from_vkey(Ed25519Signer.from_skey(_note_skey()).verifier().vkey)
    with pytest.raises(ConfigError):
        CosignatureSigner.from_skey(_note_skey())


def _note_skey() -> str:
    return Ed25519Signer("x.example", Ed25519PrivateKey.generate()).skey


def test_consistent_growth_is_cosigned(tmp_path: Path) -> None:
    log = Log()
    witness = _witness("witness.gov.my", tmp_path, log)
    first = witness.cosign(log.grow(5), old_size=0, consistency_proof=[])
    second = witness.cosign(log.grow(300), old_size=5, consistency_proof=log.proof(5))
    same = witness.cosign(second, old_size=305, consistency_proof=[])
    key = witness.verifier()
    for note, size in [(first, 5), (second, 305), (same, 305)]:
        result = verify_cosigned_checkpoint(note, log_key=log.key.verifier(), witness_keys=[key])
        assert result.checkpoint.size == size
        assert [c.timestamp for c in result.cosignatures] == [T0]
    state = json.loads((tmp_path / WitnessState.FILE_NAME).read_text("utf-8"))
    assert state["logs"][ORIGIN]["checkpoint"].split("\n")[1] == "305"


@pytest.mark.parametrize("extra", [0, 7])
def test_rewritten_history_is_refused(tmp_path: Path, extra: int) -> None:
    log = Log()
    witness = _witness("witness.gov.vn", tmp_path, log)
    witness.cosign(log.grow(10), old_size=0, consistency_proof=[])
    fork = Log(salt=1)
    fork.key = log.key  # the same log key signing a different history
    forked = fork.grow(10 + extra, salt=1)
    proof = fork.proof(10) if extra else []
    with pytest.raises(VerificationError) as raised:
        witness.cosign(forked, old_size=10, consistency_proof=proof)
    message = raised.value.message
    root = base64.b64encode(fork.store.root()).decode()
    assert str(10 + extra) in message and root in message
    assert WitnessState(tmp_path).get(ORIGIN) == Checkpoint(ORIGIN, 10, log.store.root())


def test_size_going_backwards_is_refused(tmp_path: Path) -> None:
    log = Log()
    witness = _witness("witness.gov.my", tmp_path, log)
    small = log.grow(3)
    witness.cosign(log.grow(4), old_size=0, consistency_proof=[])
    with pytest.raises(VerificationError, match="backwards"):
        witness.cosign(small, old_size=7, consistency_proof=[])


def test_stale_old_size_is_a_conflict(tmp_path: Path) -> None:
    log = Log()
    witness = _witness("witness.gov.my", tmp_path, log)
    witness.cosign(log.grow(4), old_size=0, consistency_proof=[])
    note = log.grow(4)
    with pytest.raises(WitnessConflict) as raised:
        witness.cosign(note, old_size=2, consistency_proof=log.proof(2))
    assert raised.value.known_size == 4


def test_unknown_log_and_bad_log_signature_are_refused(tmp_path: Path) -> None:
    log = Log()
    witness = _witness("witness.gov.my", tmp_path, log)
    stranger = Log()
    with pytest.raises(VerificationError):
        witness.cosign(stranger.grow(2), old_size=0, consistency_proof=[])
    impostor = Checkpoint("elsewhere.example/log", 1, leaf_hash(b""))
    note = sign_checkpoint(impostor, Ed25519Signer(impostor.origin, Ed25519PrivateKey.generate()))
    with pytest.raises(VerificationError, match="does not follow"):
        witness.cosign(note, old_size=0, consistency_proof=[])


def test_two_witnesses_cosign_one_checkpoint(tmp_path: Path) -> None:
    log = Log()
    malaysia = _witness("witness.regulator.gov.my", tmp_path / "my", log)
    vietnam = _witness("witness.regulator.gov.vn", tmp_path / "vn", log)
    note = log.grow(12)
    note = malaysia.cosign(note, old_size=0, consistency_proof=[])
    note = vietnam.cosign(note, old_size=0, consistency_proof=[])
    keys = [malaysia.verifier(), vietnam.verifier()]
    result = verify_cosigned_checkpoint(note, log_key=log.key.verifier(), witness_keys=keys)
    assert sorted(c.name for c in result.cosignatures) == sorted(k.name for k in keys)
    assert len(parse_note_unverified(note).signatures) == 3
    # Grow again: each witness checks consistency from its own state.
    grown = log.grow(20)
    grown = vietnam.cosign(grown, old_size=12, consistency_proof=log.proof(12))
    grown = malaysia.cosign(grown, old_size=12, consistency_proof=log.proof(12))
    verify_cosigned_checkpoint(grown, log_key=log.key.verifier(), witness_keys=keys)


def test_quorum_and_tampered_cosignatures(tmp_path: Path) -> None:
    log = Log()
    malaysia = _witness("witness.regulator.gov.my", tmp_path / "my", log)
    absent = CosignatureSigner("witness.example/absent", Ed25519PrivateKey.generate())
    note = malaysia.cosign(log.grow(3), old_size=0, consistency_proof=[])
    keys = [malaysia.verifier(), absent.verifier()]
    with pytest.raises(VerificationError, match="1 valid witness cosignature"):
        verify_cosigned_checkpoint(note, log_key=log.key.verifier(), witness_keys=keys)
    result = verify_cosigned_checkpoint(
        note, log_key=log.key.verifier(), witness_keys=keys, quorum=1
    )
    assert len(result.cosignatures) == 1
    # A cosignature whose timestamp was changed no longer verifies: the time is signed.
    line = parse_note_unverified(note).signatures[1]
    raw = bytearray(line.key_id.to_bytes(4, "big") + line.signature)
    raw[11] ^= 1
    forged = note.replace(
        base64.b64encode(line.key_id.to_bytes(4, "big") + line.signature).decode(),
        base64.b64encode(bytes(raw)).decode(),
    )
    with pytest.raises(VerificationError, match="does not verify"):
        verify_cosigned_checkpoint(forged, log_key=log.key.verifier(), witness_keys=keys[:1])


def test_module_level_cosign_and_state_survive_restarts(tmp_path: Path) -> None:
    log = Log()
    signer = CosignatureSigner("witness.example", Ed25519PrivateKey.generate(), clock=lambda: T0)
    state = WitnessState(tmp_path)
    kwargs: dict[str, Any] = {"log_key": log.key.verifier(), "state": state}
    cosign(log.grow(2), signer, old_size=0, consistency_proof=[], **kwargs)
    cosign(log.grow(2), signer, old_size=2, consistency_proof=log.proof(2), **kwargs)
    assert WitnessState(tmp_path).get(ORIGIN) == Checkpoint(ORIGIN, 4, log.store.root())
    (tmp_path / WitnessState.FILE_NAME).write_text("{not json", "utf-8")
    with pytest.raises(ConfigError):
        WitnessState(tmp_path).get(ORIGIN)
