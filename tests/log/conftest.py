"""Shared fixtures for the transparency-log tests: the conformance vectors in tests/vectors/."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# pytest runs with --import-mode=importlib, which does not put test folders on sys.path; the
# shared strategies module beside this file is imported by name from the test modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from log_strategies import load_vectors


@pytest.fixture(scope="session")
def rfc6962() -> Any:
    """RFC 6962 / RFC 9162 vectors from transparency-dev/merkle (tests/vectors/rfc6962/)."""
    return load_vectors("rfc6962")


@pytest.fixture(scope="session")
def c2sp() -> Any:
    """C2SP signed-note, checkpoint, cosignature and tiles vectors (tests/vectors/c2sp/)."""
    return load_vectors("c2sp")
