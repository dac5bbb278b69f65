"""Element keys, the conserved set, and oxide-equivalent (REO) factors against published tables."""

from __future__ import annotations

import pytest

from raretrace.domain.elements import (
    CONSERVED,
    ELEMENT_KEYS,
    HEAVY_RARE_EARTHS,
    LIGHT_RARE_EARTHS,
    OTHER,
    OXIDE_FACTOR,
    OXIDE_FORMULA,
    RARE_EARTHS,
    is_known,
    oxide_equivalent,
    total_reo,
)

# Element-to-stoichiometric-oxide conversion factors as published in REO reporting tables
# (e.g. the JORC/JCU "element to stoichiometric oxide conversion factors"), to 4 decimals.
PUBLISHED_FACTORS = {
    "Sc": ("Sc2O3", 1.5338),
    "Y": ("Y2O3", 1.2699),
    "La": ("La2O3", 1.1728),
    "Ce": ("CeO2", 1.2284),
    "Pr": ("Pr6O11", 1.2082),
    "Nd": ("Nd2O3", 1.1664),
    "Sm": ("Sm2O3", 1.1596),
    "Eu": ("Eu2O3", 1.1579),
    "Gd": ("Gd2O3", 1.1526),
    "Tb": ("Tb4O7", 1.1762),
    "Dy": ("Dy2O3", 1.1477),
    "Ho": ("Ho2O3", 1.1455),
    "Er": ("Er2O3", 1.1435),
    "Tm": ("Tm2O3", 1.1421),
    "Yb": ("Yb2O3", 1.1387),
    "Lu": ("Lu2O3", 1.1372),
    "Th": ("ThO2", 1.1379),
    "U": ("U3O8", 1.1792),
}


def test_seventeen_rare_earths_in_atomic_number_order() -> None:
    assert RARE_EARTHS == (
        "Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu",
        "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
    )  # fmt: skip


def test_conserved_set_and_keys() -> None:
    assert frozenset(RARE_EARTHS) | {"Th", "U"} == CONSERVED
    assert OTHER not in CONSERVED
    assert (*RARE_EARTHS, "Th", "U", "other") == ELEMENT_KEYS
    assert LIGHT_RARE_EARTHS | HEAVY_RARE_EARTHS | {"Sc"} == frozenset(RARE_EARTHS)
    assert not LIGHT_RARE_EARTHS & HEAVY_RARE_EARTHS
    assert {"Dy", "Tb", "Y"} <= HEAVY_RARE_EARTHS
    assert {"Nd", "Pr"} <= LIGHT_RARE_EARTHS


@pytest.mark.parametrize("key", [*ELEMENT_KEYS])
def test_known_keys(key: str) -> None:
    assert is_known(key)


@pytest.mark.parametrize("key", ["nd", "ND", "Fe", "B", "Other", "REO", "", "Nd2O3"])
def test_unknown_keys(key: str) -> None:
    assert not is_known(key)


@pytest.mark.parametrize(
    ("element", "formula", "factor"), [(e, *v) for e, v in PUBLISHED_FACTORS.items()]
)
def test_oxide_factor_matches_published_table(element: str, formula: str, factor: float) -> None:
    assert OXIDE_FORMULA[element] == formula
    assert round(OXIDE_FACTOR[element], 4) == factor


def test_every_conserved_element_has_an_oxide_and_other_has_none() -> None:
    assert set(OXIDE_FACTOR) == CONSERVED
    assert OTHER not in OXIDE_FORMULA


def test_oxide_equivalent() -> None:
    reo = oxide_equivalent({"Nd": 100.0, "Pr": 50.0, "Th": 2.0, "other": 500.0})
    assert set(reo) == {"Nd2O3", "Pr6O11", "ThO2"}
    assert reo["Nd2O3"] == pytest.approx(116.64, abs=0.01)
    assert reo["Pr6O11"] == pytest.approx(60.41, abs=0.01)
    assert reo["ThO2"] == pytest.approx(2.2758, abs=0.001)


def test_total_reo_counts_rare_earths_only() -> None:
    comp = {"Nd": 100.0, "Ce": 10.0, "Th": 5.0, "U": 1.0, "other": 1000.0}
    assert total_reo(comp) == pytest.approx(100 * 1.16638 + 10 * 1.22843, rel=1e-4)
    assert total_reo({"Th": 5.0, "other": 3.0}) == 0.0
    assert total_reo({}) == 0.0


def test_issue_example_lot_treo() -> None:
    # NDPR-1 of the issue's example: Pr 19.71 kg, Nd 69.14 kg.
    assert total_reo({"Pr": 19.71, "Nd": 69.14}) == pytest.approx(
        19.71 * 1.2082 + 69.14 * 1.1664, abs=0.005
    )
