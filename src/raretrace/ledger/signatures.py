"""Checking event signatures and computing log leaves, spread over the machine's cores.

Ed25519 verification dominates the cost of a signed event (105–140 µs here, where rules and
storage take about 90 µs), so a batch's signatures are checked by worker processes while the
main process applies the previous batch. Each worker also produces the event's leaf: the
RFC 8785 canonical JSON of the signed event, which is what the Merkle log commits to.
Events are checked as the next append (``check_signature`` with no position): a key signs
if it is registered and not revoked in the registry the batch is checked against.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from raretrace.domain.canonical import canonical_with_and_without, decode_canonical
from raretrace.domain.errors import ValidationError
from raretrace.domain.keys import KeyHistory, check_signature

Keys = KeyHistory
#: Per event: (leaf text or None if the event is not even JSON, (rule, subject, message) or None)
Checked = tuple[str | None, tuple[str, str, str] | None]
#: Batches smaller than this are checked in-process: a round trip costs more.
POOL_MIN = 256


def check_one(item: str | Mapping[str, Any], keys: Keys, required: bool) -> Checked:
    """Leaf and signature verdict for one event (text or decoded object)."""
    try:
        if isinstance(item, str):
            raw, leaf_bytes, without_sig = decode_canonical(item, "sig")
        else:
            raw, leaf_bytes, without_sig = item, None, None
        if not isinstance(raw, dict):
            return None, None  # the parser reports it with its own rule
        if leaf_bytes is None:
            leaf_bytes, without_sig = canonical_with_and_without(raw, "sig")
    except ValueError:
        return None, None  # not JSON: the parser reports it with its own rule
    except ValidationError as exc:
        raw = json.loads(item) if isinstance(item, str) else item
        return None, _not_canonical(raw, exc) if isinstance(raw, dict) else None
    leaf = leaf_bytes.decode("utf-8")
    if not required and "sig" not in raw:
        return leaf, None
    try:
        check_signature(raw, keys, message=without_sig or leaf_bytes)
    except ValidationError as exc:
        return leaf, (exc.rule, exc.subject, exc.detail)
    return leaf, None


def _not_canonical(raw: Mapping[str, Any], exc: ValidationError) -> tuple[str, str, str]:
    # JSON that RFC 8785 cannot canonicalise (NaN, a lone surrogate, an integer beyond
    # ±(2^53-1)) has no leaf and no signable form: refuse it, saying which value.
    return (
        "format",
        f"event {raw.get('id')!r}",
        f"cannot be put in RFC 8785 canonical form: {exc.subject} {exc.detail};"
        " keep numbers finite and within ±(2^53-1) (large values as strings) and strings"
        " valid Unicode",
    )


def check_many(
    items: Sequence[str | Mapping[str, Any]], keys: Keys, required: bool
) -> list[Checked]:
    """``check_one`` for each item (run in a worker process)."""
    return [check_one(item, keys, required) for item in items]


def as_error(verdict: tuple[str, str, str]) -> ValidationError:
    return ValidationError(*verdict)


class SignatureChecker:
    """Checks batches in worker processes (one per core), or in-process when small.

    If the workers cannot run (a broken pool, a platform without process support), batches
    are checked in-process: slower, never wrong.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def submit(
        self, items: Sequence[str | Mapping[str, Any]], keys: Keys, required: bool
    ) -> Future[list[Checked]]:
        """Start checking ``items``; the future's result lists one verdict per item."""
        if len(items) < POOL_MIN or self.workers < 2:
            return _done(check_many(items, keys, required))
        try:
            pool = self._ensure_pool()
            step = -(-len(items) // self.workers)
            parts = [
                pool.submit(check_many, items[i : i + step], keys, required)
                for i in range(0, len(items), step)
            ]
        except (BrokenProcessPool, OSError, RuntimeError):
            self._give_up_pool()
            return _done(check_many(items, keys, required))
        return _Joined(parts, lambda: check_many(items, keys, required), self._give_up_pool)

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # fork where it is safe and cheap (Linux): workers need no re-import of __main__,
            # so the ledger works from scripts, REPLs and notebooks alike. Workers only run
            # check_many; they never touch the parent's database connections.
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            context = multiprocessing.get_context(method)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._pool

    def _give_up_pool(self) -> None:
        self.workers = 1
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _done(result: list[Checked]) -> Future[list[Checked]]:
    done: Future[list[Checked]] = Future()
    done.set_result(result)
    return done


class _Joined(Future[list[Checked]]):
    """One future over the parts a batch was split into, in order, with a fallback."""

    def __init__(
        self,
        parts: list[Future[list[Checked]]],
        in_process: Callable[[], list[Checked]],
        on_broken: Callable[[], None],
    ) -> None:
        super().__init__()
        self._parts = parts
        self._in_process = in_process
        self._on_broken = on_broken

    def result(self, timeout: float | None = None) -> list[Checked]:
        out: list[Checked] = []
        try:
            for part in self._parts:
                out.extend(part.result(timeout))
        except BrokenProcessPool:
            self._on_broken()
            return self._in_process()
        return out
