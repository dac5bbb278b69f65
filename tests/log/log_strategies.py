"""Hypothesis strategies and reference helpers shared by the transparency-log tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

# Copied into the repository with their licences: tests/vectors/SOURCES.md says from where.
VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def load_vectors(name: str) -> Any:
    """``tests/vectors/<name>/vectors.json``; a missing file fails the run (never a skip)."""
    path = VECTORS / name / "vectors.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"test vectors {path} are missing: they belong to the repository "
            f"(see tests/vectors/SOURCES.md); restore them with `git checkout -- {path.parent}`"
        )
    return json.loads(path.read_text("utf-8"))


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 Merkle Tree Hash, written as the recursive definition (the oracle)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def synthetic_leaves(n: int, salt: int = 0) -> list[bytes]:
    """Distinct small leaves, deterministic in ``n`` and ``salt``."""
    return [b"event %d/%d" % (salt, i) for i in range(n)]


def flip_bit(data: bytes, bit: int) -> bytes:
    """``data`` with bit ``bit`` (mod its length in bits) inverted."""
    bit %= len(data) * 8
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


small_sizes = st.integers(min_value=1, max_value=300)
tile_sizes = st.integers(min_value=1, max_value=2600)
leaf_bytes = st.binary(min_size=0, max_size=64)
