"""Checking event signatures and computing log leaves, spread over the machine's cores.

Ed25519 verification dominates the cost of a signed event (about 130 µs here, where rules and
storage take about 100 µs), so a batch's signatures are checked by worker processes while the
main process applies the previous batch. Each worker also produces the event's leaf: the
RFC 8785 canonical JSON of the signed event, which is what the Merkle log commits to.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from raretrace.domain.canonical import canonical_with_and_without
from raretrace.domain.errors import ValidationError
from raretrace.domain.keys import ParticipantKey, check_signature
from raretrace.domain.model import normalize_time

Keys = Mapping[str, tuple[ParticipantKey, ...]]
#: Per event: (leaf text or None if the event is not even JSON, (rule, subject, message) or None)
Checked = tuple[str | None, tuple[str, str, str] | None]
#: Batches smaller than this are checked in-process: a round trip costs more.
POOL_MIN = 256


def check_one(item: str | Mapping[str, Any], keys: Keys, required: bool) -> Checked:
    """Leaf and signature verdict for one event (text or decoded object)."""
    try:
        raw = json.loads(item) if isinstance(item, str) else item
        if not isinstance(raw, dict):
            return None, None
        leaf_bytes, signed = canonical_with_and_without(raw, "sig")
        leaf = leaf_bytes.decode("utf-8")
    except (ValueError, ValidationError):
        return None, None  # the parser reports the problem with its own rule
    if not required and "sig" not in raw:
        return leaf, None
    try:
        time = normalize_time(raw.get("time"), f"event {raw.get('id')!r}")
        check_signature(raw, time, keys, message=signed)
    except ValidationError as exc:
        return leaf, (exc.rule, exc.subject, exc.detail)
    return leaf, None


def check_many(
    items: Sequence[str | Mapping[str, Any]], keys: Keys, required: bool
) -> list[Checked]:
    """``check_one`` for each item (run in a worker process)."""
    return [check_one(item, keys, required) for item in items]


def as_error(verdict: tuple[str, str, str]) -> ValidationError:
    return ValidationError(*verdict)


class SignatureChecker:
    """Checks batches in worker processes (one per core), or in-process when small."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def submit(
        self, items: Sequence[str | Mapping[str, Any]], keys: Keys, required: bool
    ) -> Future[list[Checked]]:
        """Start checking ``items``; the future's result lists one verdict per item."""
        if len(items) < POOL_MIN or self.workers < 2:
            done: Future[list[Checked]] = Future()
            done.set_result(check_many(items, keys, required))
            return done
        pool = self._ensure_pool()
        step = -(-len(items) // self.workers)
        parts = [
            pool.submit(check_many, items[i : i + step], keys, required)
            for i in range(0, len(items), step)
        ]
        return _Joined(parts)

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: workers start from a clean process, not a copy of one holding
            # database connections and threads.
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class _Joined(Future[list[Checked]]):
    """One future over the parts a batch was split into, in order."""

    def __init__(self, parts: list[Future[list[Checked]]]) -> None:
        super().__init__()
        self._parts = parts

    def result(self, timeout: float | None = None) -> list[Checked]:
        out: list[Checked] = []
        for part in self._parts:
            out.extend(part.result(timeout))
        return out
