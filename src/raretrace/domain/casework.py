"""What the clearinghouse's workflows share: document digests, texts, council actors, steps.

The clearinghouse (docs/clearinghouse.md) records licensing, agreement reviews and disputes
as ledger events; this module holds the field checks they have in common, so every workflow
refuses a bad field with the same words. Pure: plain values in, plain values or a
``ValidationError`` out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from raretrace.domain.errors import ValidationError
from raretrace.domain.ids import check_id
from raretrace.domain.model import REGISTRY_ACTOR, Lot, display_time, normalize_time

if TYPE_CHECKING:
    from raretrace.domain.registry import Registry

#: The longest free text (a reason, a statement, a summary) one field may hold; a log entry
#: is bounded (C2SP tlog-tiles), and long documents belong outside the log, by digest.
MAX_TEXT = 4000
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class CaseState(Protocol):
    """What the clearinghouse rules read: the registry (with its agreements and disputes)
    and lots (a dispute may name one); ``rules.LedgerState`` is one."""

    @property
    def registry(self) -> Registry: ...

    def lot(self, lot_id: str) -> Lot | None: ...


@dataclass(frozen=True, slots=True)
class Document:
    """A document by name and SHA-256 digest: the log holds the digest, never the document."""

    name: str
    sha256: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class Step:
    """Where in the log a workflow step was recorded: its event, sequence number and time."""

    event: str
    seq: int
    time: str

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "seq": self.seq, "time": display_time(self.time)}

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> Step:
        return Step(str(doc["event"]), int(doc["seq"]), normalize_time(doc["time"], "step"))


def fail(rule: str, subject: str, message: str) -> ValidationError:
    return ValidationError(rule, subject, message)


def record(obj: object, key: str, subject: str, fields: tuple[str, ...]) -> Mapping[str, Any]:
    """The object under ``key``: exactly some of ``fields`` (a misspelt field is refused, not
    ignored, as for registry records)."""
    if not isinstance(obj, Mapping):
        raise fail("format", subject, f"field {key!r} must be an object, got {obj!r}")
    unknown = sorted(set(obj) - set(fields))
    if unknown:
        raise fail(
            "format",
            subject,
            f"{key} has unknown field(s) {unknown}; its fields are {', '.join(fields)}"
            " (docs/clearinghouse.md)",
        )
    return obj


def text(obj: Mapping[str, Any], key: str, subject: str, *, required: bool = True) -> str:
    """A free-text field: non-blank, at most ``MAX_TEXT`` characters ("" when optional and
    absent)."""
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise fail("format", subject, f"field {key!r} must be a non-blank text, got {value!r}")
    if len(value) > MAX_TEXT:
        raise fail(
            "format",
            subject,
            f"field {key!r} is {len(value):,} characters, more than {MAX_TEXT:,}; put long"
            " texts in a document and give its SHA-256 under 'documents' or 'evidence'",
        )
    return value


def texts(obj: Mapping[str, Any], key: str, subject: str) -> tuple[str, ...]:
    """A list of free texts (absent: empty)."""
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise fail("format", subject, f"field {key!r} must be a list of texts, got {value!r}")
    return tuple(text({key: v}, key, subject) for v in value)


def ident(obj: Mapping[str, Any], key: str, subject: str) -> str:
    """A field holding an id (docs/formats.md, Ids)."""
    return check_id(obj.get(key), subject, key)


def choice(obj: Mapping[str, Any], key: str, subject: str, allowed: tuple[str, ...]) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or value not in allowed:
        raise fail("format", subject, f"{key} {value!r} is not one of {', '.join(allowed)}")
    return value


def documents(obj: Mapping[str, Any], key: str, subject: str) -> tuple[Document, ...]:
    """``[{"name", "sha256"}]``: each digest 64 lowercase hex digits (FIPS 180-4 SHA-256)."""
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise fail("format", subject, f"field {key!r} must be a list of {{name, sha256}}")
    out = []
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        doc = record(item, where, subject, ("name", "sha256"))
        digest = doc.get("sha256")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise fail(
                "document-digest",
                subject,
                f"{where}.sha256 must be 64 lowercase hex digits (the SHA-256 of the file,"
                f" e.g. from `sha256sum FILE`), got {digest!r}",
            )
        out.append(Document(text(doc, "name", f"{subject} {where}"), digest))
    return tuple(out)


def day(obj: Mapping[str, Any], key: str, subject: str, *, required: bool) -> str | None:
    """A calendar date ``YYYY-MM-DD`` (ISO 8601), checked against the calendar."""
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise fail("format", subject, f"field {key!r} must be a date YYYY-MM-DD, got {value!r}")
    normalize_time(value + "T00:00:00Z", subject)  # the calendar (no 2025-02-30)
    return value


def tonnes(value: object, subject: str, what: str) -> float:
    """A positive, finite mass in tonnes, at most 10^9 t (more is a unit error)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail("format", subject, f"{what} must be a number of tonnes, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and 0 < number <= 1e9):
        raise fail(
            "format", subject, f"{what} must be more than 0 and at most 10^9 t, got {value!r}"
        )
    return number


def council(event_actor: str, event_id: str, what: str) -> None:
    """Refuse a council decision not recorded by the registry authority (the council)."""
    if event_actor != REGISTRY_ACTOR:
        raise fail(
            "council-actor",
            f"event {event_id!r}",
            f"{what} is the council's decision, recorded by the registry authority"
            f" ({REGISTRY_ACTOR!r}), not {event_actor!r}; the council records it with"
            " `raretrace agreement review` / `raretrace dispute rule` or the service",
        )


def member(obj: Mapping[str, Any], subject: str, parties: set[str], *, what: str, rule: str) -> str:
    """The council member (``by``) who decides; never a party to what is decided (refused
    under ``rule``)."""
    who = ident(obj, "by", subject)
    if who in parties:
        raise fail(
            rule,
            subject,
            f"{who!r} is a party to it and may not {what} it; another member of the council"
            f" must (parties: {', '.join(sorted(parties))})",
        )
    return who


def not_before(last: str, time: str, subject: str, event_id: str) -> None:
    """Steps of one workflow must not go back in time."""
    if time < last:
        raise fail(
            "time-order",
            subject,
            f"event {event_id!r} at {display_time(time)} is before its last step at"
            f" {display_time(last)}; steps of a workflow must not go back in time",
        )
