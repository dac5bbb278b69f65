"""The transparency log: RFC 9162 Merkle proofs, C2SP tiles, checkpoints and witness cosignatures.

The names most callers need are re-exported here; see docs/log.md and the submodules
(:mod:`.merkle`, :mod:`.tiles`, :mod:`.note`, :mod:`.checkpoint`, :mod:`.witness`).
"""

from raretrace.log.checkpoint import (
    Checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from raretrace.log.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from raretrace.log.note import Ed25519Signer, Ed25519Verifier, generate_key, open_note, sign_note
from raretrace.log.tiles import TileReader, TileWriter
from raretrace.log.witness import (
    CosignatureSigner,
    CosignatureVerifier,
    Witness,
    WitnessState,
    generate_cosigner_key,
    verify_cosigned_checkpoint,
)

__all__ = [
    "Checkpoint",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Ed25519Signer",
    "Ed25519Verifier",
    "TileReader",
    "TileWriter",
    "Witness",
    "WitnessState",
    "consistency_proof",
    "generate_cosigner_key",
    "generate_key",
    "inclusion_proof",
    "leaf_hash",
    "open_note",
    "parse_checkpoint",
    "sign_checkpoint",
    "sign_note",
    "verify_checkpoint",
    "verify_consistency",
    "verify_cosigned_checkpoint",
    "verify_inclusion",
]
