"""Every command, walked with bad arguments and bad files: one line, exit 1 or 2, no
traceback, and nothing changed on disk.

The commands are enumerated from the Typer app, so a new command (or a new file, number or
text parameter of an old one) fails ``test_every_command_and_parameter_is_walked`` until it is
given a valid invocation and its bad values in ``SPECS`` below. Each case changes one
parameter of a valid invocation to one bad value; the valid invocations themselves are run in
a copy of the ledger and must succeed, so a case cannot pass by failing for another reason.

The cases run as real processes, forked one per case from a driver that imported raretrace
once (``fork_driver.py``), so the walk of a few hundred command lines takes seconds.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from cli_support import run
from raretrace.analytics.scenario_files import packaged_path
from raretrace.cli.main import full_app
from raretrace.store.engine import SQLITE_HEADER

pytestmark = pytest.mark.integration

DRIVER = Path(__file__).with_name("fork_driver.py")
RLO = "lot\u202e1-TOL"  # RIGHT-TO-LEFT OVERRIDE: displays reversed
# Placeholders, replaced by paths in the walk's folder.
MISSING, FOLDER, BINARY, EMPTY, TEXT, FAKE_DB, NO_DIR = (
    "@missing", "@folder", "@binary", "@empty", "@text", "@fake-db", "@no-dir",
)  # fmt: skip
#: Not a ledger, for --db of a command that needs one.
BAD_DB = [MISSING, FOLDER, BINARY, EMPTY, TEXT, FAKE_DB]
#: Not a ledger, for --db of a command that creates one (a missing or empty file is fine).
BAD_NEW_DB = [FOLDER, BINARY, TEXT, FAKE_DB]
#: A file to read that is not one.
BAD_IN = [MISSING, FOLDER, BINARY, EMPTY]
#: A file to write that cannot be.
BAD_OUT = [NO_DIR, FOLDER]
BAD_ID = ["", "NOPE", RLO]

Spec = tuple[dict[str, str], dict[str, list[str]]]
#: Per command: a valid invocation (parameter → value; positional arguments by name) and
#: the bad values of each parameter. ``{lot}``, ``{event}`` are ids from the ledger.
SPECS: dict[str, Spec] = {
    "init": (
        {"--db": "new.db", "--allow-unsigned": ""},
        {
            "--db": BAD_NEW_DB,
            "--tolerance-relative": ["-0.1", "nan"],
            "--tolerance-absolute-kg": ["-1", "inf"],
            "--log-dir": [BINARY],
            "--log-origin": ["", RLO],
        },
    ),
    "keygen": (
        {"--participant": "acme", "--out": "new.key"},
        {
            "--participant": ["", RLO],
            "--out": [*BAD_OUT, "inputs/registry.json"],  # never overwrites a file
            "--kid": ["", RLO],
            "--valid-from": ["", "yesterday"],
        },
    ),
    "sign": (
        {"events": "inputs/one-event.jsonl", "--key": "{key}"},
        {"events": [MISSING, FOLDER, BINARY], "--key": BAD_IN},  # empty: nothing to sign
    ),
    "registry load": (
        {"file": "inputs/registry.json", "--db": "ledger.db"},
        {"file": BAD_IN, "--db": BAD_DB},
    ),
    "registry import": (
        {"file": "inputs/facilities.csv", "--kind": "facilities", "--db": "ledger.db"},
        {
            "file": [*BAD_IN, TEXT, "inputs/registry.json"],  # the last: not a sheet
            "--kind": ["", "bogus"],
            "--rejects": BAD_OUT,
            "--db": BAD_DB,
        },
    ),
    "registry export": (
        {"--geojson": "map.geojson", "--db": "ledger.db"},
        {"--geojson": BAD_OUT, "--db": BAD_DB},
    ),
    "ingest": (
        {"file": "inputs/events.jsonl", "--db": "ledger.db"},
        {"file": BAD_IN[:2], "--db": BAD_DB, "--rejects": BAD_OUT, "--batch-size": ["0", "-5"]},
    ),
    "trace": ({"lot": "{lot}", "--db": "ledger.db"}, {"lot": BAD_ID, "--db": BAD_DB}),
    "lots": (
        {"--db": "ledger.db"},
        {
            "--db": BAD_DB,
            "--facility": BAD_ID,
            "--form": ["", "powder"],
            "--status": ["", "bogus"],
            "--limit": ["-5"],
        },
    ),
    "facilities": ({"--db": "ledger.db"}, {"--db": BAD_DB}),
    "discrepancies": ({"--db": "ledger.db"}, {"--db": BAD_DB}),
    "audit": (
        {"--db": "ledger.db"},
        {"--db": BAD_DB, "--sample": ["-1"], "--vkey": BAD_IN, "--limit": ["-1"]},
    ),
    "export": (
        {"lot": "{lot}", "--bundle": "out.json", "--db": "ledger.db"},
        {
            "lot": BAD_ID,
            "--bundle": BAD_OUT,
            "--db": BAD_DB,
            "--write-trust": BAD_OUT,
            "--checkpoint": ["0", "-1", "999999"],
        },
    ),
    "verify": (
        {"file": "inputs/bundle.json", "--trust": "inputs/trust.txt"},
        {"file": [*BAD_IN, TEXT], "--trust": [*BAD_IN, TEXT], "--witnesses": ["-1", "5"]},
    ),
    "demo": (
        {"--db": "demo2.db", "--events": "50", "--log-dir": "demo2-log"},
        {
            "--db": [FOLDER, BINARY, TEXT, FAKE_DB],
            "--events": ["0", "-5", "49"],
            "--seed": [],  # every integer is a seed
            "--write": [BINARY],
            "--log-dir": [BINARY],
            "--port": ["x", "0", "70000"],
        },
    ),
    "log checkpoint": ({"--db": "ledger.db"}, {"--db": BAD_DB, "--size": ["0", "-1", "999999"]}),
    "log vkey": ({"--db": "ledger.db"}, {"--db": BAD_DB}),
    "log migrate": ({"--db": "ledger.db"}, {"--db": BAD_DB, "--log-origin": ["", RLO, "a b"]}),
    "log prove": (
        {"event_id": "{event}", "--db": "ledger.db"},
        {"event_id": BAD_ID, "--db": BAD_DB, "--size": ["0", "-1", "999999"]},
    ),
    "log consistency": (
        {"old_size": "4", "--db": "ledger.db"},
        {"old_size": ["0", "-3", "999999"], "new_size": ["3", "999999"], "--db": BAD_DB},
    ),
    "witness keygen": (
        {"--name": "witness2.example", "--out": "w2.key"},
        {"--name": ["", RLO, "has space"], "--out": [*BAD_OUT, "inputs/witness.key"]},
    ),
    "witness cosign": (
        {
            "--key": "inputs/witness.key",
            "--state": "wstate",
            "--db": "ledger.db",
            "--log-vkey-file": "inputs/log.vkey",
        },
        {
            "--key": [*BAD_IN, TEXT],
            "--state": [BINARY],
            "--db": BAD_DB,
            "--log-vkey": ["", "not a vkey"],
            "--log-vkey-file": [*BAD_IN, TEXT],
        },
    ),
    "check": (
        # eu-crma on one lot is information only, so the baseline exits 0 whatever the lot.
        {"lot": "{lot}", "--db": "ledger.db", "--pack": "eu-crma"},
        {
            "lot": BAD_ID,
            "--db": BAD_DB,
            "--as-of": ["", "yesterday", "2026-02-30"],
            "--pack": ["", "bogus"],
            "--declared-value-usd": ["-1", "nan", "inf"],
            "--prices": [*BAD_IN, TEXT, "inputs/registry.json"],
        },
    ),
    "portfolio": (
        # A period with no receipts: nothing to judge, so the baseline exits 0.
        {
            "--received-by": "lynas-my",
            "--from": "2020-01-01",
            "--to": "2020-12-31",
            "--db": "ledger.db",
        },
        {
            "--lot": [*BAD_ID, "{lot}"],  # a lot and --received-by: two ways at once
            "--received-by": BAD_ID,
            "--from": ["", "yesterday", "2020-02-30", "2021-01-01"],  # the last is after --to
            "--to": ["", "2020-13-01", "2019-12-31"],  # the last is before --from
            "--db": BAD_DB,
        },
    ),
    "issuer keygen": (
        {"--did": "did:web:council.example", "--out": "issuer2.key"},
        {"--did": ["", "did:example:x", RLO], "--out": [*BAD_OUT, "inputs/issuer.key"]},
    ),
    "issuer did-document": ({"--key": "inputs/issuer.key"}, {"--key": [*BAD_IN, TEXT]}),
    "issuer status-list": (
        {"--key": "inputs/issuer.key", "--out": "status.json"},
        {
            "--key": [*BAD_IN, TEXT],
            "--out": BAD_OUT,
            "--url": ["", "not a url"],
            "--purpose": ["", "bogus"],
            "--format": ["", "xml"],
            "--valid-days": ["0", "-1"],
            "--revoke": ["-1"],
            "--reason": [],
        },
    ),
    "token issue": (
        {"--participant": "lynas-my", "--role": "operator", "--db": "ledger.db"},
        {
            "--participant": [*BAD_ID, "nobody-registered"],
            "--role": ["", "public", "bogus"],
            "--expires": ["", "yesterday", "2020-01-01", "2030-01-01T00:00:00"],
            "--db": BAD_DB,
        },
    ),
    "token revoke": (
        {"token_id": "{token}", "--db": "ledger.db"},
        {"token_id": BAD_ID, "--db": BAD_DB},
    ),
    "token list": ({"--db": "ledger.db"}, {"--db": BAD_DB}),
    "serve": (
        {"--db": "ledger.db", "--port": "0"},
        {
            "--db": BAD_DB,
            "--host": ["", "no.such.host.invalid"],
            "--port": ["-1", "70000"],
            "--workers": ["0", "-2", "65"],
        },
    ),
    "verify-credential": (
        {"file": "inputs/bundle.json", "--trust": "inputs/did.json"},
        {
            "file": BAD_IN,
            "--trust": [*BAD_IN, TEXT],
            "--status-list": [*BAD_IN, TEXT],
            "--at": ["", "yesterday"],
            "--evidence": [*BAD_IN, "inputs/bundle.json"],  # the last: no --ledger-trust
            "--ledger-trust": [*BAD_IN, TEXT],  # without --evidence
        },
    ),
    "epcis export": (
        {"--out": "out.jsonld", "--db": "ledger.db"},
        {
            "--out": BAD_OUT,
            "--lot": BAD_ID,
            "--from": ["", "yesterday", "2025-02-30"],
            "--to": ["", "2025-13-01"],
            "--db": BAD_DB,
        },
    ),
    "epcis import": (
        {"file": "inputs/epcis.jsonld", "--out": "events-out.jsonl"},
        {
            "file": [*BAD_IN, TEXT, "inputs/registry.json"],  # the last: not EPCIS
            "--out": BAD_OUT,
            "--map": [*BAD_IN, TEXT, "inputs/registry.json"],  # the last: not a mapping
            "--rejects": BAD_OUT,
        },
    ),
    "untp dte": (
        {"--issuer-key": "inputs/issuer.key", "--out": "dte.jwt", "--db": "ledger.db"},
        {
            "--issuer-key": [*BAD_IN, TEXT, "inputs/did.json"],
            "--out": BAD_OUT,
            "--lot": BAD_ID,
            "--from": ["", "yesterday"],
            "--to": ["", "2025-13-01"],
            "--format": ["", "xml"],
            "--db": BAD_DB,
        },
    ),
    "amrt export": (
        {"--participant": "lynas-my", "--out": "amrt.xlsx", "--db": "ledger.db"},
        {
            "--participant": BAD_ID,
            "--out": BAD_OUT,
            "--from": ["", "yesterday"],
            "--to": ["", "2025-13-01"],
            "--db": BAD_DB,
        },
    ),
    "amrt import": (
        {"file": "inputs/amrt.xlsx"},
        {"file": [*BAD_IN, TEXT, "inputs/registry.json"]},  # the last: not a workbook
    ),
    "certify": (
        {
            "lot": "{lot}",
            "--db": "ledger.db",
            "--issuer-key": "inputs/issuer.key",
            "--status-list": "inputs/status.jwt",
            "--out": "certified",
            "--as-of": "2027-02-01",
        },
        {
            "lot": BAD_ID,
            "--db": BAD_DB,
            "--issuer-key": [*BAD_IN, TEXT, "inputs/did.json"],
            "--status-list": [*BAD_IN, TEXT, "inputs/did.json"],
            "--out": [BINARY, "inputs"],  # a file; a folder that is not empty
            "--as-of": ["", "yesterday", "2026-02-30"],
            "--declared-value-usd": ["-1", "nan"],
            "--scheme": ["", RLO, "eu-recycled"],  # the last: no --custodian-key
            "--custodian-key": [*BAD_IN, TEXT, "inputs/issuer.key"],
            "--format": ["", "xml"],
            "--qr": BAD_OUT,
            "--base-url": ["", "ftp://council.example"],
            "--valid-days": ["0", "-1"],
        },
    ),
    # The clearinghouse (docs/clearinghouse.md), on the demo's licences, agreements, disputes.
    "licence issue": (
        {
            "licence_id": "LIC-WALK",
            "--key": "inputs/keys/ptg-pahang.key",
            "--holder": "lynas-my",
            "--kind": "operating",
            "--valid-from": "2026-01-01T00:00:00Z",
            "--valid-until": "2027-01-01T00:00:00Z",
            "--facility": "MY-LYNAS-HRE2",
            "--db": "ledger.db",
        },
        {
            "licence_id": ["", RLO, "LIC-LAMP-OP"],
            "--key": [*BAD_IN, TEXT, "inputs/keys/lynas-my.key"],
            "--holder": ["", RLO, "ghost"],
            "--kind": ["", "mining"],
            "--valid-from": ["", "yesterday", "2026-02-30T00:00:00Z"],
            "--valid-until": ["", "2020-01-01T00:00:00Z"],
            "--facility": ["", RLO, "MY-PERAK-KENERING"],  # the last: another state's
            "--regime": ["", RLO],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "licence renew": (
        {
            "licence_id": "LIC-LAMP-OP",
            "--key": "inputs/keys/aelb-my.key",
            "--valid-until": "2030-03-02T00:00:00Z",
            "--db": "ledger.db",
        },
        {
            "licence_id": BAD_ID,
            "--key": [*BAD_IN, TEXT, "inputs/keys/ptg-perak.key"],
            "--valid-until": ["", "2020-01-01T00:00:00Z"],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "licence suspend": (
        {
            "licence_id": "LIC-HRE1-OP",
            "--key": "inputs/keys/aelb-my.key",
            "--reason": "inspection",
            "--db": "ledger.db",
        },
        {
            "licence_id": BAD_ID,
            "--key": [*BAD_IN, TEXT, "inputs/keys/ptg-perak.key"],
            "--reason": ["", "   "],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "licence reinstate": (
        {
            "licence_id": "LIC-KENERING-MINE",
            "--key": "inputs/keys/ptg-perak.key",
            "--db": "ledger.db",
        },
        {
            "licence_id": [*BAD_ID, "LIC-LAMP-OP"],
            "--key": [*BAD_IN, TEXT, "inputs/keys/ptg-pahang.key"],
            "--reason": ["", "   "],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "licence revoke": (
        {
            "licence_id": "LIC-RECYCLE-OP",
            "--key": "inputs/keys/doe-my.key",
            "--reason": "abandoned",
            "--db": "ledger.db",
        },
        {
            "licence_id": BAD_ID,
            "--key": [*BAD_IN, TEXT, "inputs/keys/aelb-my.key"],
            "--reason": ["", "   "],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "licence list": ({"--db": "ledger.db"}, {"--db": BAD_DB}),
    "licence show": (
        {"licence_id": "LIC-JSLINK-OP", "--db": "ledger.db"},
        {"licence_id": BAD_ID, "--db": BAD_DB},
    ),
    "agreement submit": (
        {
            "terms": "inputs/agreement.json",
            "--key": "inputs/keys/lynas-my.key",
            "--db": "ledger.db",
        },
        {
            "terms": [*BAD_IN, TEXT, "inputs/registry.json"],
            "--key": [*BAD_IN, TEXT, "inputs/keys/lynas-au.key"],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "agreement review": (
        {
            "agreement_id": "MOU-VN-SEPARATION-2025",
            "--status": "approved",
            "--by": "council.asean",
            "--reason": "sound",
            "--db": "ledger.db",
        },
        {
            "agreement_id": BAD_ID,
            "--status": ["", "accepted", "submitted"],
            "--by": ["", RLO, "vtre"],
            "--reason": ["", "   "],
            "--condition": ["", "a condition"],
            "--public": ["", "secret"],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "agreement list": ({"--db": "ledger.db"}, {"--status": ["", "pending"], "--db": BAD_DB}),
    "agreement show": (
        {"agreement_id": "AGR-PERAK-SUPPLY-2025", "--db": "ledger.db"},
        {"agreement_id": BAD_ID, "--db": BAD_DB},
    ),
    "dispute open": (
        {
            "dispute_id": "D-WALK",
            "--key": "inputs/keys/{receiver}.key",
            "--event": "{receipt}",
            "--respondent": "{respondent}",
            "--summary": "short",
            "--lot": "{received_lot}",
            "--evidence": "inputs/registry.json",
            "--db": "ledger.db",
        },
        {
            "dispute_id": ["", RLO],
            "--key": [*BAD_IN, TEXT, "inputs/keys/sgs.key"],
            "--event": ["", RLO, "NOPE"],
            "--respondent": ["", RLO, "ghost"],
            "--summary": ["", "   "],
            "--lot": ["", RLO, "NOPE"],
            "--evidence": [MISSING, FOLDER],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "dispute statement": (
        {
            "dispute_id": "D-WALK",
            "--key": "inputs/keys/{receiver}.key",
            "--text": "as filed",
            "--db": "ledger.db",
        },
        {
            "dispute_id": BAD_ID,
            "--key": [*BAD_IN, TEXT, "inputs/keys/sgs.key"],
            "--text": ["", "   "],
            "--evidence": [MISSING, FOLDER],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "dispute rule": (
        {
            "dispute_id": "D-WALK",
            "--outcome": "dismissed",
            "--by": "council.asean",
            "--reason": "not shown",
            "--db": "ledger.db",
        },
        {
            "dispute_id": BAD_ID,
            "--outcome": ["", "quashed"],
            "--by": ["", RLO, "{receiver}"],
            "--reason": ["", "   "],
            "--corrective-party": ["", RLO, "sgs"],
            "--corrective-action": ["", "   "],
            "--time": ["", "yesterday"],
            "--db": BAD_DB,
        },
    ),
    "dispute list": ({"--db": "ledger.db"}, {"--status": ["", "closed"], "--db": BAD_DB}),
    "dispute show": (
        {"dispute_id": "D-WALK", "--db": "ledger.db"},
        {"dispute_id": BAD_ID, "--db": BAD_DB},
    ),
    "revoke": (
        {
            "credential_id": "{credential}",
            "--reason": "test",
            "--db": "ledger.db",
            "--issuer-key": "inputs/issuer.key",
            "--status-list": "inputs/status.jwt",
        },
        {
            "credential_id": [*BAD_ID, "urn:uuid:00000000-0000-4000-8000-000000000000"],
            "--reason": ["", "   "],
            "--db": BAD_DB,
            "--issuer-key": [*BAD_IN, TEXT, "inputs/did.json"],
            "--status-list": [*BAD_IN, TEXT, "inputs/bundle.json"],
        },
    ),
    "analytics flows": (
        {"--db": "ledger.db", "--element": "Nd", "--plot": "flows.html"},
        {
            "--from": ["", "yesterday", "2025-02-30"],
            "--to": ["", "2025-13-01"],
            "--element": ["", "Fe", "nd", "other"],
            "--db": BAD_DB,
            "--plot": BAD_OUT,
        },
    ),
    "analytics warnings": (
        {"--db": "ledger.db", "--as-of": "2025-06-30"},
        {
            "--as-of": ["", "yesterday", "2025-02-30"],
            "--settings": [*BAD_IN, TEXT, "inputs/registry.json"],  # the last: unknown keys
            "--db": BAD_DB,
        },
    ),
    "open-data export": (
        {"folder": "open-data", "--db": "ledger.db"},
        {
            "folder": [BINARY, NO_DIR, "inputs"],  # a file; no parent; a folder not empty
            "--from": ["", "yesterday"],
            "--to": ["", "2025-13-01"],
            "--settings": [*BAD_IN, TEXT, "inputs/registry.json"],
            "--db": BAD_DB,
        },
    ),
    "analytics cache": (
        {"--db": "ledger.db", "--from": "2020-01-01", "--to": "2030-12-31"},
        {
            "--from": ["", "yesterday", "2031-01-01"],  # the last: after --to
            "--to": ["", "2025-13-01"],
            "--db": BAD_DB,
        },
    ),
    "analytics concentration": (
        {"--db": "ledger.db", "--from": "2020-01-01", "--to": "2030-12-31", "--plot": "c.html"},
        {
            "--from": ["", "yesterday", "2031-01-01"],  # the last: after --to
            "--to": ["", "2025-13-01"],
            "--db": BAD_DB,
            "--plot": BAD_OUT,
        },
    ),
    "analytics scenario": (
        {"file": str(packaged_path("lynas-outage")), "--plot": "scenario.html"},
        {
            # the last: a JSON file that is no scenario
            "file": [*BAD_IN, TEXT, "inputs/registry.json"],
            "--template": [*BAD_OUT, "inputs/registry.json"],  # with FILE; never overwrites
            "--example": ["", "nope"],  # without --template
            "--db": BAD_DB,  # without --template: a FILE carries its own network
            "--plot": BAD_OUT,
        },
    ),
    "analytics corridor": (
        {
            "file": str(packaged_path("corridor-asean-2030")),
            "--no-resilience": "",
            "--enable": "us-defence",
            "--plot": "corridor.html",
        },
        {
            "file": [*BAD_IN, TEXT, str(packaged_path("lynas-outage"))],  # the last: no corridor
            "--enable": ["", "bogus"],
            "--disable": ["", "bogus", "us-defence"],  # the last: also enabled
            "--plot": BAD_OUT,
        },
    ),
}
#: Cases still open, each with who fixes it; a case that starts passing must leave this list.
KNOWN_OPEN: dict[tuple[str, str, str], str] = {}
#: Baselines that cannot be run as given, and why.
NO_BASELINE = {
    "verify-credential": "the walk has no credential to verify; its cases are about the files",
    "serve": "it serves until stopped; tests/api run the service",
}


def _commands() -> Iterator[tuple[str, Any]]:
    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            yield " ".join(path), command
            return
        for name, sub in subcommands.items():
            yield from walk(sub, (*path, name))

    return walk(typer.main.get_command(full_app()), ())


def _walked_parameters(command: Any) -> set[str]:
    """The parameters a bad value can be given to: all but flags."""
    names = set()
    for param in command.params:
        if getattr(param, "is_flag", False):
            continue
        names.add(param.opts[0] if param.param_type_name == "option" else param.name)
    return names


def test_every_command_and_parameter_is_walked() -> None:
    commands = dict(_commands())
    assert set(SPECS) == set(commands), (
        "add the new command(s) to SPECS with a valid invocation and bad values:",
        set(commands) - set(SPECS),
        set(SPECS) - set(commands),
    )
    for name, command in commands.items():
        missing = _walked_parameters(command) - set(SPECS[name][1])
        assert not missing, f"{name}: give {sorted(missing)} bad values in SPECS"


def _args(command: Any, values: dict[str, str]) -> list[str]:
    args: list[str] = []
    for param in command.params:
        if param.param_type_name == "argument":
            if param.name in values:
                args.append(values[param.name])
            continue
        option = param.opts[0]
        if option in values:
            args += [option] if getattr(param, "is_flag", False) else [option, values[option]]
    return args


def _resolve(value: str, ids: dict[str, str]) -> str:
    places = {
        MISSING: "missing.json", FOLDER: "a-folder", BINARY: "binary.bin", EMPTY: "empty.file",
        TEXT: "text.txt", FAKE_DB: "fake.db", NO_DIR: "no-such-folder/out.file",
    }  # fmt: skip
    return places.get(value, value.format(**ids))


def _build(where: Path) -> dict[str, str]:
    """A signed demo ledger (its log inside ``where``), input files, a witness and an issuer
    key, and the bad files the cases point at; the ids the specs use."""

    def ok(*args: str) -> str:
        done = run(*args, cwd=where)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    ok("demo", "--events", "60", "--db", "ledger.db", "--log-dir", "ledger-log",
       "--write", "inputs")  # fmt: skip
    inputs = where / "inputs"
    (inputs / "log.vkey").write_text(ok("--db", "ledger.db", "log", "vkey"))
    with sqlite3.connect(f"file:{where / 'ledger.db'}?mode=ro&immutable=1", uri=True) as conn:
        lot = conn.execute("SELECT id FROM lots ORDER BY id LIMIT 1").fetchone()[0]
        event = conn.execute("SELECT id FROM events ORDER BY seq DESC LIMIT 1").fetchone()[0]
    conn.close()
    ok("--db", "ledger.db", "export", lot, "--bundle", "inputs/bundle.json",
       "--write-trust", "inputs/trust.txt")  # fmt: skip
    ok("--db", "ledger.db", "epcis", "export", "--out", "inputs/epcis.jsonld")
    ok("--db", "ledger.db", "amrt", "export", "--participant", "lynas-my", "--out",
       "inputs/amrt.xlsx")  # fmt: skip
    (inputs / "facilities.csv").write_text(
        "id,name,operator,country,stage\nMY-NEW-SITE,New site,lynas-my,MY,warehouse\n"
    )
    ok("witness", "keygen", "--name", "witness.example", "--out", "inputs/witness.key")
    ok("issuer", "keygen", "--did", "did:web:council.example", "--out", "inputs/issuer.key")
    (inputs / "did.json").write_text(ok("issuer", "did-document", "--key", "inputs/issuer.key"))
    ok("issuer", "status-list", "--key", "inputs/issuer.key", "--out", "inputs/status.jwt")
    said = ok("--db", "ledger.db", "certify", lot, "--issuer-key", "inputs/issuer.key",
              "--status-list", "inputs/status.jwt", "--out", "inputs/issued")  # fmt: skip
    credential = said.split("Digital Product Passport ", 1)[1].split()[0]
    first = json.loads((inputs / "events.jsonl").read_text().splitlines()[0])
    (inputs / "one-event.jsonl").write_text(json.dumps(first) + "\n")
    (where / "a-folder").mkdir()
    (where / "binary.bin").write_bytes(random.Random(8).randbytes(4096))
    (where / "empty.file").touch()
    (where / "text.txt").write_text("hello, this is not a ledger\n")
    (where / "fake.db").write_bytes(SQLITE_HEADER + bytes(4080))
    bearer = ok("--db", "ledger.db", "token", "issue", "--participant", "lynas-my",
                "--role", "operator").strip()  # fmt: skip
    return {
        "token": bearer.split("_")[1],
        "lot": lot, "event": event, "key": f"inputs/keys/{first['actor']}.key",
        "credential": credential, **_clearinghouse_inputs(where),
    }  # fmt: skip


def _clearinghouse_inputs(where: Path) -> dict[str, str]:
    """An agreement file, and a receipt its consignee may dispute (with whom and which lot)."""
    terms = {"id": "AGR-WALK", "title": "An offtake", "kind": "offtake",
             "parties": [{"name": "Lynas Malaysia", "country": "MY", "participant": "lynas-my"},
                         {"name": "A buyer", "country": "JP"}],
             "jurisdictions": ["MY"], "dates": {"signed": "2026-01-02"},
             "documents": [{"name": "a.pdf", "sha256": "0" * 64}]}  # fmt: skip
    (where / "inputs" / "agreement.json").write_text(json.dumps(terms))
    with sqlite3.connect(f"file:{where / 'ledger.db'}?mode=ro&immutable=1", uri=True) as conn:
        receipt, receiver, body = conn.execute(
            "SELECT id, actor, body FROM events WHERE type = 'receive' ORDER BY seq LIMIT 1"
        ).fetchone()
    conn.close()
    other = "lynas-au" if receiver != "lynas-au" else "lynas-my"
    return {"receipt": receipt, "receiver": receiver, "respondent": other,
            "received_lot": json.loads(body)["lot"]}  # fmt: skip


@pytest.fixture(scope="module")
def walk_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One ledger and its files for every bad case (each must leave it as it was)."""
    where = tmp_path_factory.mktemp("walk")
    return where, _build(where)


