"""Element keys, which of them the ledger conserves, and oxide-equivalent (REO) views."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: The 17 rare-earth elements (IUPAC: Sc, Y and the 15 lanthanides), in atomic-number order.
RARE_EARTHS: tuple[str, ...] = (
    "Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu",
    "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
)  # fmt: skip
#: Radioactive by-products tracked beside the REEs (licensing and residue rules need them).
RADIONUCLIDES: tuple[str, ...] = ("Th", "U")
#: Everything else in a lot (Fe, B, Co, gangue, reagents); not conserved, may be added.
OTHER = "other"
#: Elements whose mass every transformation must conserve.
CONSERVED: frozenset[str] = frozenset(RARE_EARTHS + RADIONUCLIDES)
#: Every key allowed in ``elements_kg``.
ELEMENT_KEYS: tuple[str, ...] = RARE_EARTHS + RADIONUCLIDES + (OTHER,)
_KNOWN = frozenset(ELEMENT_KEYS)
#: Position of each key in ELEMENT_KEYS, for listing elements in a stable order.
ELEMENT_ORDER: Mapping[str, int] = MappingProxyType({e: i for i, e in enumerate(ELEMENT_KEYS)})
LIGHT_RARE_EARTHS: frozenset[str] = frozenset({"La", "Ce", "Pr", "Nd", "Pm", "Sm"})
HEAVY_RARE_EARTHS: frozenset[str] = frozenset(RARE_EARTHS) - LIGHT_RARE_EARTHS - {"Sc"}

# Mass of oxide per mass of element for each element's usual trade oxide, from standard atomic
# weights (IUPAC 2021): Sc2O3, Y2O3, La2O3, CeO2, Pr6O11, Nd2O3, Pm2O3, Sm2O3, Eu2O3, Gd2O3,
# Tb4O7, Dy2O3, Ho2O3, Er2O3, Tm2O3, Yb2O3, Lu2O3, ThO2, U3O8. These are the factors used in
# REO reporting (e.g. USGS, JORC tables).
_O = 15.999
_ATOMIC_WEIGHT = {
    "Sc": 44.956, "Y": 88.906, "La": 138.905, "Ce": 140.116, "Pr": 140.908, "Nd": 144.242,
    "Pm": 145.0, "Sm": 150.36, "Eu": 151.964, "Gd": 157.25, "Tb": 158.925, "Dy": 162.500,
    "Ho": 164.930, "Er": 167.259, "Tm": 168.934, "Yb": 173.045, "Lu": 174.967,
    "Th": 232.038, "U": 238.029,
}  # fmt: skip
_OXIDE = {  # element -> (metal atoms, oxygen atoms, formula)
    "Sc": (2, 3, "Sc2O3"), "Y": (2, 3, "Y2O3"), "La": (2, 3, "La2O3"), "Ce": (1, 2, "CeO2"),
    "Pr": (6, 11, "Pr6O11"), "Nd": (2, 3, "Nd2O3"), "Pm": (2, 3, "Pm2O3"), "Sm": (2, 3, "Sm2O3"),
    "Eu": (2, 3, "Eu2O3"), "Gd": (2, 3, "Gd2O3"), "Tb": (4, 7, "Tb4O7"), "Dy": (2, 3, "Dy2O3"),
    "Ho": (2, 3, "Ho2O3"), "Er": (2, 3, "Er2O3"), "Tm": (2, 3, "Tm2O3"), "Yb": (2, 3, "Yb2O3"),
    "Lu": (2, 3, "Lu2O3"), "Th": (1, 2, "ThO2"), "U": (3, 8, "U3O8"),
}  # fmt: skip
OXIDE_FORMULA: Mapping[str, str] = MappingProxyType({e: f for e, (_, _, f) in _OXIDE.items()})
OXIDE_FACTOR: Mapping[str, float] = MappingProxyType(
    {
        e: (m * _ATOMIC_WEIGHT[e] + o * _O) / (m * _ATOMIC_WEIGHT[e])
        for e, (m, o, _) in _OXIDE.items()
    }
)


def is_known(key: str) -> bool:
    """True when ``key`` may appear in ``elements_kg``."""
    return key in _KNOWN


def oxide_equivalent(elements_kg: Mapping[str, float]) -> dict[str, float]:
    """Oxide-equivalent masses (kg of oxide) for the conserved elements of a composition.

    ``other`` has no oxide form and is left out; the result is keyed by oxide formula.
    """
    return {OXIDE_FORMULA[e]: kg * OXIDE_FACTOR[e] for e, kg in elements_kg.items() if e in _OXIDE}


def total_reo(elements_kg: Mapping[str, float]) -> float:
    """Total rare-earth oxide (TREO) in kg: the REO of the 17 REEs, without Th and U."""
    return sum(kg * OXIDE_FACTOR[e] for e, kg in elements_kg.items() if e in RARE_EARTHS)
