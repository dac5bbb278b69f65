"""RFC 9162 (RFC 6962) Merkle tree hashing, proof generation and proof verification.

The tree is addressed the way C2SP tlog-tiles and Go's ``golang.org/x/mod/sumdb/tlog`` address
it: node ``(level, index)`` is the hash of the complete subtree of ``2**level`` leaves starting at
leaf ``index * 2**level``. Only complete subtrees are ever stored; the hashes of incomplete right
edges are recomputed from them when a proof or a root for a given tree size is needed, so proofs
can be produced from static tiles. This module imports only :mod:`hashlib` and the error family.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from raretrace.domain.errors import ValidationError, VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "HashReader",
    "MemoryHashStore",
    "NodeId",
    "consistency_proof",
    "frontier_ids",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_hashes",
    "root_from_leaves",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
# RFC 9162 §2.1.1: the hash of an empty list is the hash of an empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


NodeId = tuple[int, int]
"""``(level, index)``: the complete subtree of ``2**level`` leaves from ``index * 2**level``."""


class HashReader(Protocol):
    """A source of stored complete-subtree hashes (tiles on disk, a table, a dict)."""

    def get_hashes(self, ids: Sequence[NodeId]) -> list[bytes]:
        """Return the hash of every node in ``ids``, in order; raise if one is unavailable."""
        ...


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x00 || data)``, the hash of one log entry."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x01 || left || right)``, an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over a sequence of already-hashed leaves (or of equal-sized subtree hashes).

    Used to hash a tile's row into the node one tile level up; linear time.
    """
    if not hashes:
        return EMPTY_ROOT
    compact = CompactRange()
    for h in hashes:
        compact.append(h)
    return compact.root()


def root_from_leaves(leaves: Iterable[bytes]) -> bytes:
    """RFC 9162 §2.1.1 Merkle Tree Hash of the given entries (raw leaf bytes)."""
    compact = CompactRange()
    for data in leaves:
        compact.append(leaf_hash(data))
    return compact.root()


def frontier_ids(size: int) -> list[NodeId]:
    """The complete subtrees that make up a tree of ``size`` leaves, largest (leftmost) first.

    These are the nodes a :class:`CompactRange` keeps, one per bit set in ``size``.
    """
    ids = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            ids.append((level, (size >> level) - 1))
    return ids


class CompactRange:
    """Incremental Merkle tree appender keeping only the O(log n) frontier hashes.

    :meth:`append` returns every complete subtree hash the new leaf completes, so a caller can
    store them (e.g. write a tile as it fills); :meth:`root` gives MTH for the current size.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        expected = bin(size).count("1")
        if size < 0 or len(hashes) != expected:
            raise ValidationError(
                "log.compact_range",
                f"size {size}",
                f"a compact range of size {size} holds {expected} hashes, got {len(hashes)}",
            )
        self._size = size
        self._hashes = list(hashes)

    @classmethod
    def from_reader(cls, reader: HashReader, size: int) -> CompactRange:
        """Resume at ``size`` from stored complete-subtree hashes."""
        return cls(size, reader.get_hashes(frontier_ids(size)))

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Frontier hashes, for the nodes :func:`frontier_ids` names, leftmost first."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Append one leaf *hash*; return the new complete subtrees, the leaf itself first."""
        index = self._size
        level = 0
        h = leaf
        completed = [((0, index), h)]
        # Each trailing 1 bit of the old size is a left sibling that the new leaf completes.
        while index & 1:
            h = node_hash(self._hashes.pop(), h)
            index >>= 1
            level += 1
            completed.append(((level, index), h))
        self._hashes.append(h)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """MTH of the tree so far (RFC 9162 §2.1.1): fold the frontier from the right."""
        if not self._hashes:
            return EMPTY_ROOT
        acc = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            acc = node_hash(h, acc)
        return acc


class MemoryHashStore:
    """An in-memory :class:`HashReader` that stores every complete subtree as leaves arrive."""

    def __init__(self) -> None:
        self._nodes: dict[NodeId, bytes] = {}
        self._compact = CompactRange()

    @property
    def size(self) -> int:
        """Number of leaves stored."""
        return self._compact.size

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        for node, h in self._compact.append(leaf):
            self._nodes[node] = h

    def root(self) -> bytes:
        """Root of the current tree."""
        return self._compact.root()

    def get_hashes(self, ids: Sequence[NodeId]) -> list[bytes]:
        """Return stored hashes; an unknown node is a caller bug (size beyond the store)."""
        try:
            return [self._nodes[node] for node in ids]
        except KeyError as exc:
            raise ValidationError(
                "log.node", str(exc.args[0]), "node is not stored; the tree is smaller"
            ) from None


# --- proof generation ----------------------------------------------------------------------


