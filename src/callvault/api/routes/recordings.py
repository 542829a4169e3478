"""``/v1/tenants/{tenant}/recordings/{id}``: upload (sealed as it streams), download (with
``Range``), delete. The work is in ``api._recordings``; this module speaks HTTP.

GET decrypts the first covering chunk before it sends the status line, so a recording that
does not open (integrity, erased key, KMS down) gets a proper error status. A chunk that
fails later aborts the connection mid-body: ``Content-Length`` tells the client the body is
short, so a tampered recording can never read as a complete one.

Audit: PUT and DELETE are logged by ``Recordings`` at their point of no return; GET logs
``recording.read`` once the first chunk opened and before the response starts, and a chunk
that fails later adds a second entry with its error kind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from callvault.api import _audit_events as ev
from callvault.api._audit import Trail
from callvault.api._auth import require, services
from callvault.api._errors import PayloadTooLarge
from callvault.api._http_io import body_pieces, parse_range
from callvault.api._recordings import Recordings
from callvault.api._schemas import RecordingOut
from callvault.api.routes._common import errors, trail
from callvault.auth import Action, Principal
from callvault.errors import CallvaultError

router = APIRouter(prefix="/v1/tenants/{tenant}/recordings", tags=["recordings"])

TenantPath = Annotated[str, Path(description="Tenant id", examples=["acme"])]
IdPath = Annotated[
    str, Path(description="Recording id: A-Z a-z 0-9 . _ -", examples=["call-2026-0001"])
]
SubjectQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        description="Data subject (e.g. the caller's number): the recording is sealed under "
        "this subject's key, so erasing the subject erases it. Never stored in clear.",
    ),
]
_RAW_BODY = {
    "requestBody": {
        "required": True,
        "description": "The recording's bytes (any audio format), streamed; sealed as it "
        "arrives, never stored in clear",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_AUDIO = {"content": {"application/octet-stream": {}}, "description": "Plaintext bytes"}


def _recordings(request: Request) -> Recordings:
    found = services(request)
    return Recordings(
        found.vault,
        found.objects,
        found.max_recording_bytes,
        found.upload_claims,
        trail(request).point,
    )


@router.put(
    "/{recording_id}",
    status_code=201,
    summary="Upload a recording (raw body, streamed and sealed)",
    responses=errors(404, 409, 413, 503),
    openapi_extra=_RAW_BODY,
)
async def put_recording(
    request: Request,
    tenant: TenantPath,
    recording_id: IdPath,
    _: Annotated[Principal, require(Action.RECORDINGS_WRITE, ev.RECORDING_WRITE)],
    subject: SubjectQuery = None,
) -> RecordingOut:
    recordings = _recordings(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > services(request).max_recording_bytes:
        raise PayloadTooLarge("the declared Content-Length is over the recording limit")
    body = body_pieces(request.stream())
    info = await anyio.to_thread.run_sync(recordings.put, tenant, recording_id, subject, body)
    return RecordingOut(
        tenant=info.tenant, id=info.id, size=info.size, sealed_size=info.sealed_size
    )


@router.get(
    "/{recording_id}",
    summary="Download a recording (supports Range: bytes=a-b)",
    responses={200: _AUDIO, 206: _AUDIO, **errors(404, 410, 416, 503)},
    response_class=StreamingResponse,
)
def get_recording(
    request: Request,
    tenant: TenantPath,
    recording_id: IdPath,
    _: Annotated[Principal, require(Action.RECORDINGS_READ, ev.RECORDING_READ)],
) -> Response:
    opened = _recordings(request).open(tenant, recording_id)
    try:
        wanted = parse_range(request.headers.get("range"), opened.length)
    except BaseException:
        opened.reader.close()
        raise
    start, end = wanted if wanted is not None else (0, opened.length - 1)
    headers = {"accept-ranges": "bytes", "content-length": str(end - start + 1)}
    if wanted is not None:
        headers["content-range"] = f"bytes {start}-{end}/{opened.length}"
    body = opened.iter_plaintext(start, end)
    first = next(body, b"")  # fail before the status line if the first chunk does not open
    audit = trail(request)
    detail = {"range": f"{start}-{end}"} if wanted is not None else None
    try:
        audit.point(recording_id, subject=opened.subject, detail=detail)  # before any byte
    except BaseException:
        body.close()
        raise
    return StreamingResponse(
        _prepend(first, body, audit),
        status_code=206 if wanted is not None else 200,
        headers=headers,
        media_type="application/octet-stream",
    )


@router.delete(
    "/{recording_id}", status_code=204, summary="Delete a recording", responses=errors(404)
)
def delete_recording(
    request: Request,
    tenant: TenantPath,
    recording_id: IdPath,
    _: Annotated[Principal, require(Action.RECORDINGS_DELETE, ev.RECORDING_DELETE)],
) -> Response:
    _recordings(request).delete(tenant, recording_id)
    return Response(status_code=204)


def _prepend(first: bytes, rest: Iterator[bytes], audit: Trail) -> Iterator[bytes]:
    if first:
        yield first
    try:
        yield from rest
    except Exception as exc:  # a later chunk failed: the connection aborts; log why
        with contextlib.suppress(CallvaultError):
            audit.failed(exc)
        raise
