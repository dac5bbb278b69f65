"""Benchmark: the scenario LP and the corridor MIP (issue 13 §7).

    python bench/scenario.py [--scale N] [--repeat 3]

Times, best of ``--repeat`` runs, wall clock in this process (reading the file included):
the world-scale scenario (the packaged ``demo-tour``: the demo world's network, baseline and
shocked, two LP passes each), the corridor MIP (``corridor-asean-2030``: the plan, then one
LP per single plant, port and country failure), and the same scenario on a network ``--scale``
times the demo's (every facility, port and lane copied N times, demand × N). Targets: scenario
LP ≤ 2 s, corridor MIP ≤ 30 s.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections.abc import Callable
from typing import Any

from raretrace.analytics.corridor import plan_corridor
from raretrace.analytics.network_file import parse_scenario, read_scenario
from raretrace.analytics.scenario import run_scenario
from raretrace.analytics.scenario_files import packaged_path


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def scaled(doc: dict[str, Any], n: int) -> dict[str, Any]:
    """``n`` copies of the network side by side, each with its own ids; one set of regions."""
    out = copy.deepcopy(doc)
    regions = {r["id"] for r in doc["regions"]}

    def rename(ident: str, k: int) -> str:
        return ident if ident in regions or k == 0 else f"{ident}.{k}"

    out["facilities"], out["ports"], out["lanes"] = [], [], []
    for k in range(n):
        for f in doc["facilities"]:
            out["facilities"].append({**f, "id": rename(f["id"], k)})
        for p in doc["ports"]:
            out["ports"].append({**p, "id": rename(p["id"], k)})
        for lane in doc["lanes"]:
            out["lanes"].append({**lane, "from": rename(lane["from"], k),
                                 "to": rename(lane["to"], k),
                                 "via": [rename(p, k) for p in lane.get("via", [])]})  # fmt: skip
    for entry in out["demand"]:
        entry["magnets_t"] *= n
    out["shocks"] = [s for s in doc["shocks"]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tour = packaged_path("demo-tour")
    corridor = packaged_path("corridor-asean-2030")
    scenario = read_scenario(tour)
    size = (len(scenario.facilities), len(scenario.ports), len(scenario.lanes))
    lp = best(args.repeat, lambda: run_scenario(read_scenario(tour)))
    print(f"scenario LP, demo world ({size[0]} facilities, {size[1]} ports, {size[2]} lanes, "
          f"{len(scenario.elements)} elements): {lp:.2f} s (target ≤ 2 s)")  # fmt: skip
    plan = read_scenario(corridor)
    failures = (
        len(plan.facilities)
        + len(plan.ports)
        + len(
            {f.country for f in plan.facilities.values()} | {p.country for p in plan.ports.values()}
        )
    )
    mip = best(args.repeat, lambda: plan_corridor(read_scenario(corridor)))
    print(f"corridor MIP + {failures} single-failure LPs: {mip:.2f} s (target ≤ 30 s)")
    alone = best(args.repeat, lambda: plan_corridor(read_scenario(corridor), resilience=False))
    print(f"corridor MIP alone: {alone:.2f} s")
    doc = scaled(json.loads(tour.read_text()), args.scale)
    big = parse_scenario(doc)
    wide = best(args.repeat, lambda: run_scenario(big))
    print(f"scenario LP, {args.scale}× the demo world ({len(big.facilities)} facilities, "
          f"{len(big.lanes)} lanes): {wide:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
