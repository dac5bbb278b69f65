"""The formats' own example (the issue's events e1–e5 and their registry), from fixtures/.

Each call returns fresh copies, so a test may change what it gets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REGISTRY_FILE = FIXTURES / "example_registry.json"
EVENTS_FILE = FIXTURES / "example_events.jsonl"


def example_registry() -> dict[str, Any]:
    """Lynas Australia and Malaysia, Mount Weld and Gebeng."""
    registry: dict[str, Any] = json.loads(REGISTRY_FILE.read_text())
    return registry


def example_events() -> list[dict[str, Any]]:
    """extract, ship, receive, transform (separation), adjust: e1 … e5."""
    return [json.loads(line) for line in EVENTS_FILE.read_text().splitlines()]
