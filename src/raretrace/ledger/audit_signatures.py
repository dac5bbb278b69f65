"""``raretrace audit``: signature and canonical-form checks, in worker processes."""

from __future__ import annotations

import base64
import binascii
import multiprocessing
import os
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from cryptography.exceptions import InvalidSignature

from raretrace.domain import jsontext
from raretrace.domain.canonical import decode_canonical
from raretrace.domain.errors import ValidationError
from raretrace.domain.events import RegistryEvent, parse_event
from raretrace.domain.keys import ParticipantKey, check_signature, public_key
from raretrace.domain.model import REGISTRY_ACTOR, normalize_time
from raretrace.domain.registry import parse_participant
from raretrace.ledger.settings import LedgerSettings

Keys = Mapping[str, tuple[ParticipantKey, ...]]
#: A worker's verdict on one event: None when fine, else (check, message).
Verdict = tuple[str, str] | None


# --- signatures and canonical form, in worker processes ----------------------------------------


def _fast_signature_ok(
    raw: dict[str, Any], signed: bytes | None, index: Mapping[Any, ParticipantKey]
) -> bool:
    """True when the event verifies by the quick route; False means "ask check_signature"."""
    sig = raw.get("sig")
    if type(sig) is not dict or sig.get("alg") != "Ed25519":
        return False
    key = index.get((raw.get("actor"), sig.get("kid")))
    value = sig.get("value")
    if key is None or type(value) is not str or signed is None:
        return False
    try:
        when = normalize_time(raw.get("time"), "event")
        signature = base64.b64decode(value, validate=True)
        if len(signature) != 64 or not key.valid_at(when):
            return False
        public_key(key.public_key).verify(signature, signed)
    except (ValidationError, InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _check_one(
    body: str, keys: Keys, index: Mapping[Any, ParticipantKey], required: bool
) -> Verdict:
    try:
        raw, leaf, signed = decode_canonical(body, "sig")
    except (ValueError, ValidationError):
        return None  # the replay reports it with the parser's message
    if type(raw) is not dict:
        return None
    if leaf != body.encode("utf-8"):
        return ("canonical", "body is not RFC 8785 canonical JSON (re-canonicalising changes it)")
    if (not required and "sig" not in raw) or _fast_signature_ok(raw, signed, index):
        return None
    try:  # the exact verdict and message the append path gives
        check_signature(raw, normalize_time(raw.get("time"), f"event {raw.get('id')!r}"), keys)
    except ValidationError as exc:
        return ("signature", exc.message)
    return None


def _check_part(
    bodies: Sequence[str], changes: Sequence[tuple[int, Keys]], required: bool
) -> list[Verdict]:
    """Verdicts for ``bodies``; ``changes`` gives the keys in force from each offset on."""
    out: list[Verdict] = []
    bounds = [offset for offset, _ in changes[1:]] + [len(bodies)]
    for (start, keys), end in zip(changes, bounds, strict=True):
        index = {(owner, k.kid): k for owner, ks in keys.items() for k in ks}
        out.extend(_check_one(body, keys, index, required) for body in bodies[start:end])
    return out


class _Verifier:
    """Submits chunks of bodies to worker processes, with the keys in force for each event."""

    def __init__(self, settings: LedgerSettings, workers: int | None) -> None:
        self.required = settings.require_signatures
        self.registry_keys = settings.registry_keys
        self.participants: dict[str, tuple[ParticipantKey, ...]] = {}
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        if self.workers > 1:
            # Started before any database connection is opened, so no worker inherits one.
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            context = multiprocessing.get_context(method)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
            for done in [self._pool.submit(int) for _ in range(self.workers)]:
                done.result()

    def keys(self) -> dict[str, tuple[ParticipantKey, ...]]:
        return {**self.participants, REGISTRY_ACTOR: self.registry_keys}

    def _track(self, body: str) -> bool:
        """Follow participant records as the replay will; True if the keys changed."""
        if "participant" not in body and "\\u" not in body:
            return False  # cannot decode to a participant event
        try:
            event = parse_event(jsontext.loads(body))
            if not isinstance(event, RegistryEvent) or event.type != "participant":
                return False
            record = parse_participant(event.record)
        except (ValueError, ValidationError):
            return False
        self.participants[record.id] = record.keys
        return True

    def submit(self, bodies: list[str]) -> list[Future[list[Verdict]]]:
        changes: list[tuple[int, Keys]] = [(0, self.keys())]
        for i, body in enumerate(bodies):
            if self._track(body):
                changes.append((i + 1, self.keys()))
        if self._pool is None:
            done: Future[list[Verdict]] = Future()
            done.set_result(_check_part(bodies, changes, self.required))
            return [done]
        step = -(-len(bodies) // self.workers)
        return [
            self._pool.submit(
                _check_part, bodies[a : a + step], _shift(changes, a, step), self.required
            )
            for a in range(0, len(bodies), step)
        ]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _shift(changes: list[tuple[int, Keys]], start: int, length: int) -> list[tuple[int, Keys]]:
    """The key changes that matter for ``bodies[start:start + length]``, re-based to 0."""
    first = max(i for i, (offset, _) in enumerate(changes) if offset <= start)
    inner = [(o - start, k) for o, k in changes[first + 1 :] if o < start + length]
    return [(0, changes[first][1]), *inner]