def _range_nodes(lo: int, hi: int) -> list[NodeId]:
    """Complete subtrees covering leaves [lo, hi), left to right, each as large as alignment allows.

    For the ranges RFC 9162's recursion produces (``lo`` aligned to a power of two at least the
    range width), folding these from the right gives MTH(D[lo:hi]) (§2.1.1's split at the
    largest power of two smaller than n).
    """
    nodes = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        if lo:
            level = min(level, (lo & -lo).bit_length() - 1)
        nodes.append((level, lo >> level))
        lo += 1 << level
    return nodes


def _fold(hashes: Sequence[bytes]) -> bytes:
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _hash_ranges(reader: HashReader, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """Read, in one batch, the nodes of every range and fold each range into its MTH."""
    plans = [_range_nodes(lo, hi) for lo, hi in ranges]
    flat = [node for plan in plans for node in plan]
    hashes = reader.get_hashes(flat) if flat else []
    if len(hashes) != len(flat):
        raise VerificationError(
            f"hash source returned {len(hashes)} hashes for {len(flat)} requested nodes"
        )
    out = []
    pos = 0
    for plan in plans:
        out.append(_fold(hashes[pos : pos + len(plan)]))
        pos += len(plan)
    return out


def _check_size(size: int, what: str) -> None:
    if size < 0:
        raise ValidationError("log.tree_size", f"{what} {size}", "tree sizes are never negative")


def tree_root(reader: HashReader, size: int) -> bytes:
    """MTH of the first ``size`` leaves, from stored complete subtrees."""
    _check_size(size, "tree size")
    if size == 0:
        return EMPTY_ROOT
    return _hash_ranges(reader, [(0, size)])[0]


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges, ordered from the leaf up to the root."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # largest power of two < n
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def inclusion_proof(reader: HashReader, *, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    _check_size(size, "tree size")
    if not 0 <= index < size:
        raise ValidationError(
            "log.proof.index",
            f"leaf {index}",
            f"an inclusion proof needs 0 <= index < tree size {size}",
        )
    return _hash_ranges(reader, _inclusion_ranges(index, size))


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], true) as leaf ranges, in proof order."""
    ranges: list[tuple[int, int]] = []
    m, lo, hi, complete = old_size, 0, new_size, True
    while m != hi - lo:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            m -= k
            lo += k
            complete = False
    # SUBPROOF(m, D[m], b) is empty when b is true, else the subtree hash MTH(D[m]).
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def consistency_proof(reader: HashReader, *, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 proof that the tree of ``old_size`` is a prefix of ``new_size``."""
    if not 0 < old_size <= new_size:
        raise ValidationError(
            "log.proof.sizes",
            f"{old_size} -> {new_size}",
            "a consistency proof needs 0 < old size <= new size",
        )
    return _hash_ranges(reader, _consistency_ranges(old_size, new_size))


# --- proof verification ---------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{what} is {len(value)} bytes; a SHA-256 hash is {HASH_SIZE}")


def _inclusion_path_length(index: int, size: int) -> int:
    """Number of hashes in a valid proof: one per level below the root, skipping the right edge."""
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner + border


def verify_inclusion(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: check that ``leaf_hash`` is leaf ``index`` of the tree ``root``.

    Raises :class:`VerificationError` on any failure; returns ``None`` when the proof checks.
    """
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}")
    expected = _inclusion_path_length(index, size)
    if len(proof) != expected:
        raise VerificationError(
            f"inclusion proof for leaf {index} of {size} has {len(proof)} hashes, "
            f"expected {expected}"
        )
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is longer than the tree is tall")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise VerificationError(
            f"inclusion proof for leaf {index} of tree size {size} gives root {r.hex()}, "
            f"not the expected {root.hex()}: the entry is not in that tree"
        )


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: check that tree ``old_root`` is a prefix of tree ``new_root``.

    Raises :class:`VerificationError` on any failure. A proof from the empty tree is rejected
    (as Go's tlog and transparency-dev/merkle do): it proves nothing.
    """
    if old_size <= 0 or new_size < old_size:
        raise VerificationError(
            f"no consistency proof exists from size {old_size} to size {new_size}"
        )
    if old_size == new_size:
        if proof:
            raise VerificationError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise VerificationError(
                f"two different roots for tree size {old_size}: "
                f"{old_root.hex()} and {new_root.hex()}"
            )
        return
    # Equal sizes compare roots byte for byte (as transparency-dev/merkle does, and as its
    # probes expect); only the hashing path below insists on 32-byte values.
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}")
    path = list(proof)
    if not path:
        raise VerificationError(f"empty consistency proof from size {old_size} to {new_size}")
    _check_consistency_path(old_size, new_size, old_root, new_root, path)


def _check_consistency_path(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: list[bytes]
) -> None:
    """The loop of RFC 9162 §2.1.4.2, steps 2–7."""
    if old_size & (old_size - 1) == 0:  # old_size is an exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is longer than the tree is tall")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise VerificationError(
            f"consistency proof from size {old_size} (root {old_root.hex()}) to size "
            f"{new_size} (root {new_root.hex()}) does not check: the log rewrote its history "
            "or the proof is corrupt"
        )
