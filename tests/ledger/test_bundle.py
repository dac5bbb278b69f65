"""Evidence bundles: built from a real ledger on both backends, checked offline, and refused
after any tampering with a message that names what failed."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_support import new_ledger
from raretrace.domain import canonical, keys
from raretrace.domain.canonical import canonical_json
from raretrace.domain.errors import ConfigError, NotFound, RaretraceError, VerificationError
from raretrace.domain.keys import sign_event
from raretrace.ledger import service
from raretrace.ledger.append import Ledger
from raretrace.ledger.bundle import build_bundle, export_bundle, own_trust, trust_file
from raretrace.ledger.keyfiles import KeyFile, new_key
from raretrace.ledger.logview import log_vkey, witness_cosign
from raretrace.ledger.settings import LedgerSettings
from raretrace.log.checkpoint import parse_checkpoint, sign_checkpoint
from raretrace.log.note import (
    Ed25519Signer,
    Ed25519Verifier,
    add_signatures,
    generate_key,
    parse_note_unverified,
)
from raretrace.log.witness import CosignatureSigner, WitnessState, generate_cosigner_key
from raretrace.verify import TrustedKeys, parse_trust, verify_bundle

pytestmark = pytest.mark.integration

PARTICIPANTS = ["miner-au", "miner-vn", "proc-my"]
REGISTRY: dict[str, Any] = {
    "participants": [
        {"id": "miner-au", "name": "Miner AU", "country": "AU"},
        {"id": "miner-vn", "name": "Miner VN", "country": "VN"},
        {"id": "proc-my", "name": "Processor MY", "country": "MY"},
    ],
    "facilities": [
        {"id": "MINE-AU", "name": "Mine AU", "operator": "miner-au", "country": "AU",
         "stage": "mine"},
        {"id": "MINE-VN", "name": "Mine VN", "operator": "miner-vn", "country": "VN",
         "stage": "mine"},
        {"id": "PLANT-MY", "name": "Plant MY", "operator": "proc-my", "country": "MY",
         "stage": ["separation", "reduction"]},
        {"id": "PORT-MY", "name": "Port MY", "operator": "proc-my", "country": "MY",
         "stage": "warehouse"},
    ],
}  # fmt: skip


def _events() -> list[dict[str, Any]]:
    def ev(n: int, kind: str, actor: str, **fields: Any) -> dict[str, Any]:
        return {"id": f"ev{n}", "type": kind, "time": f"2025-02-{n:02d}T00:00:00Z",
                "actor": actor, **fields}  # fmt: skip

    def out(lot: str, form: str, kg: float, **elements: float) -> dict[str, Any]:
        return {"lot": lot, "form": form, "mass_kg": kg, "elements_kg": elements}

    return [
        ev(1, "extract", "miner-au", facility="MINE-AU",
           outputs=[out("L1", "concentrate", 1000.0, Nd=60.0, Pr=20.0, Th=1.5)]),
        ev(2, "extract", "miner-vn", facility="MINE-VN",
           outputs=[out("L2", "concentrate", 500.0, Nd=40.0, Pr=10.0)]),
        ev(3, "ship", "miner-au", lot="L1", **{"from": "MINE-AU"}, to="PLANT-MY",
           consignee="proc-my"),
        ev(4, "receive", "proc-my", lot="L1", facility="PLANT-MY"),
        ev(5, "ship", "miner-vn", lot="L2", **{"from": "MINE-VN"}, to="PLANT-MY",
           consignee="proc-my"),
        ev(6, "receive", "proc-my", lot="L2", facility="PLANT-MY", mass_kg=495.0),
        {"id": "ev6c", "type": "claim", "time": "2025-02-06T12:00:00Z", "actor": "proc-my",
         "lot": "L1", "scheme": "subsidy-x", "share": 0.5},  # half of L1 claimed
        ev(7, "transform", "proc-my", facility="PLANT-MY", process="separation",
           inputs=[{"lot": "L1", "mass_kg": 1000.0}, {"lot": "L2", "mass_kg": 247.5}],
           outputs=[out("L3", "oxide", 110.0, Nd=79.5, Pr=24.8),
                    out("L4", "residue", 900.0, Th=1.5)],
           losses_kg={"Nd": 0.1, "Pr": 0.15}),  # Nd 0.25% short: within tolerance
        ev(8, "adjust", "proc-my", lot="L3", mass_kg=-1.0, reason="sampling"),
        ev(9, "transform", "proc-my", facility="PLANT-MY", process="separation",
           inputs=[{"lot": "L2", "mass_kg": 247.5}],
           outputs=[out("L5", "oxide", 30.0, Nd=19.8, Pr=4.95)]),
        ev(10, "ship", "proc-my", lot="L3", **{"from": "PLANT-MY"}, to="PORT-MY",
           consignee="proc-my"),
        ev(11, "extract", "miner-au", facility="MINE-AU",
           outputs=[out("L6", "ore", 10.0, Nd=0.5)]),
    ]  # fmt: skip


#: The events a bundle for L3 must hold: L1 and L2 up to ev7 (not ev9), L3's own.
LINEAGE_OF_L3 = ["ev1", "ev2", "ev3", "ev4", "ev5", "ev6", "ev6c", "ev7", "ev8", "ev10"]


def signed_ledger(db: str, log_dir: Path) -> Ledger:
    keys = {p: new_key(p) for p in PARTICIPANTS}
    registry = json.loads(json.dumps(REGISTRY))
    for p in registry["participants"]:
        p["keys"] = [keys[p["id"]].registry_entry("2024-01-01T00:00:00Z")]
    ledger = new_ledger(db, registry, signed=True, log_dir=log_dir)
    signed = [_sign(e, keys[e["actor"]]) for e in _events()]
    report = ledger.ingest(enumerate(signed, 1))
    assert report.rejected == 0, report.rejections
    return ledger


def _sign(event: dict[str, Any], key: KeyFile) -> dict[str, Any]:
    return sign_event(event, key.private_key, key.kid)


def test_bundles_from_each_backend_verify(db_url: str, tmp_path: Path) -> None:
    ledger = signed_ledger(db_url, tmp_path / "log")
    built = export_bundle(ledger.store, "L3")
    bundle = json.loads(built.data)
    ids = [e["event"]["id"] for e in bundle["events"] if e["event"]["actor"] != "registry"]
    assert ids == LINEAGE_OF_L3
    records = {e["event"]["type"] + ":" + e["event"][e["event"]["type"]]["id"]
               for e in bundle["events"] if e["event"]["actor"] == "registry"}  # fmt: skip
    assert records == {"participant:miner-au", "participant:miner-vn", "participant:proc-my",
                       "facility:MINE-AU", "facility:MINE-VN", "facility:PLANT-MY"}  # fmt: skip
    assert built.data == canonical_json(bundle)
    trust = parse_trust(trust_file(ledger.store))
    verdict = verify_bundle(built.data, trust)
    assert (verdict.custody_events, verdict.registry_events, verdict.transforms) == (10, 6, 1)
    assert verdict.lot.status == "in_transit" and verdict.lot.destination == "PORT-MY"
    shares = verdict.origin_by_country()
    assert set(shares) == {"AU", "VN"} and abs(sum(shares.values()) - 1) < 1e-9
    assert bundle["claim"]["origin"]["by_country"]["Nd"]["AU"] == pytest.approx(60 / 79.8, abs=1e-6)
    ledger.close()


def test_a_trial_ledger_with_unsigned_history_refuses_to_export(tmp_path: Path) -> None:
    ledger = new_ledger(
        str(tmp_path / "l.db"), json.loads(json.dumps(REGISTRY)), log_dir=tmp_path / "log"
    )
    assert ledger.ingest(enumerate(_events(), 1)).rejected == 0
    with pytest.raises(ConfigError) as info:
        export_bundle(ledger.store, "L3")
    message = info.value.message
    assert "lot 'L3' rests on 10 event(s) without a participant signature" in message
    assert "('ev1', 'ev2', 'ev3', ...)" in message and "--allow-unsigned" in message
    assert "raretrace sign" in message
    ledger.close()


def test_a_bundle_is_smaller_than_its_proofs_written_out(tmp_path: Path) -> None:
    ledger = signed_ledger(str(tmp_path / "l.db"), tmp_path / "log")
    bundle = build_bundle(ledger.store, "L3")
    referenced = sum(len(e["proof"]) for e in bundle["events"])
    assert len(bundle["proof_hashes"]) < referenced  # shared upper nodes are stored once
    ledger.close()


# --- tampering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    bundle: dict[str, Any]  # with a witness cosignature on its checkpoint
    trust: TrustedKeys  # the log, the registry authority and the witness
    witness: CosignatureSigner
    log_dir: Path


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    tmp = tmp_path_factory.mktemp("bundle")
    ledger = signed_ledger(str(tmp / "ledger.db"), tmp / "log")
    bundle = build_bundle(ledger.store, "L3")
    skey, _ = generate_cosigner_key("witness.regulator.example.my")
    witness = CosignatureSigner.from_skey(skey)
    bundle["checkpoint"] = add_signatures(bundle["checkpoint"], [witness])
    trust = own_trust(LedgerSettings.from_meta(ledger.store.meta()))
    trust = replace(trust, witnesses=(witness.verifier(),))
    ledger.close()
    return Case(bundle, trust, witness, tmp / "log")


def _tampered(case: Case, change: Callable[[dict[str, Any]], None]) -> bytes:
    bundle = json.loads(json.dumps(case.bundle))
    change(bundle)
    return canonical_json(bundle)


def _event(bundle: dict[str, Any], event_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(e for e in bundle["events"] if e["event"]["id"] == event_id)
    return entry


def test_the_untouched_bundle_verifies_with_its_witness(case: Case) -> None:
    verdict = verify_bundle(canonical_json(case.bundle), case.trust)
    assert verdict.witnesses == ("witness.regulator.example.my",)


def test_the_verifier_does_not_use_the_ledgers_own_encoder(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaves and signed bytes come from the rfc8785 library, independent of the encoder
    the ledger wrote them with: verification passes with that encoder out of the way."""
    data = canonical_json(case.bundle)

    def unavailable(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("the verifier used raretrace's own RFC 8785 encoder")

    monkeypatch.setattr(canonical, "canonical_json", unavailable)
    monkeypatch.setattr(keys, "canonical_json", unavailable)
    verdict = verify_bundle(data, case.trust)
    assert verdict.witnesses == ("witness.regulator.example.my",)


def test_a_changed_event_field_no_longer_opens_its_commitment(case: Case) -> None:
    def change(b: dict[str, Any]) -> None:
        _event(b, "ev6")["event"]["mass_kg"] = 499.0

    opens = r"\[leaf-commitment\] event 'ev6' \(leaf \d+\): SHA-256\(salt \|\| event\) is "
    with pytest.raises(VerificationError, match=opens + ".* but the leaf the bundle proves is"):
        verify_bundle(_tampered(case, change), case.trust)


def test_a_re_signed_event_fails_too(case: Case) -> None:
    """Re-signing a changed event with another key still changes the commitment."""
    intruder = new_key("proc-my")

    def change(b: dict[str, Any]) -> None:
        entry = _event(b, "ev8")
        entry["event"] = _sign({**entry["event"], "mass_kg": -0.5}, intruder)

    with pytest.raises(VerificationError, match=r"\[leaf-commitment\] event 'ev8'"):
        verify_bundle(_tampered(case, change), case.trust)


def test_a_changed_salt_no_longer_opens_the_commitment(case: Case) -> None:
    def change(b: dict[str, Any]) -> None:
        salt = bytearray(base64.b64decode(_event(b, "ev4")["salt"]))
        salt[0] ^= 1
        _event(b, "ev4")["salt"] = base64.b64encode(bytes(salt)).decode()

    with pytest.raises(VerificationError, match=r"\[leaf-commitment\] event 'ev4' \(leaf \d+\)"):
        verify_bundle(_tampered(case, change), case.trust)


def test_a_changed_event_with_its_commitment_recomputed_fails_the_proof(case: Case) -> None:
    """Whoever changes the event and states the matching commitment changes the leaf: the
    inclusion proof, not the opening, then fails."""

    def change(b: dict[str, Any]) -> None:
        entry = _event(b, "ev6")
        entry["event"]["mass_kg"] = 499.0
        opened = hashlib.sha256(base64.b64decode(entry["salt"]) + canonical_json(entry["event"]))
        entry["leaf"] = base64.b64encode(opened.digest()).decode()

    with pytest.raises(VerificationError, match=r"event 'ev6' \(leaf \d+\): inclusion proof does "
                       r"not match checkpoint root [0-9a-f]{12}…"):  # fmt: skip
        verify_bundle(_tampered(case, change), case.trust)


def test_each_event_carries_the_salt_that_opens_its_leaf(case: Case) -> None:
    assert case.bundle["version"] == 2
    for entry in case.bundle["events"]:
        salt, leaf = base64.b64decode(entry["salt"]), base64.b64decode(entry["leaf"])
        assert len(salt) == 32
        assert leaf == hashlib.sha256(salt + canonical_json(entry["event"])).digest()
    salts = [e["salt"] for e in case.bundle["events"]]
    assert len(set(salts)) == len(salts)  # a fresh salt per event


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("salt"), "version 2 gives every event its salt and leaf"),
        (lambda e: e.update(salt="c2FsdA=="), "its salt is not the canonical base64 of 32 bytes"),
        (lambda e: e.update(leaf=e["salt"] + "x"), "its leaf is not the canonical base64"),
    ],
)  # fmt: skip
def test_a_missing_or_malformed_salt_is_refused(
    case: Case, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(VerificationError, match=message):
        verify_bundle(_tampered(case, lambda b: change(_event(b, "ev3"))), case.trust)


@pytest.mark.parametrize(
    ("dropped", "message"),
    [
        ("ev1", r"lot 'L1' \(an input of event 'ev7'\) has no creating event: an upstream "
                r"event is missing"),
        ("ev5", r"lot 'L2': event 'ev6' \(leaf \d+\) receives at 'PLANT-MY' a lot with no "
                r"shipment there"),
        ("ev4", r"lot 'L1': event 'ev6c' \(leaf \d+\) uses a lot that is in transit"),
        ("ev8", r"differs from the claim: claim.elements_kg.Nd: claimed 78.777273, "
                r"recomputed 79.5"),
        ("ev7", r"lot 'L3' \(the bundle's lot\) has no creating event"),
    ],
)  # fmt: skip
def test_a_dropped_upstream_event_is_named(case: Case, dropped: str, message: str) -> None:
    def change(b: dict[str, Any]) -> None:
        b["events"].remove(_event(b, dropped))

    with pytest.raises(VerificationError, match=message):
        verify_bundle(_tampered(case, change), case.trust)


def test_a_dropped_registry_record_is_named(case: Case) -> None:
    def change(b: dict[str, Any]) -> None:
        b["events"] = [e for e in b["events"] if e["event"]["id"] not in _records(b, "MINE-VN")]

    with pytest.raises(VerificationError, match="facility 'MINE-VN' has no registry record"):
        verify_bundle(_tampered(case, change), case.trust)


def _records(bundle: dict[str, Any], record_id: str) -> set[str]:
    return {
        e["event"]["id"]
        for e in bundle["events"]
        if e["event"]["actor"] == "registry" and e["event"][e["event"]["type"]]["id"] == record_id
    }


def test_a_swapped_proof_hash_fails(case: Case) -> None:
    def change(b: dict[str, Any]) -> None:
        proof = _event(b, "ev3")["proof"]
        proof[0], proof[1] = proof[1], proof[0]

    with pytest.raises(VerificationError, match=r"event 'ev3'.*inclusion proof does not match"):
        verify_bundle(_tampered(case, change), case.trust)


def test_a_changed_hash_in_the_table_fails(case: Case) -> None:
    def change(b: dict[str, Any]) -> None:
        b["proof_hashes"][0] = base64.b64encode(bytes(32)).decode()

    with pytest.raises(VerificationError, match="inclusion proof does not match checkpoint root"):
        verify_bundle(_tampered(case, change), case.trust)


def test_a_checkpoint_re_signed_with_an_untrusted_key_fails(case: Case) -> None:
    text = parse_note_unverified(case.bundle["checkpoint"]).text
    checkpoint = parse_checkpoint(text)
    skey, _ = generate_key(checkpoint.origin)  # same log name, someone else's key

    def change(b: dict[str, Any]) -> None:
        b["checkpoint"] = sign_checkpoint(checkpoint, Ed25519Signer.from_skey(skey))

    with pytest.raises(VerificationError, match="checkpoint: note has no valid signature from a "
                       "trusted key"):  # fmt: skip
        verify_bundle(_tampered(case, change), case.trust)


def test_a_checkpoint_without_the_trusted_witness_fails(case: Case) -> None:
    bare = "\n".join(
        line for line in case.bundle["checkpoint"].split("\n") if case.witness.name not in line
    )

    def change(b: dict[str, Any]) -> None:
        b["checkpoint"] = bare

    with pytest.raises(VerificationError, match=r"0 valid witness cosignature\(s\) \(none\); 1"):
        verify_bundle(_tampered(case, change), case.trust)
    verify_bundle(_tampered(case, change), case.trust, witnesses=0)


def test_a_changed_provenance_share_fails(case: Case) -> None:
    def change(b: dict[str, Any]) -> None:
        b["claim"]["origin"]["by_country"]["Nd"]["AU"] += 0.01
        b["claim"]["origin"]["by_country"]["Nd"]["VN"] -= 0.01

    with pytest.raises(VerificationError, match=r"differs from the claim: "
                       r"claim.origin.by_country.Nd.AU: claimed 0.76"):  # fmt: skip
        verify_bundle(_tampered(case, change), case.trust)


def test_a_claimed_origin_from_elsewhere_fails(case: Case) -> None:
    def change(b: dict[str, Any]) -> None:
        b["claim"]["origin"]["by_country"]["Nd"] = {"AU": 1.0}

    with pytest.raises(VerificationError, match=r"claim.origin.by_country.Nd has fields AU,"):
        verify_bundle(_tampered(case, change), case.trust)


def test_claimed_routes_by_stage_and_claims_are_recomputed(case: Case) -> None:
    claim = case.bundle["claim"]
    # L1 (AU) and half of L2 (VN) were separated at PLANT-MY; half of L1 was claimed.
    assert {tuple(s["country"] for s in r["steps"]) for r in claim["routes"]["Nd"]} == {
        ("AU", "MY"),
        ("VN", "MY"),
    }
    assert claim["by_stage"]["Nd"]["separation"] == {"MY": 1.0}
    assert claim["claimed"]["subsidy-x"]["Nd"] == pytest.approx(0.5 * 60 / 79.8, abs=1e-6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["routes"]["Nd"][0]["steps"][0].update(country="CN"),
         r"claim.routes.Nd has fields mine CN/"),
        (lambda c: c["routes"]["Nd"][0].update(share=c["routes"]["Nd"][0]["share"] + 1e-6),
         r"claim.routes.Nd.mine AU/AU > separation MY/MY: claimed 0.75"),
        (lambda c: c["routes"]["Nd"].append(c["routes"]["Nd"][0]),
         r"claim.routes.Nd: claimed \["),
        (lambda c: c["routes"]["Nd"][0]["steps"][0].update(facility="MINE-AU"),
         r"claim.routes.Nd: claimed \["),
        (lambda c: c["routes"]["Nd"][0]["steps"].pop(),
         r"claim.routes.Nd has fields mine AU/AU,"),
        (lambda c: c["by_stage"]["Nd"]["separation"].update(MY=0.9),
         r"claim.by_stage.Nd.separation.MY: claimed 0.9"),
        (lambda c: c["by_stage"]["Nd"].update(magnet={"MY": 1.0}),
         r"claim.by_stage.Nd has fields magnet, mine, separation"),
        (lambda c: c["claimed"]["subsidy-x"].update(Nd=0.1),
         r"claim.claimed.subsidy-x.Nd: claimed 0.1"),
        (lambda c: c["claimed"].clear(), r"claim.claimed has fields , recomputed subsidy-x"),
    ],
    ids=["country", "share", "twice", "extra field", "step dropped", "by_stage", "stage added",
         "claimed share", "claim hidden"],
)  # fmt: skip
def test_tampered_routes_by_stage_or_claims_fail(
    case: Case, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(VerificationError, match=message):
        verify_bundle(_tampered(case, lambda b: change(b["claim"])), case.trust)


def test_a_substituted_registry_key_fails(case: Case) -> None:
    def change(b: dict[str, Any]) -> None:
        b["keys"]["registry"] = [new_key("registry").registry_entry("0001-01-01T00:00:00Z")]

    with pytest.raises(VerificationError, match=r"registry authority key 'registry-[0-9a-f]+' in "
                       "the bundle is not in the trust file"):  # fmt: skip
        verify_bundle(_tampered(case, change), case.trust)


def test_a_substituted_participant_key_fails(case: Case) -> None:
    def change(b: dict[str, Any]) -> None:
        b["keys"]["participants"]["proc-my"] = [
            new_key("proc-my").registry_entry("2024-01-01T00:00:00Z")
        ]

    with pytest.raises(VerificationError, match="keys of participant 'proc-my' that differ"):
        verify_bundle(_tampered(case, change), case.trust)


def test_a_substituted_log_key_fails(case: Case) -> None:
    _, vkey = generate_key("someone.else/log")

    def change(b: dict[str, Any]) -> None:
        b["keys"]["log"] = vkey

    with pytest.raises(VerificationError, match=r"the bundle names log key 'someone.else/log"):
        verify_bundle(_tampered(case, change), case.trust)


def test_an_extra_event_outside_the_lineage_fails(case: Case, tmp_path: Path) -> None:
    # ev9 consumed the rest of L2 after ev7: a real, proven leaf, but not L3's lineage.
    # Graft it (with a proof from a bundle for L5, from the same checkpoint) into L3's.
    del tmp_path
    other = _bundle_for(case, "L5")

    def change(b: dict[str, Any]) -> None:
        entry = _event(other, "ev9")
        offset = len(b["proof_hashes"])
        b["proof_hashes"] += [other["proof_hashes"][i] for i in entry["proof"]]
        grafted = {**entry, "proof": list(range(offset, offset + len(entry["proof"])))}
        b["events"] = sorted([*b["events"], grafted], key=lambda e: e["leaf_index"])

    with pytest.raises(VerificationError, match=r"event 'ev9' \(leaf \d+\) is not in the lineage"
                       r" of lot 'L3'"):  # fmt: skip
        verify_bundle(_tampered(case, change), case.trust)


def _bundle_for(case: Case, lot: str) -> dict[str, Any]:
    from raretrace.store.store import Store

    store = Store.open(str(case.log_dir.parent / "ledger.db"))
    try:
        return build_bundle(store, lot)
    finally:
        store.close()


def test_trust_without_the_log_key_fails(case: Case) -> None:
    trust = replace(case.trust, logs=())
    with pytest.raises(VerificationError, match="the trust file lists no key for that log"):
        verify_bundle(canonical_json(case.bundle), trust)


def test_trust_without_a_registry_key_fails(case: Case) -> None:
    trust = replace(case.trust, registry=())
    with pytest.raises(VerificationError, match="lists no registry authority key"):
        verify_bundle(canonical_json(case.bundle), trust)


def test_a_stricter_trusted_tolerance_is_applied(case: Case) -> None:
    text = "\n".join(
        [case.trust.logs[0].vkey, case.trust.witnesses[0].vkey,
         "registry " + base64.b64encode(case.trust.registry[0]).decode(), "tolerance 0 0"]
    )  # fmt: skip
    with pytest.raises(VerificationError, match=r"event 'ev7'.*mass balance.*Nd"):
        verify_bundle(canonical_json(case.bundle), parse_trust(text))


def test_more_witnesses_than_trusted_is_a_usage_error(case: Case) -> None:
    with pytest.raises(ConfigError, match="--witnesses 2 needs that many witness keys"):
        verify_bundle(canonical_json(case.bundle), case.trust, witnesses=2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("registry abc", "line 1: the registry key is not the canonical base64 of 32 bytes"),
        ("log+1234+zz", "line 1:"),
        ("one two three four", "line 1: expected a vkey"),
        ("# ok\ntolerance 0.5 x", "line 2: could not convert"),
    ],
)
def test_bad_trust_files_say_which_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_trust(text)


