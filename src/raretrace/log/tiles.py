"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the log as static files in a directory.

Layout under the log directory (the spec's ``<prefix>``)::

    checkpoint                       the latest signed checkpoint (c2sp.org/tlog-checkpoint)
    tile/<L>/<N>                     full tile: 256 hashes of tree level 8*L (8,192 bytes)
    tile/<L>/<N>.p/<W>               partial tile: the first W (1..255) of those hashes
    tile/entries/<N>[.p/<W>]         entry bundle: the leaves, uint16-length-prefixed

:class:`TileWriter` appends leaves and writes tiles as they fill; :class:`TileReader` serves
stored hashes from the files for proof generation (it implements :class:`HashReader`). The pure
path and bundle encodings live in :mod:`raretrace.log.tile_format` and are re-exported here.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

from raretrace.domain.errors import ConfigError, NotFound, ValidationError, VerificationError
from raretrace.log.files import write_public
from raretrace.log.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    NodeId,
    leaf_hash,
    node_hash,
    tree_root,
)
from raretrace.log.tile_format import (
    MAX_ENTRY_SIZE,
    MAX_LEVEL,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileAddress,
    TileLevel,
    decode_entry_bundle,
    encode_entry_bundle,
    encode_tile_index,
    entries_path,
    parse_tile_path,
    tile_inventory,
    tile_path,
)

__all__ = [
    "MAX_ENTRY_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileAddress",
    "TileLevel",
    "TileReader",
    "TileWriter",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "encode_tile_index",
    "entries_path",
    "parse_tile_path",
    "tile_inventory",
    "tile_path",
]


# --- reading --------------------------------------------------------------------------------


def _split_hashes(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _pair_up(row: list[bytes]) -> list[bytes]:
    """One level up inside a tile: hash neighbours pairwise (RFC 9162 §2.1.1 interior nodes)."""
    return [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]


def _full_subtree_root(row: list[bytes]) -> bytes:
    """MTH of a power-of-two-long row of subtree hashes (a full tile's parent hash)."""
    while len(row) > 1:
        row = _pair_up(row)
    return row[0]


class _TilePyramid:
    """The hashes of one tile and, computed on demand, the 7 tree levels inside it."""

    __slots__ = ("rows",)

    def __init__(self, data: bytes) -> None:
        self.rows = [_split_hashes(data)]

    def node(self, level: int, index: int) -> bytes:
        while len(self.rows) <= level:
            self.rows.append(_pair_up(self.rows[-1]))
        return self.rows[level][index]


def _candidates(root: Path, rel_full: str, width: int, *, wider: bool) -> list[tuple[str, int]]:
    """Files that hold the first ``width`` items of a tile, with the item count each holds.

    The exact partial first, then the full tile: clients "MAY fetch the full tile ... as a
    fallback in case the partial tile is not available anymore" (tlog-tiles §Partial Tiles).
    With ``wider``, also wider partials: the writer may use them when rolling back, since
    every file it wrote extends the same sequence of leaves.
    """
    if width == TILE_WIDTH:
        return [(rel_full, TILE_WIDTH)]
    found = [(f"{rel_full}.p/{width}", width), (rel_full, TILE_WIDTH)]
    if wider:
        partial_dir = root / f"{rel_full}.p"
        widths = sorted(w for w in _partial_widths(partial_dir) if w > width)
        found += [(f"{rel_full}.p/{w}", w) for w in widths]
    return found


def _read_tile_file(root: Path, rel_full: str, width: int, *, wider: bool = False) -> bytes | None:
    """The first ``width`` hashes of a tile, or ``None`` if no file holds them."""
    for rel, count in _candidates(root, rel_full, width, wider=wider):
        try:
            data = (root / rel).read_bytes()
        except FileNotFoundError:
            continue
        if len(data) != count * HASH_SIZE:
            raise VerificationError(
                f"tile {rel} is {len(data)} bytes, expected {count * HASH_SIZE}"
            )
        return data[: width * HASH_SIZE]
    return None


def _read_bundle_file(
    root: Path, index: int, width: int, *, wider: bool = False
) -> list[bytes] | None:
    """The first ``width`` entries of bundle ``index``, or ``None`` if no file holds them."""
    for rel, count in _candidates(root, entries_path(index), width, wider=wider):
        try:
            data = (root / rel).read_bytes()
        except FileNotFoundError:
            continue
        entries = decode_entry_bundle(data)
        if len(entries) != count:
            raise VerificationError(
                f"entry bundle {rel} holds {len(entries)} entries, expected {count}"
            )
        return entries[:width]
    return None


class _LRU:
    """A small least-recently-used map of tile pyramids."""

    def __init__(self, capacity: int) -> None:
        self._items: OrderedDict[tuple[int, int], _TilePyramid] = OrderedDict()
        self._capacity = max(1, capacity)

    def get(self, key: tuple[int, int]) -> _TilePyramid | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: tuple[int, int], item: _TilePyramid) -> None:
        self._items[key] = item
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)


