"""Fixtures for the demo tests; puts the reference checker beside this file on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

# pytest may run with --import-mode=importlib, which does not put test folders on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
