"""Hand-made lot evidence and registries for the rule-pack unit tests (no ledger)."""

from __future__ import annotations

import copy
import dataclasses
from datetime import date
from typing import Any

from raretrace.compliance.context import CheckContext
from raretrace.compliance.evidence import LotEvidence, Route, Shipment, Step
from raretrace.compliance.facts import Facts, load_facts
from raretrace.domain.licensing import Accreditation, Audit, Licence
from raretrace.domain.model import Facility, Participant
from raretrace.domain.registry import Registry


def t(day: str, clock: str = "00:00:00") -> str:
    """A normalized time on ``day``."""
    return f"{day}T{clock}.000000Z"


def step(stage: str, country: str, tech: str | None = None) -> Step:
    return Step(stage, country, tech or country)


def route(share: float, *steps: Step) -> Route:
    return Route(share, tuple(steps))


def magnet(**changes: Any) -> LotEvidence:
    """A 100 kg NdFeB magnet in Japan: Nd 30 kg and Dy 1 kg, mined in AU, separated in MY,
    metal, alloy and magnet made in JP."""
    via = (step("mine", "AU"), step("separation", "MY"), step("reduction", "JP"),
           step("alloying", "JP"), step("magnet", "JP"))  # fmt: skip
    base = LotEvidence(
        lot="MAG-1", form="magnet", mass_kg=100.0, elements_kg={"Nd": 30.0, "Dy": 1.0},
        custodian="jp-mag", facility="JP-MAG", facility_country="JP",
        routes={"Nd": (route(1.0, *via),), "Dy": (route(1.0, *via),)},
        by_mine={"Nd": {"AU-MINE": 1.0}, "Dy": {"AU-MINE": 1.0}},
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def shipment(event: str, day: str, *, origin: str = "CN-SEP", origin_country: str = "CN",
             to: str = "JP-MAG", to_country: str = "JP", elements: tuple[str, ...] = ("Dy",),
             shipper: str = "cn-sep", lot: str = "DY-1") -> Shipment:  # fmt: skip
    return Shipment(event, t(day), shipper, lot, origin, origin_country, to, to_country,
                    frozenset(elements))  # fmt: skip


def registry(*records: Any) -> Registry:
    """Authorities, an accredited auditor, the facilities of ``magnet``, plus ``records``."""
    reg = Registry()
    for p in (
        Participant("mofcom-cn", "MOFCOM", "CN", roles=("authority",)),
        Participant("aelb-my", "AELB", "MY", roles=("authority",)),
        Participant("sgs", "SGS", "MY", roles=("auditor",)),
        Participant("cn-sep", "Separator", "CN"),
        Participant("jp-mag", "Magnets", "JP"),
    ):
        reg.add(p)
    reg.add(Facility("JP-MAG", "Magnet plant", "jp-mag", "JP", ("magnet",), "JP"))
    reg.add(Facility("CN-SEP", "Separator", "cn-sep", "CN", ("separation",), "CN"))
    reg.add(Accreditation("ACC-1", "sgs", ("oecd-ddg", "asean-esg-baseline"),
                          t("2020-01-01"), None))  # fmt: skip
    for record in records:
        reg.add(record)
    return reg


def export_licence(**changes: Any) -> Licence:
    base = Licence(id="LIC-X", holder="cn-sep", kind="export", authority="mofcom-cn",
                   valid_from=t("2025-01-01"), valid_until=t("2027-01-01"),
                   regime="CN-MOFCOM-18", events=("s-1",))  # fmt: skip
    return dataclasses.replace(base, **changes)


def operating_licence(facility: str, start: str, end: str | None, **changes: Any) -> Licence:
    base = Licence(id=f"OP-{facility}", holder="jp-mag", kind="operating", authority="aelb-my",
                   valid_from=start, valid_until=end, facility=facility)  # fmt: skip
    return dataclasses.replace(base, **changes)


def audit(facility: str, standard: str, start: str, end: str, **changes: Any) -> Audit:
    base = Audit(f"AUD-{facility}-{standard}", facility, "sgs", standard, start, end, "pass")
    return dataclasses.replace(base, **changes)


def ctx(evidence: LotEvidence, reg: Registry, as_of: str, **more: Any) -> CheckContext:
    return CheckContext(evidence, reg, date.fromisoformat(as_of), **more)


def facts(name: str, **changes: Any) -> Facts:
    """The packaged facts with top-level or dotted keys replaced (``no61.suspensions=[]``)."""
    loaded = load_facts(name)
    doc = copy.deepcopy(dict(loaded.doc))
    for dotted, value in changes.items():
        node = doc
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return Facts(loaded.name, doc)
