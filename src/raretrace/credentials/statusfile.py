"""The issuer's status list on disk: the signed list it publishes, and the state it keeps.

The signed list (``--out``) is what the council publishes at the list's URL; it only holds
bits. What raretrace needs between runs — which indexes were handed to which credential and
why each set bit was set — lives in a JSON state file beside it, ``<out>.state.json``, which
the issuer keeps private and backs up. Each run locks the folder holding ``<out>``, reads
the state, applies the changes, writes the state, then re-signs and replaces the list (state
first: a crash in between leaves a list that the next run re-signs, never a list that is
ahead of its state). A run refuses to go on when the published list has a bit set that the
state lacks (a restored old state would silently un-revoke), or when the list exists without
its state.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from raretrace.credentials.datamodel import format_datetime
from raretrace.credentials.didweb import parse_did_web
from raretrace.credentials.files import read_json, read_text, write_atomically
from raretrace.credentials.keys import IssuerKey
from raretrace.credentials.securing import Format, decode_unverified, secure
from raretrace.credentials.statuslist import (
    MIN_ENTRIES,
    PURPOSES,
    StatusBits,
    StatusChange,
    StatusListState,
    status_list_credential,
)
from raretrace.domain.errors import ConfigError, VerificationError

STATE_TYPE = "raretrace-status-list-state"


def state_path(out: Path) -> Path:
    """Where the state of the list published as ``out`` is kept."""
    return out.with_name(out.name + ".state.json")


def default_list_url(did: str, purpose: str) -> str:
    """``https://<did:web host and path>/credentials/status/<purpose>-1``."""
    return f"{parse_did_web(did).base_url()}/credentials/status/{purpose}-1"


def state_to_json(state: StatusListState) -> dict[str, Any]:
    """The state file's content."""
    return {
        "type": STATE_TYPE,
        "statusListCredential": state.list_url,
        "issuer": state.issuer,
        "statusPurpose": state.purpose,
        "length": state.length,
        "allocated": {str(i): c for i, c in sorted(state.allocated.items())},
        "set": {
            str(i): {"reason": c.reason, "time": c.time} for i, c in sorted(state.changes.items())
        },
        "about": {str(i): a for i, a in sorted(state.about.items())},
    }


