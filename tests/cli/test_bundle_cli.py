"""``raretrace export --bundle`` and ``raretrace verify``, run as real processes on a signed
demo world: the verdict, and exit codes that name what failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import run
from raretrace.domain.canonical import canonical_json
from raretrace.log.note import add_signatures
from raretrace.log.witness import CosignatureSigner, generate_cosigner_key

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A signed demo ledger, one magnet's bundle and the ledger's published trust file."""
    cwd = tmp_path_factory.mktemp("bundle-cli")
    demo = cwd / "demo"
    run("demo", "--events", "600", "--write", str(demo), "--db", "unused.db", cwd=cwd)
    steps = [
        ("init", "--db", "ledger.db"),
        ("registry", "load", str(demo / "registry.json"), "--db", "ledger.db"),
        ("ingest", str(demo / "events.jsonl"), "--db", "ledger.db"),
    ]
    for step in steps:
        done = run(*step, cwd=cwd)
        assert done.returncode == 0, done.stderr
    return cwd


@pytest.fixture(scope="module")
def exported(world: Path) -> tuple[Path, str]:
    done = run("lots", "--db", "ledger.db", "--form", "oxide", "--limit", "1", cwd=world)
    lot = done.stdout.splitlines()[3].split("│")[1].strip()  # ids are whole in the table
    result = run("export", lot, "--bundle", "b.json", "--write-trust", "trust.txt",
                 "--db", "ledger.db", cwd=world)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"bundle for lot {lot}:" in result.stdout and "→ b.json" in result.stdout
    return world, lot


def test_a_bundle_verifies_with_the_published_keys(exported: tuple[Path, str]) -> None:
    cwd, lot = exported
    done = run("verify", "b.json", "--trust", "trust.txt", cwd=cwd)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"VERIFIED: lot {lot} (oxide,")
    assert "log signature trusted" in done.stdout
    assert "origin by country (share of the rare-earth element mass in this lot):" in done.stdout
    trace = json.loads(run("trace", lot, "--json", "--db", "ledger.db", cwd=cwd).stdout)
    # The claim is the trace's lot view; the trace adds the discrepancies upstream.
    trace.pop("discrepancies")
    assert json.loads((cwd / "b.json").read_bytes())["claim"] == trace


def test_verify_needs_no_database(exported: tuple[Path, str], tmp_path: Path) -> None:
    cwd, _ = exported
    (tmp_path / "b.json").write_bytes((cwd / "b.json").read_bytes())
    (tmp_path / "trust.txt").write_text((cwd / "trust.txt").read_text())
    done = run("verify", "b.json", "--trust", "trust.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "trust.txt"]


def test_a_tampered_bundle_exits_1_naming_the_event(
    exported: tuple[Path, str], tmp_path: Path
) -> None:
    cwd, _ = exported
    bundle = json.loads((cwd / "b.json").read_bytes())
    entry = next(e for e in bundle["events"] if e["event"]["type"] == "receive")
    entry["event"]["mass_kg"] = 1.0
    (tmp_path / "bad.json").write_bytes(canonical_json(bundle))
    done = run("verify", str(tmp_path / "bad.json"), "--trust", "trust.txt", cwd=cwd)
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"error: NOT VERIFIED: [leaf-commitment] event {entry['event']['id']!r}"
        f" (leaf {entry['leaf_index']}): SHA-256(salt || event) is"
    )
    assert len(done.stderr.strip().splitlines()) == 1


def test_trust_without_the_log_key_exits_1(exported: tuple[Path, str]) -> None:
    cwd, _ = exported
    lines = (cwd / "trust.txt").read_text().splitlines()
    (cwd / "nolog.txt").write_text("\n".join(x for x in lines if "+" not in x) + "\n")
    done = run("verify", "b.json", "--trust", "nolog.txt", cwd=cwd)
    assert done.returncode == 1
    assert "the trust file lists no key for that log" in done.stderr


def test_a_listed_witness_must_have_cosigned(exported: tuple[Path, str], tmp_path: Path) -> None:
    cwd, _ = exported
    skey, vkey = generate_cosigner_key("witness.regulator.example.vn")
    trust = (cwd / "trust.txt").read_text() + vkey + "\n"
    (tmp_path / "trust.txt").write_text(trust)
    done = run("verify", str(cwd / "b.json"), "--trust", "trust.txt", cwd=tmp_path)
    assert done.returncode == 1
    assert "0 valid witness cosignature(s) (none); 1 required" in done.stderr
    bundle = json.loads((cwd / "b.json").read_bytes())
    bundle["checkpoint"] = add_signatures(bundle["checkpoint"], [CosignatureSigner.from_skey(skey)])
    (tmp_path / "cosigned.json").write_bytes(canonical_json(bundle))
    done = run("verify", "cosigned.json", "--trust", "trust.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "cosigned by 1 trusted witness(es) (witness.regulator.example.vn)" in done.stdout
    done = run("verify", "b.json", "--trust", "trust.txt", "--witnesses", "0", cwd=cwd)
    assert done.returncode == 0, done.stderr


def test_usage_errors_exit_2(exported: tuple[Path, str]) -> None:
    cwd, _ = exported
    no_trust = run("verify", "b.json", cwd=cwd)
    assert no_trust.returncode == 2 and "pass --trust KEYS" in no_trust.stderr
    missing = run("verify", "nothing.json", "--trust", "trust.txt", cwd=cwd)
    assert missing.returncode == 2 and "cannot read the bundle nothing.json" in missing.stderr
    too_many = run("verify", "b.json", "--trust", "trust.txt", "--witnesses", "3", cwd=cwd)
    assert too_many.returncode == 2 and "--witnesses 3 needs" in too_many.stderr
    no_lot = run("export", "NO-SUCH-LOT", "--bundle", "x.json", "--db", "ledger.db", cwd=cwd)
    assert no_lot.returncode == 2 and "lot 'NO-SUCH-LOT' is not in the ledger" in no_lot.stderr
    assert not (cwd / "x.json").exists()


def test_not_a_bundle_exits_1(exported: tuple[Path, str]) -> None:
    cwd, _ = exported
    (cwd / "junk.json").write_text('{"hello": 1}')
    done = run("verify", "junk.json", "--trust", "trust.txt", cwd=cwd)
    assert done.returncode == 1
    assert "NOT VERIFIED: not a raretrace evidence bundle" in done.stderr
