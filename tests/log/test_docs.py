"""docs/log.md cannot drift: its example verifies and it names every public symbol."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from raretrace.log import checkpoint, merkle, note, tile_format, tiles, witness
from raretrace.log.merkle import leaf_hash, verify_inclusion
from raretrace.log.note import Ed25519Verifier
from raretrace.log.witness import CosignatureVerifier, verify_cosigned_checkpoint

DOC = Path(__file__).resolve().parents[2] / "docs" / "log.md"


def _example(name: str) -> str:
    text = DOC.read_text("utf-8")
    match = re.search(rf"<!-- example:{name} -->\n```\n(.*?)```\n", text, re.DOTALL)
    assert match, f"docs/log.md has no example:{name} block"
    return match.group(1)


def test_documented_checkpoint_and_inclusion_proof_verify() -> None:
    log_vkey, *witness_vkeys = _example("vkeys").splitlines()
    cosigned = verify_cosigned_checkpoint(
        _example("checkpoint"),
        log_key=Ed25519Verifier.from_vkey(log_vkey),
        witness_keys=[CosignatureVerifier.from_vkey(v) for v in witness_vkeys],
    )
    index_line, size_line, entry_line, *proof_lines = _example("inclusion").splitlines()
    proof = [line.split()[-1] for line in proof_lines]
    assert cosigned.checkpoint.size == int(size_line.split()[-1])
    verify_inclusion(
        leaf_hash=leaf_hash(entry_line.split(maxsplit=1)[1].encode()),
        index=int(index_line.split()[-1]),
        size=cosigned.checkpoint.size,
        proof=[base64.b64decode(p) for p in proof],
        root=cosigned.checkpoint.root_hash,
    )


@pytest.mark.parametrize("module", [merkle, tile_format, tiles, note, checkpoint, witness])
def test_every_public_name_is_documented(module: object) -> None:
    text = DOC.read_text("utf-8")
    names: list[str] = getattr(module, "__all__")  # noqa: B009
    missing = [name for name in names if not re.search(rf"\b{name}\b", text)]
    assert not missing, f"docs/log.md does not mention {missing}"
