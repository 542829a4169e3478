"""``/v1/posture``: the posture document (JSON, Markdown, HTML or PDF), and
``/v1/posture/overview``: the dashboard's posture view (grade, keys due, scans, erasures,
audit-log state, certificates nearing expiry, compliance controls) as JSON.

It needs ``posture:read`` (the ``auditor`` and ``platform-admin`` roles); tenant
credentials get 403, logged as ``denied``. Every successful call is logged too
(``posture.read``): the view names tenants, keys and endpoints, so reading it is an access
to account for; the entry's ``detail.facts`` is the hash of the facts that were shown. The
data is computed from the live system by ``callvault.posture.facts.collect_facts`` in a
worker thread and shared through the app's ``OverviewCache`` for ``[posture]
overview_cache_seconds`` (default 30 s), so the route cannot be used to make the server
verify its audit log in a loop.
"""

from __future__ import annotations

import functools
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response

from callvault.api import _audit_events as ev
from callvault.api._auth import require, services
from callvault.api._dashboard._cache import OverviewCache
from callvault.api._dashboard._models import PostureOverview
from callvault.api.routes._common import errors, trail
from callvault.auth import Action, Principal
from callvault.posture.document import PostureDocument
from callvault.posture.facts import canonical_json

router = APIRouter(prefix="/v1/posture", tags=["posture"])

STATE_ATTRIBUTE = "posture_overview"
"""Where the app keeps its ``OverviewCache`` (``app.state``); tests may put their own."""


def overview_cache(request: Request) -> OverviewCache:
    """The app's cache, made on first use from the served vault's settings."""
    state = request.app.state
    found = getattr(state, STATE_ATTRIBUTE, None)
    if isinstance(found, OverviewCache):
        return found
    vault = services(request).vault
    ttl = vault.settings.posture.overview_cache_seconds
    cache = OverviewCache(vault.home, f"callvault-{vault.settings.tls_profile}", ttl=float(ttl))
    setattr(state, STATE_ATTRIBUTE, cache)
    return cache


@router.get(
    "/overview",
    summary="The posture overview the dashboard shows (computed from the live system)",
    responses=errors(),
)
async def get_overview(
    request: Request,
    _: Annotated[Principal, require(Action.POSTURE_READ, ev.POSTURE_READ)],
) -> PostureOverview:
    overview = await overview_cache(request).get()
    # The point of no return: durable before the view leaves, naming the snapshot read.
    point = functools.partial(trail(request).point, detail={"facts": overview.facts_sha256})
    await anyio.to_thread.run_sync(point)
    return overview


HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
"""The rendered document has inline styles and nothing else: no script, no other origin."""

_DOCUMENT_TYPES: dict[str, str] = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


@router.get(
    "",
    summary="The encryption posture document, rendered from the same facts as the overview",
    response_class=Response,
    responses={
        **errors(),
        200: {"content": {t.split(";")[0]: {} for t in _DOCUMENT_TYPES.values()}},
    },
)
async def get_document(
    request: Request,
    _: Annotated[Principal, require(Action.POSTURE_READ, ev.POSTURE_DOCUMENT)],
    format: Annotated[Literal["json", "md", "html", "pdf"], Query()] = "json",
) -> Response:
    facts, _overview = await overview_cache(request).snapshot()
    document = PostureDocument(facts)
    render = {
        "json": lambda: canonical_json(document.as_json()),
        "md": lambda: document.markdown().encode(),
        "html": lambda: document.html().encode(),
        "pdf": document.pdf,
    }[format]
    body = await anyio.to_thread.run_sync(render)
    point = functools.partial(
        trail(request).point, detail={"facts": facts.sha256(), "format": format}
    )
    await anyio.to_thread.run_sync(point)
    headers = {"cache-control": "no-store"}
    if format == "html":  # the document's own CSP: inline styles, no script, nothing else
        headers["content-security-policy"] = HTML_CSP
    return Response(body, media_type=_DOCUMENT_TYPES[format], headers=headers)
