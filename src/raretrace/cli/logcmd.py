"""``raretrace log`` (checkpoints, keys and proofs) and ``raretrace witness`` (cosigning)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from raretrace.cli.main import DbOption, _store, app, out
from raretrace.domain.errors import ConfigError
from raretrace.ledger import logmigrate, logview
from raretrace.log.witness import WitnessState

__all__ = ["app"]

log_app = typer.Typer(
    help="The transparency log: signed checkpoints, the log key, inclusion and consistency proofs.",
    no_args_is_help=True,
)
witness_app = typer.Typer(
    help="Witness the log: keep a key, check consistency, cosign checkpoints.",
    no_args_is_help=True,
)
app.add_typer(log_app, name="log")
app.add_typer(witness_app, name="witness")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _raw(text: str) -> None:
    """Write ``text`` as UTF-8 byte for byte (notes are signed: no wrapping, no added newline)."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


@log_app.command("checkpoint")
def log_checkpoint(
    db: DbOption = None,
    size: Annotated[
        int | None,
        typer.Option(metavar="SIZE", help="A stored older checkpoint [default: latest]."),
    ] = None,
) -> None:
    """Print the signed checkpoint note exactly, cosignatures included."""
    _raw(logview.checkpoint_note(_store(db), size=size))


@log_app.command("vkey")
def log_vkey(db: DbOption = None) -> None:
    """Print the log's verifier key (C2SP signed-note vkey)."""
    print(logview.log_vkey(_store(db)))


