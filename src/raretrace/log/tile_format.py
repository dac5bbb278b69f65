"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles) formats: tile paths, inventories, bundles.

Pure functions with no file access; :mod:`raretrace.log.tiles` re-exports them next to the
tile reader and writer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from raretrace.domain.errors import ValidationError, VerificationError

__all__ = [
    "MAX_ENTRY_SIZE",
    "MAX_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileAddress",
    "TileLevel",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "encode_tile_index",
    "entries_path",
    "parse_tile_path",
    "tile_inventory",
    "tile_path",
]

TILE_HEIGHT = 8  # tlog-tiles: every tile is a subtree of height 8 ...
TILE_WIDTH = 1 << TILE_HEIGHT  # ... so a full tile holds 256 hashes (8,192 bytes)
MAX_ENTRY_SIZE = 0xFFFF  # entry bundles prefix each entry with a big-endian uint16 length
MAX_LEVEL = 63  # tlog-tiles: <L> is between 0 and 63


# --- paths ----------------------------------------------------------------------------------


def encode_tile_index(index: int) -> str:
    """tlog-tiles index encoding: zero-padded 3-digit elements, all but the last ``x``-prefixed.

    ``1234067`` becomes ``x001/x234/067``; ``999`` stays ``999``.
    """
    if index < 0:
        raise ValidationError("log.tile.index", str(index), "tile indexes are never negative")
    parts = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        parts.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(parts))


def _width_suffix(width: int) -> str:
    if width == TILE_WIDTH:
        return ""
    if not 1 <= width < TILE_WIDTH:
        raise ValidationError(
            "log.tile.width", str(width), "a tile is 1..255 hashes (partial) or 256 (full)"
        )
    return f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """Path of a Merkle tree tile relative to the log prefix: ``tile/<L>/<N>[.p/<W>]``."""
    if not 0 <= level <= MAX_LEVEL:
        raise ValidationError("log.tile.level", str(level), "tile levels are 0..63")
    return f"tile/{level}/{encode_tile_index(index)}{_width_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """Path of an entry bundle relative to the log prefix: ``tile/entries/<N>[.p/<W>]``."""
    return f"tile/entries/{encode_tile_index(index)}{_width_suffix(width)}"


@dataclass(frozen=True)
class TileAddress:
    """A parsed tile path; ``level`` is ``None`` for an entry bundle."""

    level: int | None
    index: int
    width: int


_PATH_RE = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


def parse_tile_path(path: str) -> TileAddress:
    """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` strictly.

    Rejects leading zeros, a leading ``x000`` element, levels above 63 and widths outside 1..255
    (a web server can use this to refuse paths the spec does not define).
    """
    match = _PATH_RE.fullmatch(path)
    if match is None or match["index"].startswith("x000"):
        raise ValidationError("log.tile.path", path, "not a tlog-tiles tile or entry bundle path")
    level = None if match["level"] == "entries" else int(match["level"])
    width = int(match["width"]) if match["width"] else TILE_WIDTH
    if (level is not None and level > MAX_LEVEL) or (match["width"] and width >= TILE_WIDTH):
        raise ValidationError("log.tile.path", path, "tile level or width out of range")
    index = int(match["index"].replace("x", "").replace("/", ""))
    return TileAddress(level, index, width)


class TileLevel(NamedTuple):
    """The tiles one level holds for a tree size: ``full`` full tiles, then maybe one partial."""

    level: int
    full: int
    partial_width: int


def tile_inventory(size: int) -> list[TileLevel]:
    """Tiles that exist for a tree of ``size`` leaves, level 0 upwards (tlog-tiles §Partial)."""
    levels = []
    level = 0
    while size >> (TILE_HEIGHT * level):
        count = size >> (TILE_HEIGHT * level)
        levels.append(TileLevel(level, count >> TILE_HEIGHT, count % TILE_WIDTH))
        level += 1
    return levels


# --- entry bundles --------------------------------------------------------------------------


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """tlog-tiles entry bundle: each entry as a big-endian uint16 length then its bytes."""
    out = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValidationError(
                "log.entry.size",
                f"entry {i}",
                f"{len(entry)} bytes; tlog-tiles entries are at most {MAX_ENTRY_SIZE}",
            )
        out += len(entry).to_bytes(2, "big")
        out += entry
    return bytes(out)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    """Split an entry bundle into its entries; raise if a length runs past the end."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise VerificationError(f"entry bundle ends inside a length prefix at byte {pos}")
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + length > len(data):
            raise VerificationError(
                f"entry bundle entry {len(entries)} claims {length} bytes, "
                f"only {len(data) - pos} remain"
            )
        entries.append(data[pos : pos + length])
        pos += length
    return entries
