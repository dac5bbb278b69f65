"""A QR code of a credential's URL, as an SVG file (segno: pure Python, no network)."""

from __future__ import annotations

from pathlib import Path

import segno

from raretrace.domain.errors import ConfigError


def write_qr_svg(url: str, path: Path) -> None:
    """Write an SVG QR code (error correction M, a 4-module quiet zone) encoding ``url``."""
    try:
        code = segno.make_qr(url, error="m")
    except segno.DataOverflowError:
        raise ConfigError(f"the URL {url[:60]}... is too long for a QR code") from None
    try:
        code.save(str(path), kind="svg", scale=4, border=4, title=url)
    except OSError as exc:
        raise ConfigError(f"cannot write the QR code {path}: {exc.strerror}") from None
