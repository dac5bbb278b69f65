"""``raretrace certify``, ``revoke`` and ``verify-credential --evidence`` on a real demo
ledger, as real processes: the credentials' shapes, their binding to the evidence, and every
tampering named."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey

from cli_support import run
from raretrace.credentials import check_data_model, read_issuer_key, secure
from raretrace.credentials.evidence import digest_multibase
from raretrace.credentials.untp import DCC_CONTEXT, DPP_CONTEXT
from raretrace.store.store import Store

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class World:
    cwd: Path
    db: Path
    magnet: str
    other: str
    custodian_key: Path


def _ok(*args: str, cwd: Path) -> str:
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _magnets(db: Path) -> list[tuple[str, str]]:
    """Active magnet lots and their custodians, those holding recycled material first."""
    store = Store.open(str(db), access="read")
    try:
        found = [
            (-max(lot.provenance.recycled_share().values(), default=0.0), lot.id, lot.custodian)
            for lot in store.lots(form="magnet", status="active")
        ]
    finally:
        store.close()
    return [(lot, custodian) for _, lot, custodian in sorted(found)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A demo ledger, the council's key, did.json and status list, the ledger's trust file."""
    cwd = tmp_path_factory.mktemp("certify")
    _ok("demo", "--db", "demo.db", "--events", "3000", "--write", "demo", cwd=cwd)
    _ok("issuer", "keygen", "--did", "did:web:council.example", "--out", "council.key", cwd=cwd)
    (cwd / "did.json").write_text(_ok("issuer", "did-document", "--key", "council.key", cwd=cwd))
    _ok("issuer", "status-list", "--key", "council.key", "--out", "revocation.jwt", cwd=cwd)
    magnets = _magnets(cwd / "demo.db")
    assert len(magnets) >= 3, magnets
    (magnet, custodian), (other, _) = magnets[0], magnets[1]
    _ok("--db", "demo.db", "export", magnet, "--bundle", "x.json", "--write-trust", "ledger.trust",
        cwd=cwd)  # fmt: skip
    return World(cwd, cwd / "demo.db", magnet, other, cwd / "demo" / "keys" / f"{custodian}.key")


def _certify(world: World, out: str, *extra: str, lot: str | None = None) -> str:
    return _ok(
        "--db", "demo.db", "certify", lot or world.magnet, "--issuer-key", "council.key",
        "--status-list", "revocation.jwt", "--out", out, "--as-of", "2027-02-01", *extra,
        cwd=world.cwd,
    )  # fmt: skip


@pytest.fixture(scope="module")
def issued(world: World) -> Path:
    """The magnet lot certified once, as VC-JOSE, with a QR code."""
    said = _certify(world, "issued", "--qr", "issued.svg")
    assert "dpp.jwt: Digital Product Passport urn:uuid:" in said
    return world.cwd / "issued"


def _payload(token: str) -> dict[str, Any]:
    part = token.strip().split(".")[1]
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return result


