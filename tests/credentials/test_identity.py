"""Issuer identity: did:web syntax, key files, the DID document and building trust from it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from credential_support import vector_json
from joserfc.jwk import OKPKey

from raretrace.credentials import build_trust, did_document, new_issuer_key, parse_did_web
from raretrace.credentials.keys import jwk_thumbprint, parse_issuer_key
from raretrace.credentials.multibase import parse_public_multikey
from raretrace.domain.errors import ConfigError


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
        ("did:web:example.com%3a3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        (
            "did:web:council.example:issuers:rare_earth-1.v2",
            "https://council.example/issuers/rare_earth-1.v2/did.json",
        ),
    ],
)
def test_did_web_examples_of_the_spec_map_to_their_did_json(did: str, url: str) -> None:
    assert parse_did_web(did).did_json_url() == url


@pytest.mark.parametrize(
    ("did", "message"),
    [
        ("did:key:z6Mk", "must start with 'did:web:'"),
        ("DID:web:council.example", "must start with 'did:web:'"),
        ("did:web:council", "fully qualified domain name"),
        ("did:web:-council.example", "fully qualified domain name"),
        ("did:web:Council.Example", "lower case"),
        ("did:web:192.168.1.10", "IP address"),
        ("did:web:council.example%3A0", "port"),
        ("did:web:council.example%3A70000", "port"),
        ("did:web:council.example%2Fx", "port"),
        ("did:web:council.example:", "path segment ''"),
        ("did:web:council.example::a", "path segment ''"),
        ("did:web:council.example:..", "path segment '..'"),
        ("did:web:council.example:a b", "path segment"),
        ("did:web:council.example/path", "'/'"),
        ("did:web:council.example#key-1", "'#'"),
        ("did:web:" + "a" * 64 + ".example", "fully qualified domain name"),
    ],
)
def test_invalid_did_web_is_refused_naming_the_broken_part(did: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_did_web(did)


def test_the_key_file_round_trips_and_refuses_edits(issuers: Any) -> None:
    data = issuers.council.to_json()
    key = parse_issuer_key(copy.deepcopy(data), "council.key")
    assert (key.did, key.key_id, key.multikey_id) == (
        issuers.council.did,
        issuers.council.key_id,
        issuers.council.multikey_id,
    )
    assert key.public_bytes == issuers.council.public_bytes
    for field, value in (
        ("key_id", "did:web:council.example#x"),
        ("publicKeyMultibase", issuers.certifier.multikey),
        ("type", "something-else"),
    ):
        with pytest.raises(ConfigError):
            parse_issuer_key({**data, field: value}, "council.key")


def test_key_ids_are_the_jwk_thumbprint_and_the_multikey(issuers: Any) -> None:
    key = issuers.council
    assert key.key_id == f"{key.did}#{OKPKey.import_key(key.jwk).thumbprint()}"
    assert key.key_id.split("#")[1] == jwk_thumbprint(key.jwk)
    assert key.multikey.startswith("z6Mk")
    assert key.multikey_id == f"{key.did}#{key.multikey}"


def test_the_w3c_vector_public_key_decodes_as_a_multikey() -> None:
    pair = vector_json("keyPair.json")
    assert len(parse_public_multikey(pair["publicKeyMultibase"], "vector")) == 32


def test_the_did_document_lists_each_key_as_jwk_and_multikey(issuers: Any) -> None:
    doc = issuers.council_doc
    assert doc["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert doc["id"] == "did:web:council.example"
    jwk_method, multikey_method = doc["verificationMethod"]
    assert jwk_method == {
        "id": issuers.council.key_id,
        "type": "JsonWebKey",
        "controller": doc["id"],
        "publicKeyJwk": issuers.council.jwk,
    }
    assert set(jwk_method["publicKeyJwk"]) == {"kty", "crv", "x"}  # never "d"
    assert multikey_method["publicKeyMultibase"] == issuers.council.multikey
    ids = [jwk_method["id"], multikey_method["id"]]
    assert doc["assertionMethod"] == ids and doc["authentication"] == ids


def test_a_did_document_lists_old_and_new_keys_of_one_did(issuers: Any) -> None:
    newer = new_issuer_key(issuers.council.did, created="2027-01-01T00:00:00Z", seed=b"\x07" * 32)
    doc = did_document([issuers.council, newer])
    assert len(doc["verificationMethod"]) == 4
    trust = build_trust([("did.json", doc)])
    assert {issuers.council.key_id, newer.key_id, newer.multikey_id} <= set(trust.methods)
    with pytest.raises(ConfigError, match="2 DIDs"):
        did_document([issuers.council, issuers.certifier])


def test_trust_resolves_relative_ids_and_ignores_other_key_types(issuers: Any) -> None:
    doc = copy.deepcopy(issuers.council_doc)
    fragment = "#" + issuers.council.key_id.split("#")[1]
    doc["verificationMethod"][0]["id"] = fragment
    doc["assertionMethod"] = [fragment]
    doc["verificationMethod"].append(
        {
            "id": "#p256",
            "type": "JsonWebKey",
            "controller": doc["id"],
            "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"},
        }
    )
    trust = build_trust([("did.json", doc)])
    assert trust.methods[issuers.council.key_id].assertion
    assert not trust.methods[issuers.council.multikey_id].assertion  # no longer listed
    assert f"{doc['id']}#p256" not in trust.methods


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["verificationMethod"][0]["publicKeyJwk"].update(d="c2VjcmV0"), "private key"),
        (
            lambda d: d["verificationMethod"][0].update(controller="did:web:other.example"),
            "controlled by",
        ),
        (lambda d: d["verificationMethod"][0].update(publicKeyMultibase="z6Mk"), "both"),
        (
            lambda d: d["verificationMethod"][1].update(publicKeyMultibase="z6MkAAAA"),
            "not an Ed25519 public Multikey",
        ),
        (lambda d: d.pop("id"), "not a DID document"),
    ],
)
def test_a_broken_did_document_is_refused(issuers: Any, change: Any, message: str) -> None:
    doc = copy.deepcopy(issuers.council_doc)
    change(doc)
    with pytest.raises(ConfigError, match=message):
        build_trust([("did.json", doc)])


def test_two_documents_for_one_did_are_refused(issuers: Any) -> None:
    with pytest.raises(ConfigError, match="two trusted DID documents"):
        build_trust([("a.json", issuers.council_doc), ("b.json", issuers.council_doc)])
