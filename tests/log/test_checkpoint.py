"""C2SP tlog-checkpoint: parse the spec's and Go's examples, sign and verify our own."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from raretrace.domain.errors import ValidationError, VerificationError
from raretrace.log.checkpoint import (
    Checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from raretrace.log.merkle import leaf_hash
from raretrace.log.note import Ed25519Signer, parse_note_unverified

ROOT = leaf_hash(b"hello world")


def _vector(c2sp: Any, vector_id: str) -> Any:
    (vector,) = [v for v in c2sp["checkpoint"]["vectors"] if v["id"] == vector_id]
    return vector


def test_c2sp_checkpoint_example_parses(c2sp: Any) -> None:
    vector = _vector(c2sp, "c2sp-tlog-checkpoint-example")
    parsed = parse_note_unverified(vector["note"])
    checkpoint = parse_checkpoint(parsed.text)
    want = vector["parsed"]
    assert checkpoint.origin == want["origin"]
    assert checkpoint.size == want["tree_size"]
    assert checkpoint.root_hash.hex() == want["root_hash_hex"]
    assert list(checkpoint.extensions) == want["extensions"]
    assert checkpoint.body() == parsed.text
    sigs = [(s.name, f"{s.key_id:08x}", len(s.signature)) for s in parsed.signatures]
    assert sigs == [(s["key_name"], s["key_id_hex"], s["sig_len"]) for s in want["signatures"]]


def test_go_sumdb_tree_body_parses(c2sp: Any) -> None:
    vector = _vector(c2sp, "go-sumdb-tree-note-body")
    checkpoint = parse_checkpoint(vector["body"])
    assert checkpoint.origin == vector["parsed"]["origin"]
    assert checkpoint.size == vector["parsed"]["tree_size"]
    assert checkpoint.root_hash.hex() == vector["parsed"]["root_hash_hex"]
    assert checkpoint.root_hash == ROOT
    assert checkpoint.body() == vector["body"]


def test_round_trip_with_extensions() -> None:
    checkpoint = Checkpoint("council.example/log", 42, ROOT, ("batch 7",))
    assert parse_checkpoint(checkpoint.body()) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        "origin\n1\n",
        "origin\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=",
        "\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "origin\n01\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "origin\n-1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "origin\n1 \nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "origin\n18446744073709551616\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "origin\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40Hmuw\n",
        "origin\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb1=\n",  # non-canonical
        "origin\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n\n",  # empty extension
        "origin\n1\n!szzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    ],
)
def test_malformed_checkpoints_are_rejected(text: str) -> None:
    with pytest.raises(VerificationError, match="malformed checkpoint"):
        parse_checkpoint(text)


def test_invalid_checkpoint_values() -> None:
    for args in [("", 1, ROOT), ("o", -1, ROOT), ("o", 1, ROOT[:31]), ("o", 1, ROOT, ("",))]:
        with pytest.raises(ValidationError):
            Checkpoint(*args)  # type: ignore[arg-type]


def test_sign_and_verify() -> None:
    signer = Ed25519Signer("council.example/log", Ed25519PrivateKey.generate())
    checkpoint = Checkpoint("council.example/log", 7, ROOT)
    note = sign_checkpoint(checkpoint, signer)
    assert note.startswith("council.example/log\n7\n" + base64.b64encode(ROOT).decode() + "\n\n")
    assert verify_checkpoint(note, signer.verifier()) == checkpoint
    with pytest.raises(VerificationError, match="expected 'other'"):
        verify_checkpoint(note, signer.verifier(), origin="other")
    other = Ed25519Signer("council.example/log", Ed25519PrivateKey.generate())
    with pytest.raises(VerificationError):
        verify_checkpoint(note, other.verifier())
    tampered = note.replace("\n7\n", "\n8\n")
    with pytest.raises(VerificationError):
        verify_checkpoint(tampered, signer.verifier())