def _drive(cases: list[dict[str, Any]], where: Path) -> list[dict[str, Any]]:
    (where.parent / "cases.json").write_text(json.dumps(cases))
    env = {k: v for k, v in os.environ.items() if k != "RARETRACE_DB"}
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(where.parent / "cases.json"),
         str(where.parent / "results.json")],
        env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads((where.parent / "results.json").read_text())
    return results


def _bad_cases(where: Path, ids: dict[str, str]) -> list[dict[str, Any]]:
    cases = []
    for name, command in _commands():
        base, bad = SPECS[name]
        for param, values in bad.items():
            for value in values:
                invocation = {k: _resolve(v, ids) for k, v in {**base, param: value}.items()}
                args = [*name.split(), *_args(command, invocation)]
                cases.append({"name": name, "param": param, "value": value, "args": args,
                              "cwd": str(where), "watch": str(where)})  # fmt: skip
    return cases


def _problem(result: dict[str, Any]) -> str | None:
    """What is wrong with how a bad case ended, or None."""
    code, err, out = result["code"], result["stderr"], result["stdout"]
    if "Traceback" in err + out:
        return "traceback"
    if code not in (1, 2):
        return f"exit {code}"
    usage = err.startswith("Usage: ") and "\nError: " in err  # Typer's usage error shape
    if not usage and not (err.startswith("error: ") and err.count("\n") == 1):
        return "not one line"
    if result["changed"]:
        return f"changed {result['changed'][:5]}"
    return None


