"""The transparency log over HTTP: checkpoint, verifier key, proofs, witness cosignatures,
and the log directory's checkpoint and tiles as static files (C2SP tlog-tiles paths)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse

from raretrace.api.http import call, json_body, json_object, principal, state
from raretrace.service import logs, scoped
from raretrace.service.access import Principal, require

router = APIRouter()
Caller = Annotated[Principal, Depends(principal)]
NOTE_BODY = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["note", "vkey"], "additionalProperties": False,
    "properties": {"note": {"type": "string"}, "vkey": {"type": "string"}}}}}}  # fmt: skip


@router.get("/v1/log/checkpoint", tags=["log"], response_class=PlainTextResponse,
            summary="The latest signed checkpoint (C2SP), with cosignatures")  # fmt: skip
async def checkpoint(request: Request, who: Caller) -> PlainTextResponse:
    require(who, "read-public")
    note = await call(logs.checkpoint, state(request).store)
    return PlainTextResponse(note, headers={"Cache-Control": "no-cache"})


@router.get("/v1/log/vkey", tags=["log"], response_class=PlainTextResponse,
            summary="The log's verifier key")  # fmt: skip
async def vkey(request: Request, who: Caller) -> PlainTextResponse:
    require(who, "read-public")
    return PlainTextResponse(await call(logs.vkey, state(request).store) + "\n")


@router.get("/v1/log/consistency", tags=["log"], summary="Consistency proof (RFC 9162 §2.1.4)")
async def consistency(
    request: Request, who: Caller, old: Annotated[int, Query(ge=1)],
    new: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:  # fmt: skip
    require(who, "read-public")
    return await call(logs.consistency, state(request).store, old_size=old, new_size=new)


@router.get("/v1/log/proofs/{event_id}", tags=["log"],
            summary="Inclusion proof of an event the caller is party to")  # fmt: skip
async def proof(request: Request, who: Caller, event_id: str) -> dict[str, Any]:
    return await call(scoped.prove, state(request).store, who, event_id)


@router.post("/v1/log/cosignatures", tags=["log"], summary="Submit a witness cosignature",
             openapi_extra={"requestBody": NOTE_BODY})  # fmt: skip
async def cosign(request: Request, who: Caller) -> dict[str, Any]:
    """Add the cosignature in ``note`` (the checkpoint, cosigned by the witness key
    ``vkey``, which must be this witness token's) to the stored checkpoint."""
    require(who, "cosign")
    body = json_object(await json_body(request), {"note": str, "vkey": str},
                       required={"note", "vkey"})  # fmt: skip
    submitter = state(request).submitter

    def record() -> dict[str, Any]:
        return logs.cosign(submitter.write_store(), who, note=body["note"],
                           witness_vkey=body["vkey"])  # fmt: skip

    return await call(record)


@router.get("/log/{path:path}", tags=["log"], response_class=FileResponse,
            summary="The log's checkpoint and tiles as files")  # fmt: skip
async def log_file(request: Request, who: Caller, path: str) -> FileResponse:
    found = await call(logs.log_file, state(request).store, who, path)
    # Full tiles never change (C2SP tlog-tiles); partial tiles and the checkpoint do.
    full = path.startswith("tile/") and ".p/" not in path
    cache = "public, max-age=31536000, immutable" if full else "no-cache"
    media = "text/plain; charset=utf-8" if path == "checkpoint" else "application/octet-stream"
    return FileResponse(found, media_type=media, headers={"Cache-Control": cache})
