"""raretrace: an element-conserving chain of custody for rare earths, from mine to magnet.

The public surface: open or create a ledger and append to it (``init_ledger``,
``open_ledger``, ``Ledger``), read it (``Store``, ``trace``), check evidence offline
(``verify_bundle``, ``verify_file``, ``parse_trust``), and the error family.
"""

from typing import TYPE_CHECKING

from raretrace.domain.errors import (
    ConfigError,
    NotFound,
    RaretraceError,
    ValidationError,
    VerificationError,
)
from raretrace.domain.model import Lot, Tolerance

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers
    from raretrace.ledger.append import IngestReport, Ledger
    from raretrace.ledger.service import init_ledger, open_ledger, trace
    from raretrace.store.store import Store
    from raretrace.verify import TrustedKeys, Verdict, parse_trust, verify_bundle, verify_file

__version__ = "0.1.0"

# Loaded on first use (PEP 562), so that ``import raretrace.verify`` — what a buyer runs
# offline — does not pull in the database layer.
_LAZY = {
    "IngestReport": "raretrace.ledger.append",
    "Ledger": "raretrace.ledger.append",
    "init_ledger": "raretrace.ledger.service",
    "open_ledger": "raretrace.ledger.service",
    "trace": "raretrace.ledger.service",
    "Store": "raretrace.store.store",
    "TrustedKeys": "raretrace.verify",
    "Verdict": "raretrace.verify",
    "parse_trust": "raretrace.verify",
    "verify_bundle": "raretrace.verify",
    "verify_file": "raretrace.verify",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'raretrace' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "ConfigError",
    "IngestReport",
    "Ledger",
    "Lot",
    "NotFound",
    "RaretraceError",
    "Store",
    "Tolerance",
    "TrustedKeys",
    "ValidationError",
    "Verdict",
    "VerificationError",
    "__version__",
    "init_ledger",
    "open_ledger",
    "parse_trust",
    "trace",
    "verify_bundle",
    "verify_file",
]
