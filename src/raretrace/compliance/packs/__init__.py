"""The rule packs, one module each, and the one function that runs a selection of them.

Each pack is a pure function of (``CheckContext``, its facts) returning ``CheckResult``s; the
facts are read from the packaged data files once per run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from raretrace.compliance.context import CheckContext
from raretrace.compliance.facts import Facts, load_facts
from raretrace.compliance.packs import asean_esg, cn_mofcom, eu_crma, oecd_cahra, us_dfars
from raretrace.compliance.result import CheckResult

#: Pack names in the order ``check`` reports them.
PACKS: tuple[str, ...] = ("cn-mofcom", "us-dfars", "oecd-cahra", "asean-esg", "eu-crma")

_Run = Callable[[CheckContext, Facts], list[CheckResult]]
_SIMPLE: dict[str, _Run] = {
    "us-dfars": us_dfars.check,
    "oecd-cahra": oecd_cahra.check,
    "asean-esg": asean_esg.check,
    "eu-crma": eu_crma.check,
}


def run_packs(ctx: CheckContext, names: Sequence[str] = PACKS) -> list[CheckResult]:
    """The results of the packs ``names`` (in ``PACKS`` order) for one lot."""
    results: list[CheckResult] = []
    for name in PACKS:
        if name not in names:
            continue
        facts = load_facts(name)
        if name == "cn-mofcom":
            results.extend(cn_mofcom.check(ctx, facts, load_facts("prices")))
        else:
            results.extend(_SIMPLE[name](ctx, facts))
    return results