def _tile_width(size: int, level: int, index: int) -> int:
    """Width of tile ``index`` at ``level`` in a tree of ``size`` leaves (0 if it is empty)."""
    count = size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))


class TileReader:
    """Stored hashes of the tree of ``size`` leaves, read from a tile directory.

    Implements :class:`raretrace.log.merkle.HashReader`, so ``inclusion_proof(reader, ...)``
    works on it. Only the hashes a tree of ``size`` commits to are served. Tiles are cached
    with the levels computed inside them: the ``cache_tiles`` most recently used level-0
    tiles, and up to ``cache_upper_tiles`` tiles of higher levels (there are 256 times fewer
    of those at each level, and every proof passes through them).
    """

    def __init__(
        self,
        directory: Path | str,
        size: int,
        *,
        cache_tiles: int = 64,
        cache_upper_tiles: int = 1024,
    ) -> None:
        if size < 0:
            raise ValidationError("log.tree_size", str(size), "tree sizes are never negative")
        self._root = Path(directory)
        self._size = size
        self._caches: tuple[_LRU, _LRU] = (_LRU(cache_tiles), _LRU(cache_upper_tiles))

    @property
    def size(self) -> int:
        """The tree size this reader serves."""
        return self._size

    def read_tile(self, level: int, index: int) -> bytes:
        """The bytes of tile ``index`` at ``level`` as a tree of this size defines it."""
        width = _tile_width(self._size, level, index)
        if width == 0:
            raise ValidationError(
                "log.tile.range",
                tile_path(level, index),
                f"a tree of size {self._size} has no such tile",
            )
        data = _read_tile_file(self._root, tile_path(level, index), width)
        if data is None:
            raise NotFound(
                f"tile {tile_path(level, index, width)} (or its full tile) is missing "
                f"under {self._root}; the tile directory is incomplete for size {self._size}"
            )
        return data

    def _pyramid(self, level: int, index: int) -> _TilePyramid:
        cache = self._caches[min(level, 1)]
        pyramid = cache.get((level, index))
        if pyramid is None:
            pyramid = _TilePyramid(self.read_tile(level, index))
            cache.put((level, index), pyramid)
        return pyramid

    def get_hashes(self, ids: Sequence[NodeId]) -> list[bytes]:
        """Hash of each complete subtree ``(level, index)``, computed from the tile holding it."""
        out = []
        for level, index in ids:
            if level < 0 or index < 0 or (index + 1) << level > self._size:
                raise ValidationError(
                    "log.node",
                    f"({level}, {index})",
                    f"not a complete subtree of a tree of size {self._size}",
                )
            tile_level, inner = divmod(level, TILE_HEIGHT)
            first = index << inner  # first hash of the subtree in the tile's bottom row
            tile_index = first >> TILE_HEIGHT
            pyramid = self._pyramid(tile_level, tile_index)
            out.append(pyramid.node(inner, index - (tile_index << (TILE_HEIGHT - inner))))
        return out

    def root(self) -> bytes:
        """MTH of the tree of this size, recomputed from the tiles."""
        return tree_root(self, self._size)

    def read_entry(self, index: int) -> bytes:
        """Leaf ``index`` from its entry bundle."""
        if not 0 <= index < self._size:
            raise ValidationError(
                "log.entry.index", str(index), f"the tree has {self._size} entries"
            )
        bundle = index >> TILE_HEIGHT
        width = _tile_width(self._size, 0, bundle)
        entries = _read_bundle_file(self._root, bundle, width)
        if entries is None:
            raise NotFound(f"entry bundle {entries_path(bundle, width)} is missing")
        return entries[index % TILE_WIDTH]


