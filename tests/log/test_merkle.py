"""RFC 9162 Merkle hashing and proofs against the transparency-dev/merkle vectors and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from log_strategies import flip_bit, leaf_bytes, load_vectors, mth, small_sizes, synthetic_leaves

from raretrace.domain.errors import ValidationError, VerificationError
from raretrace.log.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryHashStore,
    consistency_proof,
    frontier_ids,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_hashes,
    root_from_leaves,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

H = bytes.fromhex


def _store(leaves: list[bytes]) -> MemoryHashStore:
    store = MemoryHashStore()
    for data in leaves:
        store.append(leaf_hash(data))
    return store


def _vector_leaves(rfc6962: Any) -> list[bytes]:
    return [H(x) for x in rfc6962["tree"]["leaf_inputs_hex"]]


# --- conformance ----------------------------------------------------------------------------


def test_hasher_vectors(rfc6962: Any) -> None:
    for vector in rfc6962["hashing"]["vectors"]:
        expected = H(vector["expected"])
        if vector["kind"] == "empty_root":
            assert root_from_leaves([]) == EMPTY_ROOT == expected
        elif vector["kind"] == "leaf":
            assert leaf_hash(H(vector["input_hex"])) == expected
        else:
            assert node_hash(H(vector["left_hex"]), H(vector["right_hex"])) == expected


def test_roots_for_every_tree_size(rfc6962: Any) -> None:
    leaves = _vector_leaves(rfc6962)
    for size, root in rfc6962["tree"]["roots_by_tree_size"].items():
        assert root_from_leaves(leaves[: int(size)]).hex() == root
        assert tree_root(_store(leaves), int(size)).hex() == root


def test_node_hashes_by_level(rfc6962: Any) -> None:
    store = _store(_vector_leaves(rfc6962))
    for level, hashes in enumerate(rfc6962["tree"]["node_hashes_by_level"]):
        ids = [(level, i) for i in range(len(hashes))]
        assert [h.hex() for h in store.get_hashes(ids)] == hashes


def test_inclusion_proof_vectors(rfc6962: Any) -> None:
    store = _store(_vector_leaves(rfc6962))
    for vector in rfc6962["inclusion_proofs"]:
        index, size = vector["leaf_index"], vector["tree_size"]
        proof = inclusion_proof(store, index=index, size=size)
        assert [p.hex() for p in proof] == vector["proof"]
        verify_inclusion(
            leaf_hash=leaf_hash(H(vector["leaf_input_hex"])),
            index=index,
            size=size,
            proof=proof,
            root=H(vector["root"]),
        )


def test_consistency_proof_vectors(rfc6962: Any) -> None:
    store = _store(_vector_leaves(rfc6962))
    for vector in rfc6962["consistency_proofs"]:
        old, new = vector["size1"], vector["size2"]
        proof = consistency_proof(store, old_size=old, new_size=new)
        assert [p.hex() for p in proof] == vector["proof"]
        verify_consistency(
            old_size=old,
            new_size=new,
            old_root=H(vector["root1"]),
            new_root=H(vector["root2"]),
            proof=proof,
        )


def _probe_ids(kind: str) -> list[str]:
    # Parametrized from the file so each probe is its own test; a missing file fails collection.
    ids = [p["file"] for p in load_vectors("rfc6962")[kind]]
    assert ids, f"tests/vectors/rfc6962/vectors.json holds no {kind}"
    return ids


@pytest.mark.parametrize("probe_file", _probe_ids("inclusion_probes"))
def test_inclusion_probes(rfc6962: Any, probe_file: str) -> None:
    (probe,) = [p for p in rfc6962["inclusion_probes"] if p["file"] == probe_file]
    check = lambda: verify_inclusion(  # noqa: E731
        leaf_hash=H(probe["leaf_hash"]),
        index=probe["leaf_index"],
        size=probe["tree_size"],
        proof=[H(p) for p in probe["proof"]],
        root=H(probe["root"]),
    )
    if probe["want_error"]:
        with pytest.raises(VerificationError):
            check()
    else:
        assert check() is None


@pytest.mark.parametrize("probe_file", _probe_ids("consistency_probes"))
def test_consistency_probes(rfc6962: Any, probe_file: str) -> None:
    (probe,) = [p for p in rfc6962["consistency_probes"] if p["file"] == probe_file]
    check = lambda: verify_consistency(  # noqa: E731
        old_size=probe["size1"],
        new_size=probe["size2"],
        old_root=H(probe["root1"]),
        new_root=H(probe["root2"]),
        proof=[H(p) for p in probe["proof"]],
    )
    if probe["want_error"]:
        with pytest.raises(VerificationError):
            check()
    else:
        assert check() is None


def test_every_probe_is_run(rfc6962: Any) -> None:
    assert len(_probe_ids("inclusion_probes")) == rfc6962["counts"]["inclusion_probes"] == 98
    assert len(_probe_ids("consistency_probes")) == rfc6962["counts"]["consistency_probes"] == 98


# --- bad input to generation ----------------------------------------------------------------


def test_generation_rejects_impossible_requests() -> None:
    store = _store(synthetic_leaves(5))
    with pytest.raises(ValidationError):
        inclusion_proof(store, index=5, size=5)
    with pytest.raises(ValidationError):
        consistency_proof(store, old_size=0, new_size=3)
    with pytest.raises(ValidationError):
        consistency_proof(store, old_size=4, new_size=3)
    with pytest.raises(ValidationError):
        inclusion_proof(store, index=0, size=9)  # beyond what is stored
    with pytest.raises(ValidationError):
        CompactRange(3, [EMPTY_ROOT])


# --- properties -----------------------------------------------------------------------------


@given(st.lists(leaf_bytes, max_size=70))
def test_compact_range_root_is_the_recursive_definition(leaves: list[bytes]) -> None:
    compact = CompactRange()
    for i, data in enumerate(leaves):
        completed = compact.append(leaf_hash(data))
        assert completed[0] == ((0, i), leaf_hash(data))
        for (level, index), h in completed:
            first = index << level
            assert h == mth(leaves[first : first + (1 << level)])
        assert compact.root() == mth(leaves[: i + 1])
    assert root_from_leaves(leaves) == mth(leaves)
    assert root_from_hashes([leaf_hash(d) for d in leaves]) == mth(leaves)


@given(small_sizes)
def test_compact_range_resumes_from_stored_hashes(size: int) -> None:
    leaves = synthetic_leaves(size + 3)
    store = _store(leaves[:size])
    resumed = CompactRange.from_reader(store, size)
    assert [lvl for lvl, _ in frontier_ids(size)] == sorted(
        [b for b in range(size.bit_length()) if size >> b & 1], reverse=True
    )
    for data in leaves[size:]:
        resumed.append(leaf_hash(data))
    assert resumed.root() == mth(leaves)


@given(small_sizes, st.data())
def test_inclusion_proofs_verify_and_tampering_fails(size: int, data: st.DataObject) -> None:
    leaves = synthetic_leaves(size)
    store = _store(leaves)
    root = mth(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(store, index=index, size=size)
    verify_inclusion(
        leaf_hash=leaf_hash(leaves[index]), index=index, size=size, proof=proof, root=root
    )
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(VerificationError):
        verify_inclusion(
            leaf_hash=flip_bit(leaf_hash(leaves[index]), bit),
            index=index,
            size=size,
            proof=proof,
            root=root,
        )
    with pytest.raises(VerificationError):
        verify_inclusion(
            leaf_hash=leaf_hash(leaves[index]),
            index=index,
            size=size,
            proof=proof,
            root=flip_bit(root, bit),
        )
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:which], flip_bit(proof[which], bit), *proof[which + 1 :]]
        with pytest.raises(VerificationError):
            verify_inclusion(
                leaf_hash=leaf_hash(leaves[index]), index=index, size=size, proof=bad, root=root
            )


@given(small_sizes, st.data())
def test_consistency_proofs_verify_and_tampering_fails(size: int, data: st.DataObject) -> None:
    leaves = synthetic_leaves(size)
    store = _store(leaves)
    old = data.draw(st.integers(1, size))
    proof = consistency_proof(store, old_size=old, new_size=size)
    old_root, new_root = mth(leaves[:old]), mth(leaves)
    verify_consistency(
        old_size=old, new_size=size, old_root=old_root, new_root=new_root, proof=proof
    )
    bit = data.draw(st.integers(0, 255))
    for o, n in [(flip_bit(old_root, bit), new_root), (old_root, flip_bit(new_root, bit))]:
        with pytest.raises(VerificationError):
            verify_consistency(old_size=old, new_size=size, old_root=o, new_root=n, proof=proof)
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:which], flip_bit(proof[which], bit), *proof[which + 1 :]]
        with pytest.raises(VerificationError):
            verify_consistency(
                old_size=old, new_size=size, old_root=old_root, new_root=new_root, proof=bad
            )


@settings(max_examples=50)
@given(small_sizes, st.data())
def test_a_different_history_is_not_consistent(size: int, data: st.DataObject) -> None:
    leaves = synthetic_leaves(size)
    old = data.draw(st.integers(1, size))
    changed = data.draw(st.integers(0, old - 1))
    forked = [*leaves[:changed], b"rewritten", *leaves[changed + 1 :]]
    proof = consistency_proof(_store(forked), old_size=old, new_size=size)
    with pytest.raises(VerificationError):
        verify_consistency(
            old_size=old,
            new_size=size,
            old_root=mth(leaves[:old]),
            new_root=mth(forked),
            proof=proof,
        )
