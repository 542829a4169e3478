"""``/v1/tenants/{tenant}/transcripts``: store a transcript (sealed), read it back, find a
caller's transcripts by blind index. The work is in ``api._transcripts``.

Reading needs ``transcripts:read``; the sensitive fields (caller, member and insurance
numbers, card digits) come back only if the credential *also* holds
``transcripts:read-sensitive``, else they are redacted (``redacted_fields``). The search
stays under ``transcripts:read``: it matches a number the client already holds, and its
answer is redacted like any other read.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request

from callvault.api import _audit_events as ev
from callvault.api._auth import require, services
from callvault.api._schemas import CALLER_DESCRIPTION, CALLER_PATTERN, Created, TranscriptCreate
from callvault.api._transcripts import Transcripts, TranscriptView, TranscriptViewList
from callvault.api.routes._common import errors, records_of, trail
from callvault.auth import Action, Principal, permits

router = APIRouter(prefix="/v1/tenants/{tenant}/transcripts", tags=["transcripts"])

TenantPath = Annotated[str, Path(description="Tenant id", examples=["acme"])]
IdPath = Annotated[str, Path(description="Transcript id, as returned by POST")]
CallerQuery = Annotated[
    str,
    Query(
        pattern=CALLER_PATTERN,
        description=f"{CALLER_DESCRIPTION}; matched through its blind index, never "
        "compared in clear",
        examples=["+15551234567"],
    ),
]


def transcripts_of(request: Request) -> Transcripts:
    return Transcripts(services(request).vault, records_of(request), trail(request).point)


@router.post("", status_code=201, summary="Store a transcript (sealed)", responses=errors(404, 503))
async def post_transcript(
    request: Request,
    tenant: TenantPath,
    body: TranscriptCreate,
    _: Annotated[Principal, require(Action.TRANSCRIPTS_WRITE, ev.TRANSCRIPT_WRITE)],
) -> Created:
    record_id = await anyio.to_thread.run_sync(transcripts_of(request).add, tenant, body)
    return Created(id=record_id)


@router.get(
    "", summary="Find a caller's transcripts (blind-index search)", responses=errors(404, 410, 503)
)
def find_transcripts(
    request: Request,
    tenant: TenantPath,
    caller: CallerQuery,
    principal: Annotated[Principal, require(Action.TRANSCRIPTS_READ, ev.TRANSCRIPT_SEARCH)],
) -> TranscriptViewList:
    sensitive = permits(principal, Action.TRANSCRIPTS_READ_SENSITIVE, tenant)
    found = transcripts_of(request).find_by_caller(tenant, caller, sensitive=sensitive)
    return TranscriptViewList(transcripts=found)


@router.get("/{transcript_id}", summary="Read a transcript", responses=errors(404, 410, 503))
def get_transcript(
    request: Request,
    tenant: TenantPath,
    transcript_id: IdPath,
    principal: Annotated[Principal, require(Action.TRANSCRIPTS_READ, ev.TRANSCRIPT_READ)],
) -> TranscriptView:
    sensitive = permits(principal, Action.TRANSCRIPTS_READ_SENSITIVE, tenant)
    return transcripts_of(request).get(tenant, transcript_id, sensitive=sensitive)
