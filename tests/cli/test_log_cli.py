"""``raretrace log`` and ``raretrace witness`` as a user runs them: real processes and files.

The checkpoint the CLI prints is also checked the way an outside client would, with nothing
but ``hashlib``, ``base64`` and ``cryptography``, against C2SP tlog-checkpoint, signed-note and
tlog-cosignature as the specs describe them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cli_support import run
from raretrace.log.checkpoint import verify_checkpoint
from raretrace.log.merkle import leaf_hash, verify_consistency, verify_inclusion
from raretrace.log.note import Ed25519Verifier
from raretrace.log.witness import CosignatureVerifier, verify_cosigned_checkpoint

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REGISTRY = FIXTURES / "example_registry.json"
EVENTS = FIXTURES / "example_events.jsonl"
SIZE = 9  # four registry events and five example events
LOG = "raretrace-log"  # the log directory beside raretrace.db


def ok(*args: str, cwd: Path) -> str:
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def make_ledger(directory: Path, events: list[str]) -> Path:
    ok("init", "--allow-unsigned", cwd=directory)
    ok("registry", "load", str(REGISTRY), cwd=directory)
    (directory / "events.jsonl").write_text("\n".join(events) + "\n")
    ok("ingest", "events.jsonl", cwd=directory)
    return directory


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    return make_ledger(tmp_path, EVENTS.read_text().splitlines())


def one_line_error(done: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


# --- log ------------------------------------------------------------------------------------


def test_log_checkpoint_follows_c2sp_and_verifies_with_the_printed_vkey(
    ledger_dir: Path,
) -> None:
    note = ok("log", "checkpoint", cwd=ledger_dir)
    vkey = ok("log", "vkey", cwd=ledger_dir).strip()
    assert note == (ledger_dir / LOG / "checkpoint").read_text()
    assert verify_checkpoint(note, Ed25519Verifier.from_vkey(vkey)).size == SIZE
    # tlog-checkpoint: origin, decimal size, base64 root, then a blank line and signatures.
    text, _, block = note.partition("\n\n")
    origin, size, root = text.split("\n")
    assert (origin, size) == (f"raretrace.local/{LOG}", str(SIZE))
    assert re.fullmatch(r"0|[1-9][0-9]*", size)
    assert len(base64.b64decode(root, validate=True)) == 32
    (line,) = block.splitlines()
    # signed-note: "— <name> base64(key id || signature)"; vkey "<name>+<id>+base64(0x01||pk)".
    name, id_hex, material = vkey.split("+", 2)
    public = base64.b64decode(material)
    assert name == origin and public[0] == 0x01 and block.endswith("\n")
    assert hashlib.sha256(name.encode() + b"\n" + public).digest()[:4].hex() == id_hex
    prefix, sig_name, sig64 = line.split(" ")
    raw = base64.b64decode(sig64)
    assert (prefix, sig_name, raw[:4].hex()) == ("\u2014", name, id_hex)
    Ed25519PublicKey.from_public_bytes(public[1:]).verify(raw[4:], (text + "\n").encode())


def test_log_prove_json_verifies_and_the_leaf_commits_to_the_stored_event(
    ledger_dir: Path,
) -> None:
    view = json.loads(ok("log", "prove", "e3", "--json", cwd=ledger_dir))
    assert list(view) == [
        "event_id", "leaf_index", "tree_size", "leaf", "event", "salt", "proof", "checkpoint",
    ]  # fmt: skip
    key = Ed25519Verifier.from_vkey(ok("log", "vkey", cwd=ledger_dir).strip())
    checkpoint = verify_checkpoint(view["checkpoint"], key)
    leaf, salt = base64.b64decode(view["leaf"]), base64.b64decode(view["salt"])
    with sqlite3.connect(ledger_dir / "raretrace.db") as conn:
        seq, body, stored_salt = conn.execute(
            "SELECT seq, body, salt FROM events WHERE id = 'e3'"
        ).fetchone()
        (first_id,) = conn.execute("SELECT id FROM events WHERE seq = 0").fetchone()
    assert (view["event_id"], view["leaf_index"], view["tree_size"]) == ("e3", seq, SIZE)
    # The leaf is SHA-256(salt || the event's RFC 8785 bytes); the event and salt open it.
    assert view["event"] == json.loads(body) and salt == stored_salt and len(salt) == 32
    assert leaf == hashlib.sha256(salt + body.encode("utf-8")).digest()
    verify_inclusion(
        leaf_hash=leaf_hash(leaf), index=seq, size=view["tree_size"],
        proof=[base64.b64decode(h) for h in view["proof"]], root=checkpoint.root_hash,
    )  # fmt: skip
    older = json.loads(ok("log", "prove", first_id, "--size", "4", "--json", cwd=ledger_dir))
    assert older["tree_size"] == 4 and verify_checkpoint(older["checkpoint"], key).size == 4
    readable = ok("log", "prove", "e3", cwd=ledger_dir)
    assert f"event e3 is leaf {seq} of raretrace.local/{LOG} at tree size {SIZE}" in readable
    assert base64.b64encode(checkpoint.root_hash).decode() in readable


def test_log_prove_errors_are_one_line(ledger_dir: Path) -> None:
    one_line_error(run("log", "prove", "nope", cwd=ledger_dir), 2, "no accepted event has id")
    one_line_error(
        run("log", "prove", "e5", "--size", "4", cwd=ledger_dir), 2, "not in the tree of size 4"
    )
    one_line_error(
        run("log", "prove", "e1", "--size", "5", cwd=ledger_dir),
        2,
        "no checkpoint is stored for tree size 5",
    )


def test_log_consistency_json_verifies(ledger_dir: Path) -> None:
    view = json.loads(ok("log", "consistency", "4", "--json", cwd=ledger_dir))
    assert list(view) == ["old_size", "new_size", "proof", "old_checkpoint", "new_checkpoint"]
    key = Ed25519Verifier.from_vkey(ok("log", "vkey", cwd=ledger_dir).strip())
    verify_consistency(
        old_size=4, new_size=view["new_size"],
        old_root=verify_checkpoint(view["old_checkpoint"], key).root_hash,
        new_root=verify_checkpoint(view["new_checkpoint"], key).root_hash,
        proof=[base64.b64decode(h) for h in view["proof"]],
    )  # fmt: skip
    assert view["new_size"] == SIZE
    between = json.loads(ok("log", "consistency", "2", "7", "--json", cwd=ledger_dir))
    assert (between["old_checkpoint"], between["new_checkpoint"]) == (None, None)
    assert "is a prefix of tree size 9" in ok("log", "consistency", "4", "9", cwd=ledger_dir)
    one_line_error(run("log", "consistency", "4", "10", cwd=ledger_dir), 2, "no tree of size 10")


@pytest.mark.parametrize("sizes", [["0"], ["5", "3"], ["999"], ["--", "-3"]])
def test_log_consistency_sizes_out_of_range_are_a_bad_argument(
    ledger_dir: Path, sizes: list[str]
) -> None:
    """docs/formats.md: exit 2 for a bad argument; exit 1 is kept for a proof that fails."""
    done = run("log", "consistency", *sizes, cwd=ledger_dir)
    one_line_error(done, 2, f"the sizes must satisfy 0 < OLD_SIZE <= NEW_SIZE <= {SIZE}")


# --- witness --------------------------------------------------------------------------------


def test_two_witnesses_cosign_the_published_checkpoint(ledger_dir: Path) -> None:
    ok("log", "vkey", cwd=ledger_dir)
    (ledger_dir / "log.vkey").write_text(ok("log", "vkey", cwd=ledger_dir))
    vkeys = {}
    for who in ("my", "vn"):
        vkeys[who] = ok(
            "witness", "keygen", "--name", f"witness.example.{who}", "--out", f"{who}.key",
            cwd=ledger_dir,
        ).strip()  # fmt: skip
        assert (ledger_dir / f"{who}.key").stat().st_mode & 0o777 == 0o600
    one_line_error(
        run("witness", "cosign", "--key", "my.key", "--state", "my-state", cwd=ledger_dir),
        2,
        "a witness needs the log's verifier key",
    )
    first = ok("witness", "cosign", "--key", "my.key", "--state", "my-state",
               "--log-vkey-file", "log.vkey", cwd=ledger_dir)  # fmt: skip
    assert "trusting size 9 on first use" in first
    vkey = (ledger_dir / "log.vkey").read_text().strip()
    second = ok("witness", "cosign", "--key", "vn.key", "--state", "vn-state",
                "--log-vkey", vkey, cwd=ledger_dir)  # fmt: skip
    assert "as witness.example.vn; signed by" in second
    note = ok("log", "checkpoint", cwd=ledger_dir)
    assert note == (ledger_dir / LOG / "checkpoint").read_text()
    done = verify_cosigned_checkpoint(
        note, log_key=Ed25519Verifier.from_vkey(vkey),
        witness_keys=[CosignatureVerifier.from_vkey(v) for v in vkeys.values()],
    )  # fmt: skip
    assert len(done.cosignatures) == 2
    # tlog-cosignature, checked independently: u64 time || Ed25519 over the v1 message.
    text = note.partition("\n\n")[0] + "\n"
    for line in note.partition("\n\n")[2].splitlines()[1:]:
        _, name, sig64 = line.split(" ")
        raw = base64.b64decode(sig64)
        public = base64.b64decode(vkeys[name.rsplit(".", 1)[1]].split("+", 2)[2])
        assert public[0] == 0x04
        stamp = int.from_bytes(raw[4:12], "big")
        message = f"cosignature/v1\ntime {stamp}\n{text}".encode()
        Ed25519PublicKey.from_public_bytes(public[1:]).verify(raw[12:], message)
    again = ok("witness", "cosign", "--key", "my.key", "--state", "my-state",
               "--log-vkey-file", "log.vkey", cwd=ledger_dir)  # fmt: skip
    assert "consistent with cosigned size 9" in again


def test_a_witness_refuses_a_rewritten_log_with_exit_1(ledger_dir: Path, tmp_path: Path) -> None:
    forged = tmp_path / "forged"
    (forged / LOG).mkdir(parents=True)
    for name in ("log.key", "log.vkey", "registry.key"):  # the operator's own keys
        shutil.copy2(ledger_dir / LOG / name, forged / LOG / name)
    events = EVENTS.read_text().splitlines()
    first = json.loads(events[0])
    first["time"] = "2025-01-05T09:00:00Z"
    make_ledger(forged, [json.dumps(first), *events[1:3]])
    vkey = ok("log", "vkey", cwd=ledger_dir).strip()
    key = str(tmp_path / "w.key")
    state = str(tmp_path / "w-state")
    ok("witness", "keygen", "--name", "witness.example.vn", "--out", key, cwd=tmp_path)
    witness = ("witness", "cosign", "--key", key, "--state", state, "--log-vkey", vkey)
    assert "size 7" in ok(*witness, cwd=forged)
    before = ok("log", "checkpoint", cwd=ledger_dir)
    one_line_error(run(*witness, cwd=ledger_dir), 1, "is not consistent with cosigned size 7")
    assert ok("log", "checkpoint", cwd=ledger_dir) == before
    ok("witness", "cosign", "--key", key, "--state", str(tmp_path / "s2"),
       "--log-vkey", vkey, cwd=ledger_dir)  # fmt: skip
    one_line_error(
        run("witness", "cosign", "--key", key, "--state", str(tmp_path / "s2"),
            "--log-vkey", vkey, cwd=forged),
        1,
        "went backwards: witness cosigned size 9, new checkpoint has size 7",
    )  # fmt: skip


def test_a_witness_of_an_empty_log_is_told_there_is_nothing_to_cosign(tmp_path: Path) -> None:
    ok("init", "--allow-unsigned", cwd=tmp_path)
    vkey = ok("log", "vkey", cwd=tmp_path).strip()
    ok("witness", "keygen", "--name", "w", "--out", "w.key", cwd=tmp_path)
    one_line_error(
        run("witness", "cosign", "--key", "w.key", "--state", "s", "--log-vkey", vkey,
            cwd=tmp_path),
        2,
        "the log has no checkpoint yet",
    )  # fmt: skip
    one_line_error(run("log", "checkpoint", cwd=tmp_path), 2, "no checkpoint yet")
    one_line_error(
        run("witness", "keygen", "--name", "w", "--out", "w.key", cwd=tmp_path),
        2,
        "already exists",
    )


# --- docs -----------------------------------------------------------------------------------


def test_the_examples_in_formats_md_verify() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text()
    section = docs[docs.index("## The log and witnesses") :]
    blocks = re.findall(r"```(?:json)?\n(.*?)```", section, flags=re.S)
    note, log_vkey, proof = blocks[0], blocks[1].strip(), json.loads(blocks[2])
    witness_vkey = re.search(r"trust: `(witness\.example\.my\+[^`]+)`", section)
    assert witness_vkey is not None
    key = Ed25519Verifier.from_vkey(log_vkey)
    cosigned = verify_cosigned_checkpoint(
        note, log_key=key, witness_keys=[CosignatureVerifier.from_vkey(witness_vkey.group(1))]
    )
    assert cosigned.checkpoint.size == proof["tree_size"]
    leaf, salt = base64.b64decode(proof["leaf"]), base64.b64decode(proof["salt"])
    assert proof["event"]["id"] == proof["event_id"]
    assert leaf == hashlib.sha256(salt + rfc8785.dumps(proof["event"])).digest()
    verify_inclusion(
        leaf_hash=leaf_hash(leaf), index=proof["leaf_index"], size=proof["tree_size"],
        proof=[base64.b64decode(h) for h in proof["proof"]], root=cosigned.checkpoint.root_hash,
    )  # fmt: skip
