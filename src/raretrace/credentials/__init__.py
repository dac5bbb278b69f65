"""Certificates as W3C Verifiable Credentials 2.0: issuer identity (did:web), securing
(VC-JOSE and Data Integrity eddsa-jcs-2022), revocation (Bitstring Status List) and offline
verification against trusted DID documents. See docs/credentials.md.

This package imports only ``raretrace.domain`` (errors) and libraries: no store, ledger or
CLI code, so a buyer's verifier loads no database layer.
"""

from raretrace.credentials.datamodel import check_data_model, check_validity, credential_issuer
from raretrace.credentials.diddoc import Trust, TrustedMethod, build_trust, did_document
from raretrace.credentials.didweb import WebDid, parse_did_web
from raretrace.credentials.files import read_issuer_key, read_trust, write_issuer_key
from raretrace.credentials.integrity import (
    add_proof,
    sign_data_integrity,
    verify_data_integrity,
    verify_proof,
)
from raretrace.credentials.jose import Secured, sign_jose, verify_jose
from raretrace.credentials.keys import IssuerKey, new_issuer_key
from raretrace.credentials.securing import FORMATS, Format, open_secured, secure
from raretrace.credentials.statusfile import (
    PublishedList,
    load_state,
    publish_status_list,
    save_state,
)
from raretrace.credentials.statuslist import (
    MIN_ENTRIES,
    StatusBits,
    StatusListState,
    StatusResult,
    check_status,
    status_entry,
    status_list_credential,
)
from raretrace.credentials.verify import (
    Check,
    CredentialReport,
    NamedCheck,
    VerifyInputs,
    verify_credential,
)

__all__ = [
    "FORMATS",
    "MIN_ENTRIES",
    "Check",
    "CredentialReport",
    "Format",
    "IssuerKey",
    "NamedCheck",
    "PublishedList",
    "Secured",
    "StatusBits",
    "StatusListState",
    "StatusResult",
    "Trust",
    "TrustedMethod",
    "VerifyInputs",
    "WebDid",
    "add_proof",
    "build_trust",
    "check_data_model",
    "check_status",
    "check_validity",
    "credential_issuer",
    "did_document",
    "load_state",
    "new_issuer_key",
    "open_secured",
    "parse_did_web",
    "publish_status_list",
    "read_issuer_key",
    "read_trust",
    "save_state",
    "secure",
    "sign_data_integrity",
    "sign_jose",
    "status_entry",
    "status_list_credential",
    "verify_credential",
    "verify_data_integrity",
    "verify_jose",
    "verify_proof",
    "write_issuer_key",
]
