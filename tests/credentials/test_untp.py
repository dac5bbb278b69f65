"""The passport's numbers from a lot view (pure): origin per element and country, scrap under
its recycler's country, Th/U hazardous; and the digestMultibase of VCDM 2.0 §5.3."""

from __future__ import annotations

import math
from typing import Any

import pytest

from raretrace.credentials.evidence import digest_multibase
from raretrace.credentials.untp import material_shares, materials_provenance


def _route(share: float, first: str, country: str) -> dict[str, Any]:
    return {"share": share, "steps": [{"stage": first, "country": country,
                                      "technology_origin": country}]}  # fmt: skip


def view(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "lot": "M", "form": "magnet", "mass_kg": 200.0,
        "elements_kg": {"Nd": 60.0, "Th": 0.002, "other": 139.998},
        "origin": {"by_country": {"Nd": {"AU": 0.5, "recycled": 0.5}, "Th": {"AU": 1.0}}},
        "routes": {
            "Nd": [_route(0.5, "mine", "AU"), _route(0.3, "recycling", "MY"),
                   _route(0.2, "recycling", "JP")],
            "Th": [_route(1.0, "mine", "AU")],
        },
    }  # fmt: skip
    base.update(changes)
    return base


def test_scrap_counts_as_recycled_under_its_recyclers_countries() -> None:
    shares = {(s.element, s.country): s for s in material_shares(view())}
    assert set(shares) == {("Nd", "AU"), ("Nd", "JP"), ("Nd", "MY"), ("Th", "AU")}
    assert shares["Nd", "AU"].kg == pytest.approx(30.0) and shares["Nd", "AU"].recycled_kg == 0
    assert shares["Nd", "MY"].kg == pytest.approx(18.0) == shares["Nd", "MY"].recycled_kg
    assert shares["Nd", "JP"].kg == pytest.approx(12.0) == shares["Nd", "JP"].recycled_kg
    assert math.fsum(s.kg for s in shares.values()) == pytest.approx(60.002)


def test_a_country_with_mined_and_recycled_material_gives_its_recycled_fraction() -> None:
    mixed = view(origin={"by_country": {"Nd": {"MY": 0.5, "recycled": 0.5}}},
                 routes={"Nd": [_route(0.5, "mine", "MY"), _route(0.5, "recycling", "MY")]},
                 elements_kg={"Nd": 60.0})  # fmt: skip
    (entry,) = materials_provenance(mixed)
    assert entry["originCountry"]["countryCode"] == "MY"
    assert entry["massFraction"] == 0.3 and entry["recycledMassFraction"] == 0.5
    assert entry["mass"] == {"type": ["Measure"], "value": 60.0, "unit": "KGM"}


def test_materials_name_the_element_and_flag_thorium_and_uranium() -> None:
    entries = materials_provenance(view())
    th = [e for e in entries if e["materialType"]["code"] == "Th"]
    assert [e["hazardous"] for e in th] == [True]
    assert th[0]["name"] == "Thorium (Th) from AU" and th[0]["massFraction"] == 1e-05
    assert {e["hazardous"] for e in entries if e["materialType"]["code"] == "Nd"} == {False}
    assert [e["materialType"]["code"] for e in entries] == ["Nd", "Nd", "Nd", "Th"]  # Z order


def test_material_of_unattributed_origin_has_no_country() -> None:
    odd = view(origin={"by_country": {"Nd": {"AU": 0.9, "unattributed": 0.1}}},
               routes={}, elements_kg={"Nd": 10.0})  # fmt: skip
    entries = materials_provenance(odd)
    assert [e.get("originCountry", {}).get("countryCode") for e in entries] == ["AU", None]
    assert entries[1]["name"] == "Neodymium (Nd) from an unattributed origin"


def test_digest_multibase_is_the_sha256_multihash_in_base64url() -> None:
    # The multihash of the empty string: 0x12 0x20 then SHA-256("") (multiformats).
    assert digest_multibase(b"") == "uEiDjsMRCmPwcFJr79MiZb7kkJ65B5GSbk0yklZkbeFK4VQ"