@log_app.command("prove")
def log_prove(
    event_id: Annotated[str, typer.Argument(help="The event to prove.")],
    db: DbOption = None,
    size: Annotated[
        int | None,
        typer.Option(
            metavar="SIZE", help="Prove against this stored checkpoint [default: latest]."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Inclusion proof of an event in the log (RFC 9162 §2.1.3)."""
    proof = logview.prove_event(_store(db), event_id, size=size)
    if as_json:
        print(json.dumps(proof.to_json(), indent=2))
        return
    out.print(
        f"event {proof.event_id} is leaf {proof.leaf_index} of {proof.origin} "
        f"at tree size {proof.tree_size}",
        markup=False,
    )
    out.print(f"root       {_b64(proof.root)}", markup=False)
    what = (
        "the event itself, in clear: a log made before salted commitments"
        if proof.salt is None
        else "SHA-256(salt || event), the event's commitment; --json gives the event and salt"
    )
    out.print(f"leaf       {len(proof.leaf)} bytes ({what})", markup=False)
    out.print(f"proof      {len(proof.proof)} hashes", markup=False)
    for h in proof.proof:
        out.print(f"  {_b64(h)}", markup=False)
    out.print("checked against the checkpoint's root; --json for the full proof", markup=False)


@log_app.command("consistency")
def log_consistency(
    old_size: Annotated[int, typer.Argument(help="The older tree size.")],
    new_size: Annotated[
        int | None, typer.Argument(help="The newer tree size [default: latest].")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Consistency proof between two tree sizes (RFC 9162 §2.1.4)."""
    store = _store(db)
    _check_sizes(old_size, new_size, store.size())
    proof = logview.prove_consistency(store, old_size=old_size, new_size=new_size)
    if as_json:
        print(json.dumps(proof.to_json(), indent=2))
        return
    out.print(
        f"tree size {proof.old_size} (root {_b64(proof.old_root)}) is a prefix of tree size "
        f"{proof.new_size} (root {_b64(proof.new_root)})",
        markup=False,
    )
    out.print(f"proof      {len(proof.proof)} hashes", markup=False)
    for h in proof.proof:
        out.print(f"  {_b64(h)}", markup=False)


def _check_sizes(old_size: int, new_size: int | None, log_size: int) -> None:
    """A bad argument (exit 2), not a failed proof: sizes outside 0 < OLD <= NEW <= log size.

    An empty log is left to the proof, which says there is no checkpoint yet; a NEW_SIZE past
    the log is refused there too, naming the latest checkpoint.
    """
    new = log_size if new_size is None else new_size
    if log_size and not 0 < old_size <= new:
        raise ConfigError(
            f"no consistency proof from tree size {old_size} to {new}: the sizes must satisfy"
            f" 0 < OLD_SIZE <= NEW_SIZE <= {log_size} (the log's size)"
        )


@log_app.command("migrate")
def log_migrate(
    db: DbOption = None,
    log_origin: Annotated[
        str | None,
        typer.Option(metavar="ORIGIN", help="The new log's origin [default: the old one + /v2]."),
    ] = None,
) -> None:
    """Move a log that publishes events in clear to a new log of salted commitments.

    The old log (tiles, checkpoints, key) is archived in the log directory's archive/ folder,
    where it stays verifiable (`raretrace audit` checks it); witnesses start on the new log.
    """
    done = logmigrate.migrate_log(_store(db, write=True), origin=log_origin)
    if not done.done:
        finished = "finished the interrupted move; " if done.resumed else ""
        out.print(
            f"{finished}the log {done.origin} already holds salted commitments"
            f" ({done.size:,} events): nothing to do",
            markup=False,
        )
        return
    if done.archived is None:
        out.print(
            f"the log {done.origin} had published nothing: it holds salted commitments from"
            " its first event on",
            markup=False,
        )
        return
    old = done.archived
    out.print(
        f"moved {done.size:,} events to the new log {done.origin}: its entries are salted"
        f" commitments, SHA-256(salt || event), and reveal no event content",
        markup=False,
    )
    out.print(
        f"archived the old log {old.origin} (size {old.size:,}, root {old.root[:16]}…) in"
        f" {old.directory}/ of the log directory; it stays verifiable: `raretrace audit`",
        markup=False,
    )
    out.print(
        f"publish the new log key and ask witnesses to cosign the new log with it: {done.vkey}",
        markup=False,
    )


@witness_app.command("keygen")
def witness_keygen(
    name: Annotated[
        str, typer.Option(metavar="NAME", help="The witness's name, e.g. witness.example.my")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Private key file to create (0600).")
    ],
) -> None:
    """Make a witness cosigning key; prints its verifier key (give it to relying parties)."""
    print(logview.witness_keygen(name, out_file))


@witness_app.command("cosign")
def witness_cosign(
    key: Annotated[Path, typer.Option(metavar="FILE", help="The witness's private key file.")],
    state: Annotated[
        Path, typer.Option(metavar="DIR", help="Directory where the witness keeps its state.")
    ],
    db: DbOption = None,
    log_vkey: Annotated[
        str | None, typer.Option(metavar="VKEY", help="The log's verifier key, from its operator.")
    ] = None,
    log_vkey_file: Annotated[
        Path | None, typer.Option(metavar="FILE", help="A file holding the log's verifier key.")
    ] = None,
) -> None:
    """Check the latest checkpoint against the last one cosigned, and cosign it."""
    log_key = logview.read_log_vkey(log_vkey, log_vkey_file)
    signer = logview.read_witness_key(key)
    report = logview.witness_cosign(
        _store(db, write=True), signer=signer, state=WitnessState(state), log_key=log_key
    )
    if report.previous is None:
        out.print(
            f"first cosignature of {report.origin}: trusting size {report.size} on first use "
            "(no earlier cosigned checkpoint to check consistency against)",
            markup=False,
        )
    else:
        out.print(
            f"consistent with cosigned size {report.previous.size} "
            f"(root {_b64(report.previous.root_hash)})",
            markup=False,
        )
    out.print(
        f"cosigned {report.origin} size {report.size} root {_b64(report.root)} as "
        f"{report.witness}; signed by {', '.join(report.signers)}"
        f"{'' if report.published else ' (not the latest checkpoint: not republished)'}",
        markup=False,
    )