def parse_state(obj: object, source: str) -> StatusListState:
    """A StatusListState from a state file's JSON; ConfigError if it is not one."""
    try:
        if not isinstance(obj, dict) or obj.get("type") != STATE_TYPE:
            raise ValueError(f'no "type": "{STATE_TYPE}"')
        allocated = {int(i): str(c) for i, c in obj["allocated"].items()}
        changes = {
            int(i): StatusChange(str(c["reason"]), str(c["time"])) for i, c in obj["set"].items()
        }
        state = StatusListState(
            list_url=str(obj["statusListCredential"]),
            issuer=str(obj["issuer"]),
            purpose=str(obj["statusPurpose"]),
            length=int(obj["length"]),
            allocated=allocated,
            changes=changes,
            about={int(i): str(a) for i, a in obj.get("about", {}).items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{source} is not a status list state file ({exc}); restore it from your backup"
        ) from None
    if any(not 0 <= i < state.length for i in (*allocated, *changes)):
        raise ConfigError(f"{source} has an index outside 0..{state.length - 1}; restore it")
    return state


@dataclass(frozen=True, slots=True)
class PublishedList:
    """What ``publish_status_list`` wrote."""

    out: Path
    state_file: Path
    list_url: str
    purpose: str
    entries: int
    allocated: int
    set_indexes: tuple[int, ...]
    newly_set: tuple[int, ...]
    valid_until: str


def publish_status_list(
    key: IssuerKey,
    out: Path,
    *,
    url: str | None = None,
    purpose: str | None = None,
    fmt: Format = "jose",
    valid_days: int = 7,
    revoke: Sequence[int] = (),
    reason: str | None = None,
    now: datetime,
) -> PublishedList:
    """Create or update the signed status list ``out`` (and its state), setting ``revoke``."""
    if valid_days < 1:
        raise ConfigError(f"--valid-days must be at least 1, got {valid_days}")
    _check_arguments(out, url=url, purpose=purpose)
    with _locked(out):
        state = _load_or_create(key, out, url=url, purpose=purpose)
        before = set(state.changes)
        for index in revoke:
            state = state.set(index, reason=reason or "", time=format_datetime(now))
        _refuse_if_behind(out, state)
        valid_until = format_datetime(now + timedelta(days=valid_days))
        credential = status_list_credential(
            list_url=state.list_url,
            issuer=state.issuer,
            purpose=state.purpose,
            bits=state.bits(),
            valid_from=format_datetime(now),
            valid_until=valid_until,
        )
        text = secure(credential, key, fmt=fmt, now=now)
        write_atomically(
            state_path(out), json.dumps(state_to_json(state), indent=2) + "\n", mode=0o600
        )
        write_atomically(out, text)
    return PublishedList(
        out=out,
        state_file=state_path(out),
        list_url=state.list_url,
        purpose=state.purpose,
        entries=state.length,
        allocated=len(state.allocated),
        set_indexes=tuple(sorted(state.changes)),
        newly_set=tuple(sorted(set(state.changes) - before)),
        valid_until=valid_until,
    )


def save_state(out: Path, state: StatusListState) -> None:
    """Write the state of the list published as ``out`` (used when indexes are allocated)."""
    with _locked(out):
        write_atomically(
            state_path(out), json.dumps(state_to_json(state), indent=2) + "\n", mode=0o600
        )


def allocate_index(
    out: Path, credential_id: str, *, issuer: str, about: str | None = None
) -> tuple[StatusListState, int]:
    """Give ``credential_id`` a fresh index of the list published as ``out`` (under the
    list's lock, so concurrent issuers never get the same index); the state is saved before
    the index is returned, so an index is never handed out twice."""
    with _locked(out):
        state = _existing_state(out, issuer)
        state, index = state.allocate(credential_id, about=about)
        write_atomically(
            state_path(out), json.dumps(state_to_json(state), indent=2) + "\n", mode=0o600
        )
    return state, index


def published_format(out: Path) -> Format:
    """How the list published as ``out`` is secured: ``di`` (JSON) or ``jose`` (a JWS)."""
    text = read_text(out, "status list")
    return "di" if text.lstrip().startswith("{") else "jose"


def _existing_state(out: Path, issuer: str) -> StatusListState:
    if not state_path(out).exists():
        raise ConfigError(
            f"--status-list {out} has no state file ({state_path(out)}); make the list first"
            f" with `raretrace issuer status-list --key KEY --out {out}`, or give the list"
            " that command manages"
        )
    state = load_state(out)
    if state.issuer != issuer:
        raise ConfigError(
            f"the status list {out} belongs to {state.issuer}, not to the issuer key's"
            f" {issuer}; give that issuer's list"
        )
    return state


def load_state(out: Path) -> StatusListState:
    """The state of the list published as ``out``; NotFound if it has none yet."""
    return parse_state(read_json(state_path(out), "status list state"), str(state_path(out)))


def _load_or_create(
    key: IssuerKey, out: Path, *, url: str | None, purpose: str | None
) -> StatusListState:
    if state_path(out).exists():
        state = load_state(out)
        problems = [
            (state.issuer != key.did, f"belongs to {state.issuer}, not to the key's {key.did}"),
            (
                url is not None and url != state.list_url,
                f"is published at {state.list_url}, not {url}; drop --url or choose another --out",
            ),
            (
                purpose is not None and purpose != state.purpose,
                f"is a {state.purpose} list, not {purpose}",
            ),
        ]
        for broken, why in problems:
            if broken:
                raise ConfigError(f"the status list {out} {why}")
        return state
    if out.exists():
        raise ConfigError(
            f"{out} exists but its state file {state_path(out)} does not; starting a new list"
            " over it would clear every revocation. Restore the state file from your backup, or"
            " choose another --out"
        )
    chosen = "revocation" if purpose is None else purpose  # checked by _check_arguments
    return StatusListState(
        list_url=url or default_list_url(key.did, chosen),
        issuer=key.did,
        purpose=chosen,
        length=MIN_ENTRIES,
    )


def _refuse_if_behind(out: Path, state: StatusListState) -> None:
    if not out.exists():
        return
    published = decode_unverified(read_text(out, "status list"))
    subject = (published or {}).get("credentialSubject")
    if not isinstance(subject, dict) or (published or {}).get("id") != state.list_url:
        raise ConfigError(
            f"{out} is not the status list {state.list_url} its state file"
            f" describes; restore it or choose another --out"
        )
    try:
        published_set = set(StatusBits.decode(subject.get("encodedList")).set_indexes())
    except VerificationError as exc:
        raise ConfigError(f"{out}: {exc.message}") from None
    missing = sorted(published_set - set(state.changes))
    if missing:
        raise ConfigError(
            f"the published list {out} has {len(missing)} set entries the state file lacks"
            f" (e.g. index {missing[0]}): the state file is older than the list. Restore the"
            " newest state file; re-signing now would un-revoke credentials"
        )


def _check_arguments(out: Path, *, url: str | None, purpose: str | None) -> None:
    """Refuse, before the lock file is made, an --out that cannot be a file, a --url that is
    not one, and an unknown --purpose: a refused run leaves nothing behind."""
    if purpose is not None and purpose not in PURPOSES:
        raise ConfigError(f"--purpose must be one of {', '.join(PURPOSES)}, got {purpose!r}")
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give the status list's file name")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: the folder {out.parent} does not exist; create it first")
    if url is not None and not url.startswith(("https://", "http://")):
        raise ConfigError(
            f"--url must be the http(s) URL the list is published at, got {url!r}; drop --url"
            " for the default under the issuer's did:web host"
        )


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    # The lock is taken on the folder itself (flock works on a directory's descriptor), so a
    # run, refused or not, leaves no lock file behind.
    folder = out.parent
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ConfigError(f"cannot open the folder {folder} to lock it: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
