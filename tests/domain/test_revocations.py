"""The ``revocation`` event: its shape, who may record it, and that it changes no lot."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # --import-mode=importlib
from test_claims import State, extract

from raretrace.domain.errors import ValidationError
from raretrace.domain.events import RevocationEvent, parse_event

CREDENTIAL = "urn:uuid:1c7e9b3a-5d2f-4e8a-b6c4-0f9e8d7c6b5a"


def revocation(**changes: Any) -> dict[str, Any]:
    event = {
        "id": f"revocation:{CREDENTIAL}", "type": "revocation", "time": "2025-04-01T00:00:00Z",
        "actor": "registry", "credential": CREDENTIAL, "issuer": "did:web:council.example",
        "status_list": "https://council.example/credentials/status/revocation-1",
        "index": 94567, "lot": "A", "reason": "mass fraction misstated",
    }  # fmt: skip
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


def test_the_parser_reads_every_field() -> None:
    event = parse_event(revocation())
    assert isinstance(event, RevocationEvent)
    assert (event.credential, event.index, event.lot, event.reason) == (
        CREDENTIAL, 94567, "A", "mass fraction misstated",
    )  # fmt: skip
    assert parse_event(revocation(lot=None)).lot is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("index", [-1, 1.5, "94567", True, None])
def test_the_index_is_an_integer_from_0(index: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_event({**revocation(), "index": index})
    assert info.value.rule == "revocation-index"


@pytest.mark.parametrize("reason", ["", "   ", 7])
def test_a_revocation_says_why(reason: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_event(revocation(reason=reason))
    assert info.value.rule == "format" and "reason" in info.value.message


def test_it_is_recorded_by_the_registry_about_a_lot_of_the_ledger_and_changes_nothing() -> None:
    state = State()
    state.run(extract("A"))
    before = dict(state.lots)
    effects = state.run(revocation())
    assert (effects.lots, effects.links, effects.record) == ([], [], None)
    assert state.lots == before
    assert state.reject(revocation(actor="mine-co")).rule == "revocation-actor"
    assert state.reject(revocation(lot="NOPE")).rule == "lot-not-found"
