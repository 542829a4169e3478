"""``create_app``: the FastAPI application of ``callvault serve``.

The app is plain ASGI: it knows nothing of TLS (the listener does, see ``cli._serve``) and
holds no globals (``app.state.services``). Errors of every kind leave as the one JSON shape
of ``_errors``; framework errors (unknown route, wrong method, a body that fails its schema)
are mapped to it too, with validation failures as 400 rather than FastAPI's 422 (DESIGN.md
lists 400 for bad input). Interactive docs pages are off: they load scripts from a CDN,
which a TLS-only, no-third-party service should not serve; ``/openapi.json`` stays.

Each handler first closes the request's audit trail (``api._audit``) with the failure's
kind, so an authorized request that fails is in the audit log as well as one that succeeds.
"""

from __future__ import annotations

import logging

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from callvault._vault import Vault
from callvault.api._audit import trail_of
from callvault.api._errors import RangeNotSatisfiable, error_body, map_error
from callvault.api._headers import SecurityHeadersMiddleware
from callvault.api._limits import BodyLimitMiddleware
from callvault.api._services import ApiServices
from callvault.api._trace import CallTraceMiddleware
from callvault.api.routes import ROUTERS
from callvault.auth import AuthenticationError
from callvault.errors import CallvaultError, InvalidRequest

__all__ = ["create_app"]

log = logging.getLogger("callvault.api")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def create_app(vault: Vault, *, services: ApiServices | None = None) -> FastAPI:
    """The API over ``vault``; ``services`` defaults to the stores its settings name."""
    app = FastAPI(
        title="callvault",
        version="0.1.0",
        summary="Encrypted storage of call recordings and transcripts, TLS 1.3 only.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.services = services or ApiServices.from_settings(vault)
    app.add_middleware(BodyLimitMiddleware, max_bytes=vault.settings.api.max_json_bytes)
    if vault.settings.api.trace_calls:
        app.add_middleware(CallTraceMiddleware, home=vault.home)
    app.add_middleware(SecurityHeadersMiddleware)  # added last: outermost, wraps the 413 too
    app.add_exception_handler(CallvaultError, _callvault_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    for router in ROUTERS:
        app.include_router(router)
    return app


async def _close_trail(request: Request, exc: BaseException) -> None:
    """Log the failure in the request's audit trail; an audit failure here is only logged:
    the request already fails, and nothing it did is acknowledged."""
    trail = trail_of(request)
    if trail is None:
        return
    try:
        await anyio.to_thread.run_sync(trail.failed, exc)
    except CallvaultError:
        log.error("could not log the failure of %s %s", request.method, request.url.path)


async def _callvault_error(request: Request, exc: Exception) -> JSONResponse:
    await _close_trail(request, exc)
    status, code, message = map_error(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationError):
        headers["www-authenticate"] = 'Bearer realm="callvault"'
        log.info("401 %s %s: %s", request.method, request.url.path, exc.reason)
    elif isinstance(exc, RangeNotSatisfiable):
        headers["content-range"] = f"bytes */{exc.length}"
    elif status == 503:
        headers["retry-after"] = "5"
    if status >= 500:
        log.error("%d %s on %s %s", status, type(exc).__name__, request.method, request.url.path)
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    await _close_trail(request, InvalidRequest("request validation"))
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
    return JSONResponse(error_body("invalid_request", message), status_code=400)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything outside the error tree: a 500 (Starlette logs the traceback after)."""
    await _close_trail(request, exc)
    status, code, message = map_error(exc)
    return JSONResponse(error_body(code, message), status_code=status)