def _verify(world: World, file: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    done = run(
        "verify-credential", str(file), "--trust", "did.json", "--status-list", "revocation.jwt",
        "--json", *extra, cwd=world.cwd,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


def _with_evidence(folder: Path) -> tuple[str, ...]:
    return ("--evidence", str(folder / "evidence.json"), "--ledger-trust", "ledger.trust")


def _failure(report: dict[str, Any]) -> dict[str, Any]:
    failed = [c for c in report["checks"] if not c["ok"]]
    assert report["valid"] is False and len(failed) == 1, report["checks"]
    return failed[0]


def test_certify_writes_a_passport_a_dcc_per_result_and_the_bundle(
    world: World, issued: Path
) -> None:
    files = sorted(p.name for p in issued.iterdir())
    dccs = [f for f in files if f.startswith("dcc-")]
    assert "dpp.jwt" in files and "evidence.json" in files and len(dccs) >= 5
    dpp = _payload((issued / "dpp.jwt").read_text())
    assert dpp["@context"] == ["https://www.w3.org/ns/credentials/v2", DPP_CONTEXT]
    assert dpp["type"] == ["VerifiableCredential", "DigitalProductPassport"]
    assert dpp["issuer"] == "did:web:council.example"
    assert dpp["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert dpp["credentialStatus"]["statusPurpose"] == "revocation"
    subject = dpp["credentialSubject"]
    assert subject["type"] == ["ProductPassport"]
    assert subject["product"]["batchNumber"] == world.magnet
    assert subject["product"]["form"] == "magnet"
    assert subject["product"]["dimensions"]["weight"]["unit"] == "KGM"
    check_data_model(dpp)
    materials = subject["materialsProvenance"]
    assert materials and {m["mass"]["unit"] for m in materials} == {"KGM"}
    for m in materials:
        assert set(m) >= {"name", "materialType", "massFraction", "mass", "recycledMassFraction"}
        assert m["hazardous"] is (m["materialType"]["code"] in ("Th", "U"))
        assert len(m["originCountry"]["countryCode"]) == 2
        assert 0 <= m["recycledMassFraction"] <= 1
    mass = subject["product"]["dimensions"]["weight"]["value"]
    assert sum(m["mass"]["value"] for m in materials) <= mass
    assert any(m["recycledMassFraction"] > 0 for m in materials), "the demo magnets hold scrap"
    assert set(subject["raretraceProvenance"]) >= {"routes", "byStage", "claimed"}
    # one conformityClaim per DCC, each pointing at its file by URL and SHA-256
    claims = {
        c["conformityEvidence"]["linkURL"].rsplit("/", 1)[1]: c for c in subject["conformityClaim"]
    }
    assert sorted(claims) == dccs
    for name, claim in claims.items():
        text = (issued / name).read_text()
        assert (
            claim["conformityEvidence"]["hashDigest"] == hashlib.sha256(text.encode()).hexdigest()
        )
        dcc = _payload(text)
        assert dcc["@context"] == ["https://www.w3.org/ns/credentials/v2", DCC_CONTEXT]
        assert dcc["type"] == ["VerifiableCredential", "DigitalConformityCredential"]
        att = dcc["credentialSubject"]
        assert att["type"] == ["ConformityAttestation"]
        assert set(att) >= {"pack", "clause", "asOf", "status", "reasons", "factsReviewed"}
        assert att["asOf"] == "2027-02-01" and claim["status"] == att["status"]
        check_data_model(dcc)
    bundle = (issued / "evidence.json").read_bytes()
    resources = {r["mediaType"]: r for r in dpp["relatedResource"]}
    assert resources["application/json"]["digestMultibase"] == digest_multibase(bundle)
    checkpoint = json.loads(bundle)["checkpoint"]
    assert resources["text/plain"]["digestMultibase"] == digest_multibase(checkpoint.encode())
    assert (world.cwd / "issued.svg").read_text().startswith("<?xml")


def test_the_passport_and_each_dcc_verify_with_their_evidence(world: World, issued: Path) -> None:
    for file in sorted(issued.glob("d*.jwt")):
        code, report = _verify(world, file, *_with_evidence(issued))
        assert code == 0, report["checks"]
        names = [c["check"] for c in report["checks"]]
        assert names == ["securing", "validity", "data-model", "status", "evidence"]
    code, report = _verify(world, issued / "dpp.jwt", *_with_evidence(issued))
    assert "every number of the passport" in report["checks"][-1]["detail"]


def test_data_integrity_format(world: World) -> None:
    _certify(world, "di", "--format", "di")
    folder = world.cwd / "di"
    assert json.loads((folder / "dpp.json").read_text())["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    code, report = _verify(world, folder / "dpp.json", *_with_evidence(folder))
    assert code == 0, report["checks"]


def _resigned(world: World, issued: Path, name: str, change: Any, key: str = "council.key") -> Path:
    """The passport with ``change`` applied to its payload and signed again by ``key``."""
    dpp = _payload((issued / "dpp.jwt").read_text())
    change(dpp)
    path = world.cwd / name
    path.write_text(secure(dpp, read_issuer_key(world.cwd / key), fmt="jose", now=_now()))
    return path


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _bump_fraction(dpp: dict[str, Any]) -> None:
    dpp["credentialSubject"]["materialsProvenance"][0]["massFraction"] += 0.05


def test_a_changed_mass_fraction_breaks_the_signature(world: World, issued: Path) -> None:
    header, _payload_part, sig = (issued / "dpp.jwt").read_text().strip().split(".")
    dpp = _payload((issued / "dpp.jwt").read_text())
    _bump_fraction(dpp)
    forged = base64.urlsafe_b64encode(json.dumps(dpp).encode()).rstrip(b"=").decode()
    path = world.cwd / "forged.jwt"
    path.write_text(f"{header}.{forged}.{sig}\n")
    code, report = _verify(world, path)
    failure = _failure(report)
    assert code == 1 and failure["check"] == "securing"
    assert "bad signature" in failure["detail"]


def test_a_changed_mass_fraction_signed_again_fails_the_evidence(
    world: World, issued: Path
) -> None:
    path = _resigned(world, issued, "inflated.jwt", _bump_fraction)
    code, report = _verify(world, path, *_with_evidence(issued))
    failure = _failure(report)
    assert code == 1 and failure["check"] == "evidence"
    assert "massFraction" in failure["detail"] and "recomputed from the bundle" in failure["detail"]


def test_a_swapped_issuer_is_named(world: World, issued: Path) -> None:
    """The council's key signs a passport naming another trusted issuer (the certifier)."""
    _ok("issuer", "keygen", "--did", "did:web:certifier.example", "--out", "certifier.key",
        cwd=world.cwd)  # fmt: skip
    doc = _ok("issuer", "did-document", "--key", "certifier.key", cwd=world.cwd)
    (world.cwd / "certifier.json").write_text(doc)
    dpp = _payload((issued / "dpp.jwt").read_text())
    dpp["issuer"] = "did:web:certifier.example"
    council = read_issuer_key(world.cwd / "council.key")
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": council.key_id}
    with warnings.catch_warnings():  # joserfc warns that RFC 9864 deprecates the name EdDSA
        warnings.simplefilter("ignore", SecurityWarning)
        token = jws.serialize_compact(
            header, rfc8785.dumps(dpp), OKPKey.import_key(council.private_key), algorithms=["EdDSA"]
        )
    (world.cwd / "swapped.jwt").write_text(token)
    code, report = _verify(world, world.cwd / "swapped.jwt", "--trust", "certifier.json")
    failure = _failure(report)
    assert code == 1 and failure["check"] == "securing"
    assert "issuer mismatch" in failure["detail"], failure


def test_a_bundle_that_does_not_match_is_named(world: World, issued: Path) -> None:
    _certify(world, "other", lot=world.other)
    code, report = _verify(world, issued / "dpp.jwt", *_with_evidence(world.cwd / "other"))
    failure = _failure(report)
    assert code == 1 and failure["check"] == "evidence"
    assert "does not match the credential" in failure["detail"]


def test_an_expired_credential_is_named(world: World, issued: Path) -> None:
    code, report = _verify(world, issued / "dpp.jwt", "--at", "2100-01-01T00:00:00Z")
    failure = _failure(report)
    assert code == 1 and failure["check"] == "validity" and "expired" in failure["detail"]


def test_a_signature_by_an_untrusted_key_is_named(world: World, issued: Path) -> None:
    _ok("issuer", "keygen", "--did", "did:web:council.example", "--out", "rogue.key", cwd=world.cwd)
    path = _resigned(world, issued, "rogue.jwt", lambda dpp: None, key="rogue.key")
    code, report = _verify(world, path)
    failure = _failure(report)
    assert code == 1 and failure["check"] == "securing" and "untrusted key" in failure["detail"]


def test_revoke_sets_the_bit_logs_the_event_and_is_refused_twice(world: World) -> None:
    _certify(world, "revoked")
    folder = world.cwd / "revoked"
    credential = _payload((folder / "dpp.jwt").read_text())["id"]
    said = _ok(
        "--db", "demo.db", "revoke", credential, "--reason", "mass fraction misstated",
        "--issuer-key", "council.key", "--status-list", "revocation.jwt", cwd=world.cwd,
    )  # fmt: skip
    assert f"revoked {credential}" in said and "logged" in said
    code, report = _verify(world, folder / "dpp.jwt")
    failure = _failure(report)
    assert code == 1 and failure["check"] == "status" and "revoked" in failure["detail"]
    store = Store.open(str(world.db), access="read")
    try:
        with store.engine.connect() as conn:
            body = json.loads(
                store.event_bodies(conn, [f"revocation:{credential}"])[f"revocation:{credential}"]
            )
    finally:
        store.close()
    assert body["type"] == "revocation" and body["reason"] == "mass fraction misstated"
    assert body["lot"] == world.magnet and body["actor"] == "registry"
    again = run(
        "--db", "demo.db", "revoke", credential, "--reason", "again", "--issuer-key",
        "council.key", "--status-list", "revocation.jwt", cwd=world.cwd,
    )  # fmt: skip
    assert again.returncode == 1 and "already-revoked" in again.stderr, again.stderr


def test_a_scheme_claims_the_lot_once(world: World) -> None:
    lot = _magnets(world.db)[2]
    key = world.cwd / "demo" / "keys" / f"{lot[1]}.key"
    said = _certify(world, "claimed", "--scheme", "eu-recycled", "--custodian-key", str(key),
                    lot=lot[0])  # fmt: skip
    assert "claim claim:eu-recycled:" in said
    dpp = _payload((world.cwd / "claimed" / "dpp.jwt").read_text())
    extension = dpp["credentialSubject"]["raretraceProvenance"]
    assert extension["schemeClaim"]["scheme"] == "eu-recycled"
    assert set(extension["claimed"]["eu-recycled"].values()) == {1}
    code, report = _verify(world, world.cwd / "claimed" / "dpp.jwt",
                           *_with_evidence(world.cwd / "claimed"))  # fmt: skip
    assert code == 0, report["checks"]
    twice = run(
        "--db", "demo.db", "certify", lot[0], "--issuer-key", "council.key", "--status-list",
        "revocation.jwt", "--out", "claimed-again", "--scheme", "eu-recycled",
        "--custodian-key", str(key), cwd=world.cwd,
    )  # fmt: skip
    assert twice.returncode == 1 and "[double-claim]" in twice.stderr, twice.stderr
    assert not (world.cwd / "claimed-again").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--scheme", "s1"), "--custodian-key"),
        (("--out", "issued"), "not empty"),
        (("--status-list", "did.json"), "state file"),
        (("--format", "cbor"), "--format"),
        (("--as-of", "2027-13-01"), "--as-of"),
    ],
)
def test_bad_certify_arguments_change_nothing(
    world: World, issued: Path, args: tuple[str, ...], expected: str
) -> None:
    base = {"--out": "never", "--status-list": "revocation.jwt"}
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    merged = {**base, **pairs}
    flat = [x for kv in merged.items() for x in kv]
    before = (world.cwd / "revocation.jwt.state.json").read_text()
    done = run("--db", "demo.db", "certify", world.magnet, "--issuer-key", "council.key", *flat,
               cwd=world.cwd)  # fmt: skip
    assert done.returncode == 2 and expected in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (world.cwd / "never").exists()
    assert (world.cwd / "revocation.jwt.state.json").read_text() == before
    shutil.rmtree(world.cwd / "never", ignore_errors=True)