# --- writing --------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class TileWriter:
    """Appends leaves to a tile directory, writing each full tile as soon as it fills.

    Every file is written atomically (temporary file, fsync, rename). :meth:`flush` writes the
    partial tiles for the current size and syncs the directories: call it before signing a
    checkpoint for that size. The writer keeps one partly filled row per tile level, so
    appending N leaves costs about 2N hashes and 2 file writes per 256 leaves.

    On open the writer recovers its state from the files: the size from the level-0 tiles and
    entry bundles (or ``size``, e.g. the size of the last checkpoint, which discards anything
    written after it), and the right edge from partial tiles, recomputing any missing one from
    the tiles below. Appends after the last :meth:`flush` are not durable.

    One writer per directory at a time (there is no lock). ``fsync=False`` skips the syncs,
    for bulk loads and tests only: after a power failure files may then be empty.
    """

    def __init__(
        self, directory: Path | str, *, size: int | None = None, fsync: bool = True
    ) -> None:
        self._root = Path(directory)
        self._fsync = fsync
        self._dirty_dirs: set[Path] = set()
        on_disk = _discover_size(self._root)
        if size is None:
            size = on_disk
        elif not 0 <= size <= on_disk:
            raise ConfigError(
                f"cannot resume the log in {self._root} at size {size}: the tiles on disk "
                f"hold {on_disk} leaves; restore the missing tiles or resume at {on_disk}"
            )
        self._size = size
        self._entries = self._load_entries(size)
        self._rows = [
            self._load_row(level, size >> (TILE_HEIGHT * (level + 1)), width)
            for level, _, width in tile_inventory(size)
        ]
        _discard_beyond(self._root, size)
        self._repair_right_edge()
        if size < on_disk:
            # Rolled back: the partial tiles for this size may have been superseded by full
            # tiles that were just discarded, so write them again before anything else.
            self.flush()

    @property
    def size(self) -> int:
        """Number of leaves appended."""
        return self._size

    @property
    def directory(self) -> Path:
        """The log directory (the tlog-tiles prefix)."""
        return self._root

    def _load_entries(self, size: int) -> list[bytes]:
        width = size % TILE_WIDTH
        if width == 0:
            return []
        entries = _read_bundle_file(self._root, size >> TILE_HEIGHT, width, wider=True)
        if entries is None:
            raise ConfigError(f"entry bundle {entries_path(size >> TILE_HEIGHT, width)} missing")
        return entries

    def _load_row(self, level: int, index: int, width: int) -> list[bytes]:
        """Hashes of a tile from its file, else recomputed from the level below (or entries)."""
        if width == 0:
            return []
        data = _read_tile_file(self._root, tile_path(level, index), width, wider=True)
        if data is not None:
            return _split_hashes(data)
        if level == 0:
            entries = _read_bundle_file(self._root, index, width, wider=True)
            if entries is None:
                raise ConfigError(
                    f"neither {tile_path(0, index, width)} nor its entry bundle exist under "
                    f"{self._root}; the log cannot be resumed"
                )
            return [leaf_hash(e) for e in entries]
        first = index * TILE_WIDTH
        return [
            _full_subtree_root(self._load_row(level - 1, first + i, TILE_WIDTH))
            for i in range(width)
        ]

    def _repair_right_edge(self) -> None:
        """Rewrite the last full tile of each level if a crash interrupted its cascade."""
        for level, full, _ in tile_inventory(self._size):
            if full and not (self._root / tile_path(level, full - 1)).exists():
                row = self._load_row(level, full - 1, TILE_WIDTH)
                self._write(tile_path(level, full - 1), b"".join(row))

    def _write(self, rel: str, data: bytes) -> None:
        path = self._root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_public(path, data, fsync=self._fsync)
        self._dirty_dirs.add(path.parent)

    def append(self, leaves: Iterable[bytes]) -> int:
        """Append leaves (raw entry bytes, at most 65,535 each); return the new tree size."""
        for data in leaves:
            if len(data) > MAX_ENTRY_SIZE:
                raise ValidationError(
                    "log.entry.size",
                    f"leaf {self._size}",
                    f"{len(data)} bytes; tlog-tiles entries are at most {MAX_ENTRY_SIZE}",
                )
            self._entries.append(data)
            if not self._rows:
                self._rows.append([])
            row = self._rows[0]
            row.append(leaf_hash(data))
            self._size += 1
            if len(row) == TILE_WIDTH:
                self._complete_bundle_and_tiles()
        return self._size

    def _complete_bundle_and_tiles(self) -> None:
        # Bundle before tile: the size is recovered from level-0 tiles that have a bundle.
        index = (self._size >> TILE_HEIGHT) - 1
        self._write(entries_path(index), encode_entry_bundle(self._entries))
        _remove_partials(self._root / entries_path(index))
        self._entries = []
        level = 0
        while len(self._rows[level]) == TILE_WIDTH:
            row = self._rows[level]
            self._write(tile_path(level, index), b"".join(row))
            _remove_partials(self._root / tile_path(level, index))
            self._rows[level] = []
            if level + 1 == len(self._rows):
                self._rows.append([])
            self._rows[level + 1].append(_full_subtree_root(row))
            level += 1
            index >>= TILE_HEIGHT

    def root(self) -> bytes:
        """MTH of the current tree, from the partly filled rows (no file access)."""
        subtrees: list[bytes] = []
        for row in reversed(self._rows):
            pos = 0
            for bit in range(TILE_HEIGHT - 1, -1, -1):
                if len(row) >> bit & 1:
                    subtrees.append(_full_subtree_root(row[pos : pos + (1 << bit)]))
                    pos += 1 << bit
        if not subtrees:
            return EMPTY_ROOT
        acc = subtrees[-1]
        for h in reversed(subtrees[:-1]):
            acc = node_hash(h, acc)
        return acc

    def flush(self) -> bytes:
        """Write the partial tiles and bundle for the current size, sync, return the root.

        The level-0 partial tile is written last: it is what marks the size as complete.
        """
        if self._entries:
            self._write(
                entries_path(self._size >> TILE_HEIGHT, len(self._entries)),
                encode_entry_bundle(self._entries),
            )
        for level in range(len(self._rows) - 1, -1, -1):
            row = self._rows[level]
            if row:
                index = self._size >> (TILE_HEIGHT * (level + 1))
                self._write(tile_path(level, index, len(row)), b"".join(row))
        if self._fsync:
            for path in sorted(self._dirty_dirs, key=lambda p: -len(p.parts)):
                _fsync_dir(path)
            self._dirty_dirs.clear()
        return self.root()

    def publish_checkpoint(self, note: str) -> None:
        """Write ``<dir>/checkpoint`` atomically (call after :meth:`flush` and signing)."""
        publish_checkpoint(self._root, note, fsync=self._fsync)