def test_bad_arguments_and_files_are_one_line_exit_1_or_2_and_change_nothing(
    walk_dir: tuple[Path, dict[str, str]],
) -> None:
    where, ids = walk_dir
    results = _drive(_bad_cases(where, ids), where)
    failures, fixed = [], []
    for r in results:
        problem, known = _problem(r), (r["name"], r["param"], r["value"]) in KNOWN_OPEN
        if problem is not None and not known:
            last = (r["stderr"].strip().splitlines() or [""])[-1][:200]
            failures.append(f"{r['name']} {r['param']}={r['value']!r}: {problem}, {last!r}")
        elif problem is None and known:
            fixed.append((r["name"], r["param"], r["value"]))
    assert not failures, "\n".join([f"{len(failures)} of {len(results)} cases:", *failures])
    assert not fixed, f"fixed now: remove {fixed} from KNOWN_OPEN"


def test_reading_commands_leave_no_file_behind(walk_dir: tuple[Path, dict[str, str]]) -> None:
    """A command that reads the ledger creates nothing beside it: no -wal/-shm, no database
    (the walk above checks the same for every refused command)."""
    where, ids = walk_dir
    bundle = str(where.parent / "read-bundle.json")  # outside the watched folder
    reads = [["lots"], ["trace", ids["lot"]], ["facilities"], ["discrepancies"], ["audit"],
             ["log", "checkpoint"], ["log", "vkey"], ["log", "prove", ids["event"]],
             ["log", "consistency", "4"], ["export", ids["lot"], "--bundle", bundle]]  # fmt: skip
    cases = [{"name": " ".join(r), "args": ["--db", "ledger.db", *r], "cwd": str(where),
              "watch": str(where)} for r in reads]  # fmt: skip
    for r in _drive(cases, where):
        assert (r["name"], r["code"], r["changed"]) == (r["name"], 0, []), r["stderr"]


def test_the_valid_invocations_the_walk_starts_from_succeed(tmp_path: Path) -> None:
    copy = tmp_path / "baseline"  # a ledger of its own: these change it
    copy.mkdir()
    ids = _build(copy)
    cases = []
    for name, command in _commands():
        if name in NO_BASELINE:
            continue
        invocation = {k: _resolve(v, ids) for k, v in SPECS[name][0].items()}
        cases.append({"name": name, "args": [*name.split(), *_args(command, invocation)],
                      "cwd": str(copy), "watch": str(copy)})  # fmt: skip
    failed = [(r["name"], r["code"], r["stderr"][-300:]) for r in _drive(cases, copy) if r["code"]]
    assert not failed
