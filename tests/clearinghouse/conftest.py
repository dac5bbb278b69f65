"""The clearinghouse's tests use the service's helpers (a signed demo ledger, ``raretrace
serve``) from tests/api."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
