"""Recently used lots, kept between batches so the append path need not read them back.

Lots just created or changed are the ones the next events use (a lot is shipped, received,
then processed within days), so most reads hit this cache. It is only trusted while nobody
else has written: each batch starts by comparing the ledger's size with the size the cache
reflects, under the writer lock, and drops everything if they differ.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from raretrace.domain.model import Lot


class LotCache:
    """An LRU map of lot id → (lot, the provenance JSON stored for it in the database)."""

    def __init__(self, capacity: int = 25_000) -> None:
        self.capacity = capacity
        self._lots: OrderedDict[str, tuple[Lot, str]] = OrderedDict()
        #: Ledger size (events) the cached state corresponds to; None: trust nothing.
        self.size: int | None = None

    def validate(self, ledger_size: int) -> None:
        """Drop everything unless the ledger is exactly as this cache last saw it."""
        if self.size != ledger_size:
            self.clear()
            self.size = ledger_size

    def clear(self) -> None:
        self._lots.clear()
        self.size = None

    def lots(self, ids: Iterable[str]) -> dict[str, Lot]:
        """The cached ones among ``ids``."""
        found = {}
        for lot_id in ids:
            entry = self._lots.get(lot_id)
            if entry is not None:
                found[lot_id] = entry[0]
        return found

    def stored_provenance(self, lot: Lot) -> str | None:
        """The stored provenance JSON of ``lot`` if its provenance has not changed since."""
        entry = self._lots.get(lot.id)
        if entry is not None and entry[0].provenance is lot.provenance:
            return entry[1]
        return None

    def put(self, lot: Lot, provenance_json: str) -> None:
        self._lots[lot.id] = (lot, provenance_json)
        self._lots.move_to_end(lot.id)
        while len(self._lots) > self.capacity:
            self._lots.popitem(last=False)
