"""The packaged facts files: each has its sources and review date, and the packs read every
fact from them (a broken file is a ConfigError naming it)."""

from __future__ import annotations

import json
import math
from importlib.resources import files

import pytest

from compliance_support import facts
from raretrace.compliance.facts import Facts, load_facts
from raretrace.compliance.packs import PACKS
from raretrace.domain.elements import RARE_EARTHS
from raretrace.domain.errors import ConfigError


@pytest.mark.parametrize("name", [*PACKS, "prices"])
def test_every_facts_file_names_its_sources_and_review_date(name: str) -> None:
    loaded = load_facts(name)
    assert loaded.doc["pack"] == name
    assert len(loaded.reviewed) == 10
    sources = loaded.doc["sources"]
    assert sources and all(s["title"] for s in sources)


def test_facts_agree_with_the_issue() -> None:
    cn = load_facts("cn-mofcom")
    assert set(cn.strings("no18.elements")) == {"Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"}
    assert str(cn.date("no18.effective")) == "2025-04-04"
    assert str(cn.date("no61.effective")) == "2025-12-01"
    assert cn.number("no61.de_minimis_value_share") == 0.001
    [suspension] = cn.items("no61.suspensions")
    assert (str(suspension.date("from")), str(suspension.date("through"))) == (
        "2025-11-07", "2026-11-10",
    )  # fmt: skip
    us = load_facts("us-dfars")
    assert set(us.strings("covered_countries")) == {"CN", "RU", "KP", "IR"}
    assert len(us.strings("recycled_exception.qualifying_countries")) == 28
    eu = load_facts("eu-crma")
    assert len(eu.strings("member_states")) == 27
    assert set(eu.strings("strategic_elements")) == {"Nd", "Pr", "Tb", "Dy", "Gd", "Sm", "Ce"}
    prices = load_facts("prices").prices("prices")
    assert set(prices) <= set(RARE_EARTHS) and all(math.isfinite(p) for p in prices.values())


def test_the_facts_files_are_package_data() -> None:
    names = {p.name for p in (files("raretrace") / "data").iterdir()}
    assert {f"compliance-{n}.json" for n in [*PACKS, "prices"]} <= names
    for name in names:
        if name.endswith(".json"):
            json.loads((files("raretrace") / "data" / name).read_text(encoding="utf-8"))


def test_a_broken_fact_is_named() -> None:
    broken = Facts("compliance-x.json", {"reviewed": "2026-01-01", "when": "soon", "n": -1})
    with pytest.raises(ConfigError, match=r"compliance-x.json: 'when' must be a date"):
        broken.date("when")
    with pytest.raises(ConfigError, match=r"'n' must be a finite number >= 0"):
        broken.number("n")
    with pytest.raises(ConfigError, match=r"no 'missing.key'"):
        broken.text("missing.key")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_facts("no-such-pack")
    assert facts("us-dfars", rule="changed").text("rule") == "changed"
