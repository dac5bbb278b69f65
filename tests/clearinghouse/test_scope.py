"""A state authority reads within its state; a national one within its country
(docs/service.md, "Roles"; docs/clearinghouse.md, "Jurisdiction")."""

from __future__ import annotations

from clearinghouse_support import WORLD
from raretrace.domain.registry import Registry, parse_registry_document
from raretrace.service.access import AUTHORITY, Principal, scope_of


def _registry() -> Registry:
    registry = Registry()
    for record in parse_registry_document(WORLD).records():
        registry.add(record)
    return registry


def test_a_state_authority_sees_its_state_and_a_national_one_its_country() -> None:
    registry = _registry()
    perak = scope_of(Principal(AUTHORITY, "ptg-perak"), registry)
    pahang = scope_of(Principal(AUTHORITY, "ptg-pahang"), registry)
    federal = scope_of(Principal(AUTHORITY, "aelb-my"), registry)
    assert perak.facilities == {"MY-KENERING"}
    assert pahang.facilities == {"MY-LAMP"}
    assert federal.facilities == {"MY-KENERING", "MY-LAMP"}