def test_not_a_bundle_is_a_verification_error(case: Case) -> None:
    with pytest.raises(VerificationError, match="not a raretrace evidence bundle"):
        verify_bundle(b"\xff{", case.trust)
    with pytest.raises(VerificationError, match="version"):
        verify_bundle(_tampered(case, lambda b: b.update(version=3)), case.trust)
    with pytest.raises(VerificationError, match="version 1 events have no salt or leaf"):
        verify_bundle(_tampered(case, lambda b: b.update(version=1)), case.trust)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_byte_flips_never_verify(case: Case, data: st.DataObject) -> None:
    """Every byte of a (canonical) bundle matters: flipping any one never verifies."""
    raw = bytearray(canonical_json(case.bundle))
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(RaretraceError):
        verify_bundle(bytes(raw), case.trust)


def test_the_verifier_loads_no_database_code() -> None:
    """A buyer abroad runs ``raretrace.verify`` with the file and keys only."""
    code = (
        "import sys, raretrace.verify\n"
        "bad = ('sqlalchemy', 'alembic', 'psycopg', 'typer', 'raretrace.store',"
        " 'raretrace.ledger', 'raretrace.cli')\n"
        "print(sorted(m for m in sys.modules if m.startswith(bad)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_export_against_the_newest_cosigned_checkpoint(db_url: str, tmp_path: Path) -> None:
    ledger = signed_ledger(db_url, tmp_path / "log")
    skey, _ = generate_cosigner_key("witness.regulator.example.vn")
    witness = CosignatureSigner.from_skey(skey)
    state = WitnessState(tmp_path / "witness")
    log_key = Ed25519Verifier.from_vkey(log_vkey(ledger.store))
    witness_cosign(ledger.store, signer=witness, state=state, log_key=log_key)
    cosigned_size = ledger.store.size()
    # The log grows past the cosigned checkpoint with a registry change.
    changed = {"facilities": [{**REGISTRY["facilities"][0], "name": "Mine AU (renamed)"}]}
    events = service.registry_events(
        changed, ledger.registry, signer=service.registry_signer(ledger)
    )
    assert ledger.ingest(enumerate(events, 1)).accepted == 1
    trust = replace(parse_trust(trust_file(ledger.store)), witnesses=(witness.verifier(),))
    with pytest.raises(VerificationError, match="witness"):
        verify_bundle(export_bundle(ledger.store, "L3").data, trust)
    built = export_bundle(ledger.store, "L3", cosigned=True)
    assert built.verdict.checkpoint.size == cosigned_size
    assert verify_bundle(built.data, trust).witnesses == ("witness.regulator.example.vn",)
    with pytest.raises(NotFound, match="no checkpoint is stored for tree size 3"):
        export_bundle(ledger.store, "L3", checkpoint=3)
    ledger.close()


def test_the_shipped_bundle_schema_is_the_verifiers_and_bundles_validate(case: Case) -> None:
    import importlib.resources

    import jsonschema

    from raretrace.verify import Bundle

    shipped = json.loads(
        (importlib.resources.files("raretrace") / "schemas" / "bundle.schema.json").read_text()
    )
    generated = Bundle.model_json_schema()
    assert {k: v for k, v in shipped.items() if k in generated and k != "description"} == {
        k: v for k, v in generated.items() if k != "description"
    }, "regenerate src/raretrace/schemas/bundle.schema.json from raretrace.verify.Bundle"
    jsonschema.Draft202012Validator(shipped).validate(case.bundle)
    broken = {**case.bundle, "version": 3}
    assert not jsonschema.Draft202012Validator(shipped).is_valid(broken)
    unsalted = json.loads(json.dumps(case.bundle))
    del unsalted["events"][0]["salt"]
    assert not jsonschema.Draft202012Validator(shipped).is_valid(unsalted)
    assert not jsonschema.Draft202012Validator(shipped).is_valid({**case.bundle, "version": 1})
