"""The scenario files packaged with raretrace (``raretrace/data/scenarios/``): the default
network of the demo world with the demo tour's shocks, and the ASEAN corridor plan.

They are generated from ``network_template`` so they never drift from it (a test compares);
regenerate them with ``python -m raretrace.analytics.scenario_files src/raretrace/data/scenarios``.
"""

from __future__ import annotations

import copy
import json
import sys
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from raretrace.analytics.network_template import demo_sites, reference, template_document
from raretrace.domain.errors import ConfigError

#: ASEAN's member states (the corridor's target and its third-country test).
ASEAN = ["BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN"]

LYNAS_OUTAGE = {
    "type": "facility-outage", "facility": "MY-LYNAS-LAMP", "from": "2030-04-01",
    "until": "2030-06-30", "notes": "Lynas Malaysia (LAMP) down for three months",
}  # fmt: skip
CHINA_BAN = {
    "type": "export-ban", "country": "CN", "elements": ["Dy", "Tb"],
    "stages": ["separation", "reduction", "alloying", "magnet"], "from": "2030-01-01",
    "notes": "China stops exports of Dy and Tb and of products holding them (as MOFCOM "
             "Announcement No. 18 of 2025 could, licences refused)",
}  # fmt: skip


def _with(doc: dict[str, Any], title: str, shocks: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["title"], out["shocks"] = title, shocks
    return out


def _corridor(doc: dict[str, Any]) -> dict[str, Any]:
    out = _with(doc, "ASEAN corridor, 2030: magnets made in ASEAN without Chinese Dy/Tb", [])
    out["shocks"] = [CHINA_BAN]
    out["regions"].append({"id": "US-DEFENCE", "name": "US defence market", "countries": ["US"]})
    out["demand"].append({
        "region": "US-DEFENCE", "year": out["year"], "magnets_t": 1000.0,
        "content": reference()["magnet_content"]["value"], "sources": [], "verified": None,
        "assumptions": ["1,000 t/yr of magnets for US defence: a modelling assumption"],
    })  # fmt: skip
    sites = {f["id"] for f in out["facilities"]} | {p["id"] for p in out["ports"]}
    for plant in ("MY-JSLINK-KUANTAN", "VN-SMMV-HAIPHONG"):
        if plant in sites:
            out["lanes"].append({
                "from": plant, "to": "US-DEFENCE", "via": [], "cost_usd_per_t": 600.0,
                "transit_days": 30.0, "assumptions": ["ASEAN magnets to US defence buyers"],
            })  # fmt: skip
    out["corridor"] = {
        "options": [
            {k: v for k, v in option.items() if k != "assumptions"} | {
                "assumptions": option["assumptions"]}
            for option in reference()["corridor_options"] if option["site"] in sites
        ],
        "targets": [{
            "id": "asean-magnets", "stage": "magnet", "countries": ASEAN, "t": 2000.0,
            "notes": "2,000 t/yr of rare-earth content in magnets made in ASEAN "
                     "(about 6,500 t of magnets)",
        }],
        "constraints": {
            "us-defence": {"enabled": False, "region": "US-DEFENCE", "excluded_countries": ["CN"],
                           "notes": "DFARS 252.225-7052: no Chinese mining, processing or "
                                    "magnet making for US defence"},
            "eu-single-country": {"enabled": False, "region": "EU", "max_share": 0.65,
                                  "notes": "Regulation (EU) 2024/1252 Art. 5(1)(b)"},
            "recycled-floor": {"enabled": False, "share": 0.02, "regions": ["ASEAN"]},
        },
    }  # fmt: skip
    return out


def demo_scenarios() -> dict[str, dict[str, Any]]:
    """Every packaged scenario, by name, as generated from the template."""
    base = template_document(demo_sites())
    return {
        "default": base,
        "lynas-outage": _with(base, "Lynas Malaysia down for three months, 2030", [LYNAS_OUTAGE]),
        "china-dy-tb-ban": _with(base, "China bans Dy and Tb exports, 2030", [CHINA_BAN]),
        "demo-tour": _with(
            base,
            "Lynas Malaysia down for three months and China bans Dy/Tb exports, 2030",
            [LYNAS_OUTAGE, CHINA_BAN],
        ),
        "corridor-asean-2030": _corridor(base),
    }


def names() -> list[str]:
    """The packaged scenarios' names."""
    folder = files("raretrace").joinpath("data/scenarios")
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir()
                  if p.name.endswith(".json"))  # fmt: skip


def packaged_text(name: str) -> str:
    """The text of the packaged scenario ``name``."""
    if name not in names():
        raise ConfigError(f"no packaged scenario {name!r}; known: {', '.join(names())}")
    return files("raretrace").joinpath(f"data/scenarios/{name}.json").read_text("utf-8")


def packaged_path(name: str) -> Path:
    """A filesystem path of the packaged scenario ``name`` (installed packages are files)."""
    packaged_text(name)
    with as_file(files("raretrace").joinpath(f"data/scenarios/{name}.json")) as path:
        return Path(path)


def dump(doc: dict[str, Any]) -> str:
    """The one JSON form scenario files are written in."""
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover - the regeneration step above
    target = Path(sys.argv[1])
    for scenario_name, document in demo_scenarios().items():
        (target / f"{scenario_name}.json").write_text(dump(document), encoding="utf-8")
