"""C2SP signed-note: the spec and Go sumdb/note vectors, key formats, strict parsing."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from raretrace.domain.errors import ConfigError, VerificationError
from raretrace.log.note import (
    SIG_TYPE_ED25519,
    Ed25519Signer,
    Ed25519Verifier,
    NoteSignature,
    add_signatures,
    generate_key,
    key_id,
    open_note,
    parse_note_unverified,
    parse_vkey,
    sign_note,
)


def _vector(c2sp: Any, vector_id: str) -> Any:
    (vector,) = [v for v in c2sp["signed_note"]["vectors"] if v["id"] == vector_id]
    return vector


def test_c2sp_example_verifies_and_key_id_follows_the_rule(c2sp: Any) -> None:
    vector = _vector(c2sp, "c2sp-signed-note-example")
    verifier = Ed25519Verifier.from_vkey(vector["vkey"])
    assert verifier.name == vector["key_name"]
    assert f"{verifier.key_id:08x}" == vector["key_id_hex"]
    assert key_id(verifier.name, SIG_TYPE_ED25519, verifier.public_key) == verifier.key_id
    assert verifier.vkey == vector["vkey"]
    opened = open_note(vector["note"], [verifier])
    assert opened.text == vector["signed_text"]
    assert [s.name for s in opened.verified] == [vector["key_name"]]
    assert opened.unverified == ()


def test_peter_neumann_signature_is_reproduced_byte_for_byte(c2sp: Any) -> None:
    vector = _vector(c2sp, "go-note-PeterNeumann-sign")
    signer = Ed25519Signer.from_skey(vector["skey"])
    assert signer.skey == vector["skey"]
    assert signer.verifier().vkey == vector["vkey"]
    signed = sign_note(vector["text"], [signer])
    assert signed == vector["expected_signed_note"]
    opened = open_note(signed, [Ed25519Verifier.from_vkey(vector["vkey"])])
    assert opened.text == vector["text"]


def test_enoch_root_verifies(c2sp: Any) -> None:
    vector = _vector(c2sp, "go-note-EnochRoot")
    opened = open_note(vector["note"], [Ed25519Verifier.from_vkey(vector["vkey"])])
    assert [f"{s.key_id:08x}" for s in opened.verified] == ["af0cfe78"]


def test_unknown_signatures_are_ignored(c2sp: Any) -> None:
    vector = _vector(c2sp, "go-note-two-sigs-one-known")
    verifiers = [Ed25519Verifier.from_vkey(k) for k in vector["verifier_vkeys"]]
    opened = open_note(vector["note"], verifiers)
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [s.name for s in opened.unverified] == ["EnochRoot"]


def test_malformed_notes_are_rejected(c2sp: Any) -> None:
    vector = _vector(c2sp, "go-note-malformed")
    verifiers = [Ed25519Verifier.from_vkey(k) for k in vector["verifier_vkeys"]]
    assert len(vector["notes"]) == 6
    for note in vector["notes"]:
        with pytest.raises(VerificationError, match="malformed"):
            open_note(note, verifiers)


def _peter(c2sp: Any) -> tuple[Ed25519Signer, str]:
    vector = _vector(c2sp, "go-note-PeterNeumann-sign")
    return Ed25519Signer.from_skey(vector["skey"]), vector["text"]


def test_more_malformed_notes(c2sp: Any) -> None:
    signer, text = _peter(c2sp)
    good = sign_note(text, [signer])
    sig_line = good[len(text) + 1 :]
    verifiers = [signer.verifier()]
    for bad in [
        good.encode() + b"\xff",  # not UTF-8
        text + "\n" + sig_line.replace("\u2014 ", "- "),  # not an em dash
        text + "\n" + sig_line.replace(" x08", "  x08"),  # two spaces
        text + "\n" + sig_line.replace("=\n", "\n"),  # broken base64 padding
        text + "\n" + "\u2014 PeterNeumann AAAA\n",  # shorter than key id + 1 byte
        text + "\n" + "\u2014 Peter+Neumann " + sig_line.split(" ")[2],  # '+' in name
        text.replace("\n", "\t", 1) + "\n" + sig_line,  # control character
        text + "\n" + sig_line * 101,  # too many signatures
    ]:
        with pytest.raises(VerificationError):
            open_note(bad, verifiers)


def test_a_bad_signature_from_a_known_key_rejects_the_note(c2sp: Any) -> None:
    signer, text = _peter(c2sp)
    good = sign_note(text, [signer])
    forged = sign_note(text.replace("answer", "ANSWER"), [signer])
    swapped = text + forged[forged.index("\n\n") + 1 :]
    with pytest.raises(VerificationError, match="does not verify"):
        open_note(swapped, [signer.verifier()])
    with pytest.raises(VerificationError, match="no valid signature"):
        open_note(good, [Ed25519Signer(*_fresh("PeterNeumann")).verifier()])


def _fresh(name: str) -> tuple[str, Ed25519PrivateKey]:
    return name, Ed25519PrivateKey.generate()


def test_same_name_other_id_is_an_unknown_key(c2sp: Any) -> None:
    signer, text = _peter(c2sp)
    impostor = Ed25519Signer(*_fresh("PeterNeumann"))
    note = sign_note(text, [impostor, signer])
    opened = open_note(note, [signer.verifier()])
    assert [s.key_id for s in opened.verified] == [signer.key_id]
    assert [s.key_id for s in opened.unverified] == [impostor.key_id]


def test_duplicate_signatures_are_dropped(c2sp: Any) -> None:
    signer, text = _peter(c2sp)
    note = sign_note(text, [signer, signer])
    assert len(open_note(note, [signer.verifier()]).verified) == 1


def test_key_generation_round_trips() -> None:
    skey, vkey = generate_key("council.example/log")
    signer = Ed25519Signer.from_skey(skey)
    assert signer.verifier().vkey == vkey
    name, kid, sig_type, public_key = parse_vkey(vkey)
    assert (name, kid, sig_type) == ("council.example/log", signer.key_id, SIG_TYPE_ED25519)
    assert len(public_key) == 32
    note = sign_note("hello\n", [signer])
    assert open_note(note, [Ed25519Verifier.from_vkey(vkey)]).text == "hello\n"


def test_bad_keys_are_config_errors(c2sp: Any) -> None:
    vector = _vector(c2sp, "go-note-PeterNeumann-sign")
    vkey, skey = vector["vkey"], vector["skey"]
    name, id_hex, key64 = vkey.split("+", 2)
    for bad in [
        "",
        name,
        f"{name}+{id_hex}",
        f"{name}+c74f20a4+{key64}",  # wrong id
        f"{name}+c74f20a+{key64}",  # short id
        f"{name}+-74f20a3+{key64}",
        f"Peter Neumann+{id_hex}+{key64}",
        f"{name}+{id_hex}+{key64[:-1]}",
        f"{name}+{id_hex}+" + base64.b64encode(b"\x02" + bytes(32)).decode(),  # not Ed25519
    ]:
        with pytest.raises(ConfigError):
            Ed25519Verifier.from_vkey(bad)
    for bad in [skey.replace("PRIVATE", "PUBLIC"), skey.replace("c74f20a3", "c74f20a4"), vkey]:
        with pytest.raises(ConfigError):
            Ed25519Signer.from_skey(bad)


def test_signing_needs_a_newline_terminated_text(c2sp: Any) -> None:
    signer, _ = _peter(c2sp)
    for bad in ["no newline", "bell\x07\n"]:
        with pytest.raises(VerificationError):
            sign_note(bad, [signer])
    with pytest.raises(ConfigError):
        sign_note("x\n", [])


def test_add_signatures_keeps_others_and_replaces_own(c2sp: Any) -> None:
    signer, text = _peter(c2sp)
    other = Ed25519Signer(*_fresh("other.example/key"))
    note = sign_note(text, [signer])
    both = add_signatures(note, [other])
    again = add_signatures(both, [other])
    assert both == again  # Ed25519 is deterministic; the line is replaced, not duplicated
    parsed = parse_note_unverified(both)
    assert [s.name for s in parsed.signatures] == ["PeterNeumann", "other.example/key"]
    opened = open_note(both, [signer.verifier(), other.verifier()])
    assert len(opened.verified) == 2


def test_signature_line_format() -> None:
    sig = NoteSignature("a.example/b", 0x01020304, b"\xff")
    assert sig.line() == "\u2014 a.example/b AQIDBP8=\n"
