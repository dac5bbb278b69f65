"""Comparing decoded JSON exactly: 1 and 1.0 differ, and so do 0.0 and -0.0."""

from __future__ import annotations

from typing import Any


def exact_value(value: Any) -> Any:
    """The value with every float replaced by its repr, so -0.0 and 0.0 differ."""
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, list):
        return [exact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: exact_value(v) for k, v in value.items()}
    return value