def _remove_partials(full_path: Path) -> None:
    """Delete a tile's partial versions once the full tile exists (tlog-tiles allows it)."""
    partial_dir = full_path.with_name(full_path.name + ".p")
    if partial_dir.is_dir():
        for child in partial_dir.iterdir():
            child.unlink()
        partial_dir.rmdir()


def _has_full_level0(root: Path, index: int) -> bool:
    tile = root / tile_path(0, index)
    return tile.is_file() and (root / entries_path(index)).is_file()


def _discover_size(root: Path) -> int:
    """Largest size whose level-0 tiles and entry bundles are all on disk."""
    if not _has_full_level0(root, 0):
        full = 0
    else:
        # Full tiles are written in order, so they are contiguous: gallop, then bisect.
        lo, hi = 0, 1  # tile lo exists; tile hi is not yet known to be missing
        while _has_full_level0(root, hi):
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _has_full_level0(root, mid):
                lo = mid
            else:
                hi = mid
        full = lo + 1
    for width in sorted(_partial_widths(root / (tile_path(0, full) + ".p")), reverse=True):
        if (root / entries_path(full, width)).is_file():
            return full * TILE_WIDTH + width
    return full * TILE_WIDTH


def _partial_widths(partial_dir: Path) -> list[int]:
    if not partial_dir.is_dir():
        return []
    return [int(p.name) for p in partial_dir.iterdir() if re.fullmatch(r"[1-9][0-9]{0,2}", p.name)]


def _rel_path(level: int | None, index: int) -> str:
    return entries_path(index) if level is None else tile_path(level, index)


def _discard_beyond(root: Path, size: int) -> None:
    """Delete tiles and bundles that a tree of ``size`` does not contain (stale after a crash)."""
    for level in [None, *range(MAX_LEVEL + 1)]:
        shift = TILE_HEIGHT * (level or 0)
        base = root / ("tile/entries" if level is None else f"tile/{level}")
        if not base.is_dir():
            if level is None:
                continue
            return  # levels are created bottom-up: nothing above this one
        index = size >> (shift + TILE_HEIGHT)
        width = (size >> shift) % TILE_WIDTH
        if width:
            # The current tile is partial: keep its narrower partials, drop anything wider.
            current = root / _rel_path(level, index)
            current.unlink(missing_ok=True)
            for w in _partial_widths(current.with_name(current.name + ".p")):
                if w > width:
                    (root / f"{_rel_path(level, index)}.p/{w}").unlink()
            index += 1
        while True:
            full = root / _rel_path(level, index)
            partials = full.with_name(full.name + ".p")
            if not full.exists() and not partials.exists():
                break
            full.unlink(missing_ok=True)
            _remove_partials(full)
            index += 1


def tiles_on_disk(directory: Path | str) -> int:
    """How many leaves the tiles in ``directory`` hold completely (0 for an empty directory)."""
    return _discover_size(Path(directory))


def publish_checkpoint(directory: Path | str, note: str, *, fsync: bool = True) -> None:
    """Atomically replace ``<directory>/checkpoint`` with ``note`` (tlog-tiles §Checkpoint)."""
    root = Path(directory)
    write_public(root / "checkpoint", note.encode("utf-8"), fsync=fsync)
    if fsync:
        _fsync_dir(root)
