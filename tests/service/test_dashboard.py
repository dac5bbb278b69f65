"""The dashboard's bounded reads (``service.dashboard``) against the reads they bound, on a
demo ledger in SQLite and PostgreSQL: paging through the lots by key (forwards and back)
lists exactly what ``scoped.lots`` lists, for every role's scope and filter; a lineage's
pages are exactly the events of its evidence bundle; counts and the tree size's points are
the tables' own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from raretrace.interop.ledgerread import lot_lineage
from raretrace.service import dashboard, reads, scoped
from raretrace.service.access import Principal
from raretrace.service.ledgers import Store, open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from service_support import build_demo

pytestmark = pytest.mark.integration

PRINCIPALS = [
    Principal("council", "council.asean"), Principal("operator", "lynas-my"),
    Principal("operator", "cn-northern"), Principal("operator", "perak-ree-pilot"),
    Principal("auditor", "sgs"), Principal("authority", "aelb-my"),
    Principal("authority", "monre-vn"),
]  # fmt: skip
FILTERS = [reads.LotFilter(), reads.LotFilter(form="magnet"), reads.LotFilter(status="active"),
           reads.LotFilter(facility="MY-LYNAS-LAMP", status="consumed")]  # fmt: skip


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Store:
    build_demo(tmp_path / "demo", db_url, events=400)
    return open_store(db_url)


def _forwards(store: Store, who: Principal, where: reads.LotFilter) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = dashboard.lots_page(store, who, where, after=after, limit=7)
        seen += [lot.id for lot in page.lots]
        if page.after is None:
            return seen
        after = page.after


def _backwards(store: Store, who: Principal, where: reads.LotFilter, last: str) -> list[str]:
    seen: list[str] = [last]
    before: str | None = last
    while before is not None:
        page = dashboard.lots_page(store, who, where, before=before, limit=7)
        seen = [lot.id for lot in page.lots] + seen
        before = page.before
    return seen


def test_paging_by_key_lists_what_the_scoped_read_lists(store: Store) -> None:
    for who in PRINCIPALS:
        for where in FILTERS:
            expected = [lot.id for lot in scoped.lots(store, who, where, limit=None).lots]
            assert _forwards(store, who, where) == expected, (who, where)
            if expected:
                assert _backwards(store, who, where, expected[-1]) == expected, (who, where)
            total = dashboard.lots_page(store, who, where).total
            assert total in (None, len(expected)), (who, where)
    assert dashboard.lots_page(store, PRINCIPALS[0], reads.LotFilter()).total is not None


def test_lineage_pages_are_the_events_of_the_evidence_bundle(store: Store) -> None:
    council = PRINCIPALS[0]
    magnets = reads.lots(store, reads.LotFilter(form="magnet"), limit=5).lots
    for lot in magnets:
        whole = {e.seq for e in lot_lineage(store, lot.id).events}
        paged: list[int] = []
        skip = 0
        while True:
            page = dashboard.lineage_page(store, council, lot.id, skip=skip, take=6)
            paged += [e.seq for e in page.events]
            if not page.more:
                break
            skip += 6
        assert len(paged) == len(set(paged)) and set(paged) == whole, lot.id


def test_counts_and_tree_sizes_are_the_tables_own(store: Store) -> None:
    for who in PRINCIPALS:
        assert dashboard.discrepancy_count(store, who) == len(scoped.discrepancies(store, who))
    assert dashboard.discrepancy_count(store) == len(reads.discrepancies(store))
    sizes = dashboard.tree_sizes(store, points=3)
    every = dashboard.tree_sizes(store, points=10_000)
    assert [s.size for s in every] == sorted(s.size for s in every)
    assert sizes[0] == every[0] and sizes[-1] == every[-1] and len(sizes) <= 5
    assert every[-1].size == store.size()
