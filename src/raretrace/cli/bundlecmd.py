"""``raretrace export, verify`` commands (to be written)."""

from __future__ import annotations

from raretrace.cli.main import app

__all__ = ["app"]
