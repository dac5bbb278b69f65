"""Fixtures for the HTTP service tests: one signed demo ledger on SQLite served for the
session, and tokens for each role."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# --import-mode=importlib does not put test folders on sys.path; the helpers beside this file
# are imported by name from the test modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_support import DemoLedger, Server, build_demo, serving

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> DemoLedger:
    """A signed demo ledger on SQLite (shared: tests that write add events of their own)."""
    folder = tmp_path_factory.mktemp("api-ledger")
    return build_demo(folder, str(folder / "ledger.db"))


@pytest.fixture(scope="session")
def server(demo_ledger: DemoLedger) -> Iterator[Server]:
    """``raretrace serve`` on that ledger, one worker, for the session."""
    with serving(demo_ledger) as running:
        yield running
