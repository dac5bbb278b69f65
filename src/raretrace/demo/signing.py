"""Demo keys: each demo participant signs its events, as a real participant would.

The keys are derived from the demo seed so the demo is the same on every machine; they are
for the demo only (anyone can derive them), which is why ``--write`` also writes them out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from raretrace.demo.generate import generate_events
from raretrace.demo.world import load_world, registry
from raretrace.domain.keys import sign_event
from raretrace.ledger.keyfiles import KeyFile, new_key, write_key_file

#: Demo keys are valid from before the demo year starts.
VALID_FROM = "2024-01-01T00:00:00Z"


def demo_keys(participants: list[str], seed: int) -> dict[str, KeyFile]:
    """One deterministic key per participant."""
    keys = {}
    for pid in participants:
        material = hashlib.sha256(f"raretrace demo key/{seed}/{pid}".encode()).digest()
        keys[pid] = new_key(pid, kid=f"{pid}-demo", seed=material)
    return keys


def signed_world(seed: int) -> tuple[dict[str, Any], dict[str, KeyFile]]:
    """The demo registry with each participant's public key, and the private keys."""
    doc = registry(load_world())
    keys = demo_keys([p["id"] for p in doc["participants"]], seed)
    for participant in doc["participants"]:
        participant["keys"] = [keys[participant["id"]].registry_entry(VALID_FROM)]
    return doc, keys


def signed_events(
    n_events: int, *, seed: int, keys: dict[str, KeyFile]
) -> Iterator[dict[str, Any]]:
    """The generated flows, each signed by its actor's demo key."""
    for event in generate_events(n_events, seed=seed):
        key = keys[event["actor"]]
        yield sign_event(event, key.private_key, key.kid)


def write_signed_demo(directory: Path, n_events: int, *, seed: int) -> tuple[Path, Path]:
    """``registry.json`` (with public keys), signed ``events.jsonl`` and ``keys/*.key``."""
    directory.mkdir(parents=True, exist_ok=True)
    doc, keys = signed_world(seed)
    registry_path = directory / "registry.json"
    registry_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
    key_dir = directory / "keys"
    key_dir.mkdir(exist_ok=True)
    for pid, key in keys.items():
        path = key_dir / f"{pid}.key"
        if not path.exists():
            write_key_file(path, key)
    events_path = directory / "events.jsonl"
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    with events_path.open("w", encoding="utf-8") as out:
        for event in signed_events(n_events, seed=seed, keys=keys):
            out.write(encode(event))
            out.write("\n")
    return registry_path, events_path
