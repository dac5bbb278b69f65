"""A ledger's settings, fixed at ``raretrace init`` and kept in its ``meta`` table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from raretrace.domain.errors import ConfigError
from raretrace.domain.keys import ParticipantKey, parse_keys
from raretrace.domain.model import Tolerance
from raretrace.ledger.transparency import COMMITMENT_LEAVES, LEAVES_KEY, LogSettings

#: The ``meta`` key of the ledger's id.
LEDGER_ID = "ledger_id"


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    """Tolerance, signature policy, the log, the registry authority's keys, the ledger's id.

    ``ledger_id`` (random, made at ``raretrace init``) is what binds the log directory to this
    ledger (see ``ledger/logdir.py``); ledgers made before it existed get one on their next
    write, so it may be ``None`` when read.
    """

    tolerance: Tolerance
    require_signatures: bool
    log: LogSettings
    registry_keys: tuple[ParticipantKey, ...]
    ledger_id: str | None = None
    #: True for a ledger made before salted commitments whose log holds events in clear
    #: (``meta`` has no ``log_leaves``): it reads as before but accepts no event until
    #: ``raretrace log migrate`` moves it to a new log of commitments (docs/log.md).
    clear_leaves: bool = False

    @classmethod
    def from_meta(cls, meta: Mapping[str, str]) -> LedgerSettings:
        try:
            return cls(
                tolerance=Tolerance(
                    relative=float(meta["tolerance_relative"]),
                    absolute_kg=float(meta["tolerance_absolute_kg"]),
                ),
                require_signatures=meta["signatures"] == "required",
                log=LogSettings(Path(meta["log_dir"]), meta["log_origin"]),
                registry_keys=parse_keys(json.loads(meta["registry_keys"]), "registry"),
                ledger_id=meta.get(LEDGER_ID),
                clear_leaves=meta.get(LEAVES_KEY) != COMMITMENT_LEAVES,
            )
        except KeyError as exc:
            raise ConfigError(
                f"the ledger's settings lack {exc.args[0]!r}; run `raretrace init` to complete them"
            ) from None

    def to_meta(self) -> dict[str, str]:
        ids = {} if self.ledger_id is None else {LEDGER_ID: self.ledger_id}
        return {
            **ids,
            "tolerance_relative": repr(self.tolerance.relative),
            "tolerance_absolute_kg": repr(self.tolerance.absolute_kg),
            "signatures": "required" if self.require_signatures else "optional",
            "log_dir": str(self.log.directory),
            "log_origin": self.log.origin,
            "registry_keys": json.dumps([k.to_json() for k in self.registry_keys]),
            **({} if self.clear_leaves else {LEAVES_KEY: COMMITMENT_LEAVES}),
        }
