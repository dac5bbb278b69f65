"""Private key files for participants (and the registry authority), and their registry entries.

A key file is JSON, readable only by its owner (mode 0600)::

    {"participant": "lynas-my", "kid": "lynas-my-3f2a9c1b", "alg": "Ed25519",
     "private_key": "<base64 32-byte seed>", "public_key": "<base64 32 bytes>"}

The service never needs these: participants keep them and sign with ``raretrace sign``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from raretrace.domain.errors import ConfigError, NotFound
from raretrace.domain.ids import ADVICE, MAX_ID_LENGTH, id_problem
from raretrace.domain.keys import ALG
from raretrace.log.files import write_secret as write_secret  # re-exported: key writers

_HASH_DIGITS = 8  # of the public key's SHA-256, in a derived kid


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A participant's signing key as read from its file."""

    participant: str
    kid: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def registry_entry(self, valid_from: str) -> dict[str, Any]:
        """The ``keys`` item to add to the participant in the registry."""
        return {
            "kid": self.kid,
            "public_key": base64.b64encode(self.public_key).decode(),
            "valid_from": valid_from,
            "revoked_at": None,
        }


def checked_id(value: str, label: str) -> str:
    """``value`` if it is a good id (``raretrace.domain.ids``), else a ConfigError naming
    ``label`` (e.g. ``--participant``), the problem and the rule."""
    problem = id_problem(value)
    if problem is not None:
        raise ConfigError(f"[bad-id] {label} {value!r} {problem}; {ADVICE}")
    return value


def new_key(participant: str, *, kid: str | None = None, seed: bytes | None = None) -> KeyFile:
    """A fresh key (or one derived from ``seed``, for the deterministic demo).

    Without ``kid`` the key id is the participant id, '-', and 8 hex digits of the public
    key's SHA-256 (the participant id cut short so the kid keeps within ``MAX_ID_LENGTH``).
    """
    checked_id(participant, "participant")
    private = Ed25519PrivateKey.from_private_bytes(seed) if seed else Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if kid is None:
        stem = participant[: MAX_ID_LENGTH - _HASH_DIGITS - 1]
        kid = f"{stem}-{hashlib.sha256(public).hexdigest()[:_HASH_DIGITS]}"
    return KeyFile(participant, checked_id(kid, "kid"), private)


def write_key_file(path: Path, key: KeyFile) -> None:
    """Write ``key`` to a new file only its owner can read; never overwrite a key."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    seed = key.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    doc = {
        "participant": key.participant,
        "kid": key.kid,
        "alg": ALG,
        "private_key": base64.b64encode(seed).decode(),
        "public_key": base64.b64encode(key.public_key).decode(),
    }
    write_secret(path, json.dumps(doc, indent=2) + "\n")


def read_key_file(path: Path) -> KeyFile:
    """A key file written by ``write_key_file`` (``raretrace keygen``)."""
    try:
        doc = json.loads(path.read_text())
        seed = base64.b64decode(doc["private_key"], validate=True)
        participant, kid = doc["participant"], doc["kid"]
        for label, value in (("participant", participant), ("kid", kid)):
            if not isinstance(value, str) or id_problem(value) is not None:
                raise ValueError(f"{label!r} {value!r} is not a valid id")
        return KeyFile(participant, kid, Ed25519PrivateKey.from_private_bytes(seed))
    except FileNotFoundError:
        raise NotFound(f"key file {path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{path} is not a raretrace key file ({exc}); make one with `raretrace keygen`"
        ) from None
