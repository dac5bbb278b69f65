"""Fixtures for the credentials tests: fixed issuer keys, their DID documents, a credential."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test folders on sys.path; the helpers beside this file
# are imported by name from the test modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from credential_support import Issuers, make_issuers


@pytest.fixture(scope="session")
def issuers() -> Issuers:
    """The council and a certifier (fixed seeds), their DID documents and trust."""
    return make_issuers()
