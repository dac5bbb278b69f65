"""A lot's lineage as a graph for the lot page: lots and the events that moved them, upstream
to the mines, with the kg the ledger linked along each edge.

Each lot is one node, entered from the event that created it; the events it then went
through (shipped, received, adjusted, claimed, consumed) follow it as a chain in log order,
so the graph has no cycles (a Sankey draws it). Built from the first window of the lineage
walk (``service.dashboard.lineage_page``: the lot's own events, then its inputs',
breadth-first), so a lineage of thousands of events draws its nearest part at the cost of
that part; the page says when the lineage goes further, and its events table pages on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from raretrace.service.dashboard import LineagePage

EVENT_COLOURS = {"extract": "#8c564b", "transform": "#1f77b4", "ship": "#ff7f0e",
                 "receive": "#2ca02c", "adjust": "#9467bd", "claim": "#e377c2"}  # fmt: skip
INTO = ("created", "received")


@dataclass(frozen=True, slots=True)
class LineageGraph:
    """Nodes (``id``, ``label``, ``colour``, ``kind``), links (``from``, ``to``, ``kg``), and
    whether the lineage goes on upstream past the events drawn."""

    nodes: list[dict[str, Any]]
    links: list[dict[str, Any]]
    drawn: int
    more: bool


def event_rows(window: LineagePage) -> list[dict[str, Any]]:
    """The window's events as the events table lists them (walk order)."""
    return [{"id": e.body["id"], "type": e.body["type"], "time": e.body.get("time"),
             "facility": e.body.get("facility") or e.body.get("from"), "depth": e.depth,
             "lots": sorted({lot for lot, _ in e.kg})} for e in window.events]  # fmt: skip


def lineage_graph(window: LineagePage) -> LineageGraph:
    """The graph of a lineage window (the caller has checked the lot is visible)."""
    events = sorted(window.events, key=lambda e: e.seq)
    nodes: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []
    trail: dict[str, list[tuple[int, str, float]]] = {}
    for e in events:
        eid = f"event:{e.body['id']}"
        colour = EVENT_COLOURS.get(e.body["type"], "#999")
        label = f"{e.body['type']} {e.body['id']}"
        nodes[eid] = {"id": eid, "label": label, "colour": colour, "kind": "event"}
        for (lot, role), kg in e.kg.items():
            trail.setdefault(lot, []).append((e.seq, role, kg))
    by_seq = {e.seq: f"event:{e.body['id']}" for e in events}
    for lot, steps in trail.items():
        node = f"lot:{lot}"
        nodes[node] = {"id": node, "label": lot, "colour": "#bbbbbb", "kind": "lot"}
        steps.sort()
        previous = None
        for seq, role, kg in steps:
            if role == "created":
                links.append({"from": by_seq[seq], "to": node, "kg": kg})
                previous = node
                continue
            links.append({"from": previous or node, "to": by_seq[seq], "kg": kg})
            previous = by_seq[seq]
    return LineageGraph(list(nodes.values()), links, len(events), window.more)
