"""C2SP tlog-tiles: path encoding, inventories, entry bundles, the tile writer and reader."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from log_strategies import flip_bit, mth, synthetic_leaves, tile_sizes

from raretrace.domain.errors import (
    ConfigError,
    NotFound,
    ValidationError,
    VerificationError,
)
from raretrace.log.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from raretrace.log.tiles import (
    TileAddress,
    TileReader,
    TileWriter,
    decode_entry_bundle,
    encode_entry_bundle,
    encode_tile_index,
    entries_path,
    parse_tile_path,
    tile_inventory,
    tile_path,
)

pytestmark = pytest.mark.integration  # writes tile files to disk


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# --- paths and inventories ------------------------------------------------------------------


def test_index_encoding_vectors(c2sp: Any) -> None:
    for vector in c2sp["tlog_tiles"]["index_encoding_vectors"]:
        assert encode_tile_index(vector["n"]) == vector["path"]


def test_tile_paths() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert entries_path(1000, 1) == "tile/entries/x001/000.p/1"
    for bad in [(-1, 0, 256), (64, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257)]:
        with pytest.raises(ValidationError):
            tile_path(*bad)


def test_parse_tile_path_round_trips_and_rejects_non_canonical_paths() -> None:
    for level, index, width in [(0, 0, 256), (1, 1234067, 17), (63, 999, 255), (None, 1000, 1)]:
        path = entries_path(index, width) if level is None else tile_path(level, index, width)
        assert parse_tile_path(path) == TileAddress(level, index, width)
    for bad in [
        "tile/00/000",
        "tile/64/000",
        "tile/0/1",
        "tile/0/x000/123",
        "tile/0/001/002",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/012",
        "tile/entries/000.p/",
        "tile/0/../000",
    ]:
        with pytest.raises(ValidationError):
            parse_tile_path(bad)


def test_tile_inventory_vectors(c2sp: Any) -> None:
    for vector in c2sp["tlog_tiles"]["tile_inventory_vectors"]:
        inventory = tile_inventory(vector["tree_size"])
        expected = vector["tiles"]
        assert len(inventory) == len(expected)
        for level in inventory:
            want = expected[f"level{level.level}"]
            assert (level.full, level.partial_width) == (want["full"], want["partial_width"])


def test_writer_produces_the_spec_inventory_for_70000(tmp_path: Path, c2sp: Any) -> None:
    (vector,) = [v for v in c2sp["tlog_tiles"]["tile_inventory_vectors"] if v["tree_size"] == 70000]
    writer = TileWriter(tmp_path, fsync=False)
    writer.append(synthetic_leaves(70000))
    writer.flush()
    for level, want in enumerate(vector["tiles"].values()):
        files = list((tmp_path / f"tile/{level}").rglob("*"))
        full = [f for f in files if f.is_file() and ".p" not in f.parent.name]
        partial = [f for f in files if f.is_file() and f.parent.name.endswith(".p")]
        assert len(full) == want["full"]
        assert [int(f.name) for f in partial] == [want["partial_width"]]
        assert all(f.stat().st_size == 8192 for f in full)
    assert len(list((tmp_path / "tile/entries").glob("*"))) == 274  # 273 full + 1 .p dir


# --- entry bundles --------------------------------------------------------------------------


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_entry_bundles_round_trip(entries: list[bytes]) -> None:
    assert decode_entry_bundle(encode_entry_bundle(entries)) == entries


def test_entry_bundle_limits() -> None:
    assert encode_entry_bundle([b"ab", b""]) == b"\x00\x02ab\x00\x00"
    with pytest.raises(ValidationError):
        encode_entry_bundle([b"x" * 65536])
    for bad in [b"\x00", b"\x00\x05abc"]:
        with pytest.raises(VerificationError):
            decode_entry_bundle(bad)


# --- proofs from tiles ----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(tile_sizes, st.data())
def test_proofs_from_tiles_verify_and_tampering_fails(size: int, data: st.DataObject) -> None:
    leaves = synthetic_leaves(size)
    old = data.draw(st.integers(1, size), label="old size")
    with tempfile.TemporaryDirectory() as tmp:
        writer = TileWriter(tmp, fsync=False)
        writer.append(leaves[:old])
        old_root = writer.flush()
        writer.append(leaves[old:])
        root = writer.flush()
        assert old_root == mth(leaves[:old]) and root == mth(leaves)
        reader = TileReader(tmp, size, cache_tiles=2)
        old_reader = TileReader(tmp, old)
        assert reader.root() == root and old_reader.root() == old_root
        for index in {0, size - 1, old - 1, data.draw(st.integers(0, size - 1))}:
            proof = inclusion_proof(reader, index=index, size=size)
            lh = leaf_hash(reader.read_entry(index))
            verify_inclusion(leaf_hash=lh, index=index, size=size, proof=proof, root=root)
            bit = data.draw(st.integers(0, 255))
            with pytest.raises(VerificationError):
                verify_inclusion(
                    leaf_hash=flip_bit(lh, bit), index=index, size=size, proof=proof, root=root
                )
            if proof:
                bad = [flip_bit(proof[0], bit), *proof[1:]]
                with pytest.raises(VerificationError):
                    verify_inclusion(leaf_hash=lh, index=index, size=size, proof=bad, root=root)
        proof = consistency_proof(reader, old_size=old, new_size=size)
        verify_consistency(
            old_size=old, new_size=size, old_root=old_root, new_root=root, proof=proof
        )
        # The old size's proofs still come out of the tiles (full tiles replace old partials).
        proof = inclusion_proof(old_reader, index=old - 1, size=old)
        verify_inclusion(
            leaf_hash=leaf_hash(leaves[old - 1]),
            index=old - 1,
            size=old,
            proof=proof,
            root=old_root,
        )


# --- resuming -------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=5))
def test_resumed_writer_writes_the_same_tiles(batches: list[int]) -> None:
    leaves = synthetic_leaves(sum(batches))
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        steady = TileWriter(a, fsync=False)
        pos = 0
        for n in batches:
            steady.append(leaves[pos : pos + n])
            steady.flush()
            # A new writer per batch: everything it needs comes from the files.
            restarted = TileWriter(b, fsync=False)
            assert restarted.size == pos
            restarted.append(leaves[pos : pos + n])
            assert restarted.flush() == steady.root()
            pos += n
        assert _snapshot(Path(a)) == _snapshot(Path(b))
        assert TileWriter(b).root() == mth(leaves)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 1500), st.integers(0, 1500))
def test_crash_before_flush_recovers_a_consistent_prefix(flushed: int, more: int) -> None:
    leaves = synthetic_leaves(flushed + more + 300)
    with tempfile.TemporaryDirectory() as tmp:
        writer = TileWriter(tmp, fsync=False)
        writer.append(leaves[:flushed])
        writer.flush()
        writer.append(leaves[flushed : flushed + more])  # never flushed: "crash"
        resumed = TileWriter(tmp, fsync=False)
        # Unflushed full tiles survive; the rest of the unflushed tail is gone.
        assert resumed.size == max(flushed, (flushed + more) // 256 * 256)
        assert resumed.root() == mth(leaves[: resumed.size])
        resumed.append(leaves[resumed.size :])
        assert resumed.flush() == mth(leaves)
        assert TileReader(tmp, len(leaves)).root() == mth(leaves)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 1500), st.integers(1, 1500), st.integers(0, 300))
def test_resume_at_an_older_size_discards_later_leaves(keep: int, extra: int, more: int) -> None:
    leaves = synthetic_leaves(keep + extra)
    other = synthetic_leaves(more, salt=1)
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as ref:
        writer = TileWriter(tmp, fsync=False)
        writer.append(leaves)
        writer.flush()
        rolled_back = TileWriter(tmp, size=keep, fsync=False)
        assert rolled_back.root() == mth(leaves[:keep])
        assert TileWriter(tmp, fsync=False).size == keep  # the rollback is on disk
        rolled_back.append(other)
        rolled_back.flush()
        straight = TileWriter(ref, fsync=False)
        straight.append(leaves[:keep])
        straight.flush()
        straight.append(other)
        straight.flush()
        assert _snapshot(Path(tmp)) == _snapshot(Path(ref))


def test_missing_upper_tile_is_rebuilt_on_open(tmp_path: Path) -> None:
    leaves = synthetic_leaves(65536 + 10)
    writer = TileWriter(tmp_path, fsync=False)
    writer.append(leaves)
    writer.flush()
    (tmp_path / tile_path(1, 0)).unlink()  # as if a crash hit between level 0 and level 1
    for p in (tmp_path / "tile/2").rglob("*"):
        if p.is_file():
            p.unlink()
    resumed = TileWriter(tmp_path, fsync=False)
    assert (tmp_path / tile_path(1, 0)).is_file()
    assert resumed.root() == mth(leaves)
    resumed.flush()
    assert TileReader(tmp_path, len(leaves)).root() == mth(leaves)


def test_resume_beyond_the_files_is_refused(tmp_path: Path) -> None:
    writer = TileWriter(tmp_path, fsync=False)
    writer.append(synthetic_leaves(10))
    writer.flush()
    with pytest.raises(ConfigError):
        TileWriter(tmp_path, size=11)


def test_reader_reports_missing_and_damaged_tiles(tmp_path: Path) -> None:
    writer = TileWriter(tmp_path)
    writer.append(synthetic_leaves(300))
    writer.flush()
    writer.publish_checkpoint("example\n300\nAAAA\n\n— example AAAA\n")
    assert (tmp_path / "checkpoint").read_text("utf-8").startswith("example\n300\n")
    with pytest.raises(ValidationError):
        TileReader(tmp_path, 300).get_hashes([(9, 0)])  # not a complete subtree of 300
    (tmp_path / tile_path(0, 1, 44)).write_bytes(b"short")
    with pytest.raises(VerificationError):
        TileReader(tmp_path, 300).get_hashes([(0, 299)])
    (tmp_path / tile_path(0, 1, 44)).unlink()
    with pytest.raises(NotFound):
        TileReader(tmp_path, 300).get_hashes([(0, 299)])


def test_oversized_leaf_is_rejected(tmp_path: Path) -> None:
    writer = TileWriter(tmp_path, fsync=False)
    with pytest.raises(ValidationError):
        writer.append([b"x" * 65536])
    assert writer.size == 0


@pytest.mark.parametrize(("umask", "public"), [(0o022, 0o644), (0o027, 0o640)])
def test_tiles_and_checkpoint_are_public_files(tmp_path: Path, umask: int, public: int) -> None:
    """Tiles, entry bundles and the checkpoint are what a log publishes: 0644 less the umask,
    never the 0600 a temporary file starts with (tlog-tiles serves them as static files)."""
    old = os.umask(umask)
    try:
        writer = TileWriter(tmp_path, fsync=False)
        writer.append(synthetic_leaves(300))  # a full tile, a partial one, both bundles
        writer.flush()
        writer.publish_checkpoint("example\n300\nAAAA\n\n— example AAAA\n")
    finally:
        os.umask(old)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in files}
    assert modes == {
        name: public
        for name in ("checkpoint", "tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1",
                     "tile/entries/000", "tile/entries/001.p/44")
    }  # fmt: skip
    assert not [p for p in tmp_path.rglob(".*.tmp")]  # no temporary file left behind
