"""``/v1/audit``: the audit log's entries, signed checkpoints, proofs and verifier key.

Everything a witness or auditor needs to check the log from outside, with no key but the
public one: the checkpoint (a C2SP signed note), RFC 9162 inclusion and consistency proofs
(hashes base64, the shapes of RFC 9162's ``get-proof-by-hash`` and ``get-sth-consistency``)
and the note verifier key. All need ``audit:read`` (the ``auditor`` and ``platform-admin``
roles); tenant credentials get 403.

``GET /v1/audit/checkpoint`` always answers a checkpoint of the *current* tree: the newest
stored one if the log has not grown since, else a freshly signed one (stored like the
periodic ones), so a witness polling it never lags the log. Reading entries is itself
audited (``audit.read``, before the entries are returned: reading an audit trail is an
access to be accounted for); checkpoints, proofs and the key reveal no entry content and
log only refusals.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from callvault.api import _audit_events as ev
from callvault.api._auth import require, services
from callvault.api.routes._common import errors, trail
from callvault.audit import AuditLog
from callvault.auth import Action, Principal
from callvault.errors import InvalidRequest

router = APIRouter(prefix="/v1/audit", tags=["audit"])

MAX_PAGE = 1000
_NOTE = {"content": {"text/plain": {}}, "description": "A C2SP signed note"}


class AuditEntryOut(BaseModel):
    seq: int = Field(description="Position in the log (the Merkle leaf index)")
    time: str
    actor: str
    action: str
    outcome: str
    tenant: str | None
    key_id: str | None
    key_version: int | None
    object_id: str | None
    subject_hmac: str | None = Field(description="Keyed HMAC of the data subject, never it")
    detail: dict[str, str]
    leaf_hash: str | None = Field(description="base64 RFC 9162 leaf hash of the sealed entry")


class AuditEntryPage(BaseModel):
    entries: list[AuditEntryOut] = Field(description="In log order")
    next_seq: int | None = Field(description="Pass as from_seq for the next page; null: done")


class InclusionProof(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str = Field(description="base64 leaf hash of the entry at leaf_index")
    inclusion_path: list[str] = Field(description="base64 hashes, RFC 9162 PATH")


class ConsistencyProof(BaseModel):
    first: int
    second: int
    consistency: list[str] = Field(description="base64 hashes, RFC 9162 PROOF")


def _log(request: Request) -> AuditLog:
    return services(request).audit


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidRequest(f"{name} needs a time zone (e.g. 2026-01-01T00:00:00Z)")
    return value


@router.get(
    "/entries", summary="Audit entries (opened), paged by sequence number", responses=errors()
)
def list_entries(
    request: Request,
    _: Annotated[Principal, require(Action.AUDIT_READ, ev.AUDIT_READ)],
    since: Annotated[datetime | None, Query(description="time >= since (with a zone)")] = None,
    until: Annotated[datetime | None, Query(description="time < until (with a zone)")] = None,
    tenant: Annotated[str | None, Query(max_length=64, description="Only this tenant")] = None,
    from_seq: Annotated[int, Query(ge=0, description="Start at this sequence number")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> AuditEntryPage:
    since, until = _aware(since, "since"), _aware(until, "until")
    detail = {"from_seq": str(from_seq)} | ({"tenant": tenant} if tenant else {})
    trail(request).point(detail=detail)  # before any entry leaves
    log = _log(request)
    found: list[Any] = []
    next_seq = None
    size = log.size()
    for entry in log.entries(since, until, start=min(from_seq, size)):
        if entry.seq is None or entry.seq < from_seq or (tenant and entry.tenant != tenant):
            continue
        if len(found) == limit:
            next_seq = entry.seq
            break
        found.append(entry)
    leaves = log.leaf_hashes()
    out = [
        AuditEntryOut(
            **entry.as_json(),
            leaf_hash=_b64([leaves[entry.seq]])[0] if entry.seq < len(leaves) else None,
        )
        for entry in found
    ]
    return AuditEntryPage(entries=out, next_seq=next_seq)


@router.get(
    "/checkpoint",
    summary="A signed checkpoint of the current tree (text/plain)",
    responses={200: _NOTE, **errors()},
    response_class=PlainTextResponse,
)
def get_checkpoint(
    request: Request,
    _: Annotated[Principal, require(Action.AUDIT_READ, ev.AUDIT_CHECKPOINT)],
) -> PlainTextResponse:
    log = _log(request)
    size = log.size()
    notes = log.checkpoint_notes()
    if notes and notes[-1][0].name == f"{size:016d}.note":
        note = notes[-1][1]
    else:
        note = log.checkpoint()[1]
    return PlainTextResponse(note, headers={"cache-control": "no-store"})


@router.get(
    "/proofs/inclusion", summary="RFC 9162 inclusion proof of one entry", responses=errors()
)
def inclusion(
    request: Request,
    _: Annotated[Principal, require(Action.AUDIT_READ, ev.AUDIT_PROOF)],
    index: Annotated[int, Query(ge=0, description="Leaf index (the entry's seq)")],
    size: Annotated[int | None, Query(ge=1, description="Tree size (default: now)")] = None,
) -> InclusionProof:
    log = _log(request)
    leaves = log.leaf_hashes()
    tree_size = len(leaves) if size is None else size
    if not 0 <= index < tree_size <= len(leaves):
        raise InvalidRequest(f"need 0 <= index < size <= {len(leaves)}")
    path = log.inclusion_proof(index, tree_size)
    return InclusionProof(
        leaf_index=index,
        tree_size=tree_size,
        leaf_hash=_b64([leaves[index]])[0],
        inclusion_path=_b64(path),
    )


@router.get(
    "/proofs/consistency",
    summary="RFC 9162 consistency proof between two sizes",
    responses=errors(),
)
def consistency(
    request: Request,
    _: Annotated[Principal, require(Action.AUDIT_READ, ev.AUDIT_PROOF)],
    old: Annotated[int, Query(ge=0, description="The older tree size")],
    new: Annotated[int, Query(ge=0, description="The newer tree size")],
) -> ConsistencyProof:
    log = _log(request)
    current = log.size()
    if not old <= new <= current:
        raise InvalidRequest(f"need old <= new <= {current}")
    return ConsistencyProof(
        first=old, second=new, consistency=_b64(log.consistency_proof(old, new))
    )


@router.get(
    "/public-key",
    summary="The checkpoint verifier key (note format, text/plain)",
    responses={200: {"content": {"text/plain": {}}}, **errors()},
    response_class=PlainTextResponse,
)
def public_key(
    request: Request,
    _: Annotated[Principal, require(Action.AUDIT_READ, ev.AUDIT_PUBLIC_KEY)],
) -> PlainTextResponse:
    return PlainTextResponse(str(_log(request).verifier()) + "\n")
