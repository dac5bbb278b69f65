"""docs/formats.md's rule tables cannot drift from the code: every rule id the code raises is
documented, every documented rule is raised somewhere, and the example messages of the
bounds and id rules are exactly what the code says."""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from examples import example_events
from raretrace.domain.errors import ValidationError
from raretrace.domain.events import parse_event
from raretrace.domain.model import Tolerance
from raretrace.domain.registry import parse_registry

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
_START = DOC.index("## Rules and their messages")
RULES_SECTION = DOC[_START : DOC.index("\n## ", _START + 1)]
#: rule id -> the table rows that document it (the rule tables of docs/formats.md).
DOCUMENTED = {
    m[1]: m[0] for m in re.finditer(r"^\| `([a-z0-9-]+)`(?: \([a-z]+\))? \|.*$", DOC, re.M)
}


def _raised_rules(package: str) -> set[str]:
    """Rule ids in ``ValidationError(rule, …)``, ``_fail(rule, …)``, ``rule=…`` and the id
    rule's ``RULE`` constant, in ``package`` (a folder under src/raretrace, "" for all)."""
    found: set[str] = set()
    for path in (ROOT / "src" / "raretrace" / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                first = node.args[0] if node.args else None
                raisers = ("ValidationError", "_fail", "fail")  # fail: domain/casework.py
                if name in raisers and isinstance(first, ast.Constant):
                    found.add(first.value)
                found |= {
                    k.value.value
                    for k in node.keywords
                    if k.arg == "rule" and isinstance(k.value, ast.Constant)
                }
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and any(getattr(t, "id", "") == "RULE" for t in node.targets)
            ):
                found.add(node.value.value)
    return {r for r in found if isinstance(r, str)}


def test_every_rule_of_the_domain_is_documented_and_every_documented_rule_is_raised() -> None:
    domain = _raised_rules("domain")
    assert {"mass-limit", "bad-id", "registry-range", "format"} <= domain
    assert sorted(domain - DOCUMENTED.keys()) == [], "raised but not in docs/formats.md"
    in_rules_section = set(re.findall(r"^\| `([a-z0-9-]+)`", RULES_SECTION, re.M))
    assert sorted(in_rules_section - _raised_rules("")) == [], "documented but never raised"


E1, E2, E3, E4, E5 = example_events()
_REGISTRY = {
    "participants": [{"id": "lynas-my", "name": "Lynas Malaysia", "country": "MY"}],
    "facilities": [{"id": "MY-GEBENG", "name": "Gebeng", "operator": "lynas-my",
                    "country": "MY", "stage": "separation", "capacity_t_per_year": -5}],
}  # fmt: skip


def _edited(event: dict[str, object], **changes: object) -> Callable[[], object]:
    return lambda: parse_event({**copy.deepcopy(event), **changes})


def _huge_lot() -> object:
    obj = copy.deepcopy(E1)
    obj["outputs"][0]["mass_kg"] = 1e308  # type: ignore[index]
    return parse_event(obj)


CLAIM = {"id": "c1", "type": "claim", "time": "2025-01-27T00:00:00Z", "actor": "lynas-my",
         "lot": "NDPR-1", "scheme": "eu-crma-recycled-content"}  # fmt: skip

EXAMPLES: dict[str, Callable[[], object]] = {
    "mass-limit lot": _huge_lot,
    "mass-limit receipt": _edited(E3, mass_kg=9.99e9),
    "bad-id": _edited(E2, lot="MW-1\u202e"),
    "registry-range": lambda: parse_registry(_REGISTRY),
    "tolerance": lambda: Tolerance(0.005, 2e9),
    "claim-share": _edited(CLAIM, share=1.5),
}


@pytest.mark.parametrize("make", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_the_documented_example_is_what_the_code_says(make: Callable[[], object]) -> None:
    with pytest.raises(ValidationError) as info:
        make()
    row = DOCUMENTED[info.value.rule]
    assert f"`{info.value.message}`" in row, (info.value.message, row)
