"""Bearer authentication and per-route authorization as FastAPI dependencies.

``authenticated`` turns ``Authorization: Bearer …`` into a ``Principal``: a value starting
``cvk_`` is a customer API key (``ApiKeyStore.verify``), anything else a JWT
(``TokenService.verify``). Failures are ``AuthenticationError`` (401, one message).

``require(Action.X, EVENT)`` is the only way a route gets its principal: it authenticates,
then calls ``authorize`` with the tenant from the path for tenant-scoped actions, and opens
the request's audit ``Trail`` for ``EVENT`` (a refusal is logged as ``denied`` before the
403 leaves; see ``api._audit``). The action is
attached to the dependency (``ACTION_ATTRIBUTE``) so a test can prove that every route but
the public ones (``PUBLIC_PATHS``) is guarded. Authorization runs before anything looks the
tenant up, so a token of another tenant gets 403 whether or not the tenant exists.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import anyio.to_thread
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from callvault.api._audit import Event, Trail, open_trail
from callvault.api._dashboard import PATHS as DASHBOARD_PATHS
from callvault.api._services import ApiServices
from callvault.auth import (
    Action,
    AuthenticationError,
    AuthorizationError,
    Principal,
    Scope,
    authorize,
    default_table,
)
from callvault.keys import set_actor

__all__ = ["ACTION_ATTRIBUTE", "PUBLIC_PATHS", "authenticated", "require", "services"]

ACTION_ATTRIBUTE: Final = "__callvault_action__"
# Public: the JWKS and the API description (nothing secret), and the dashboard's static
# files, which are the same bytes for everyone and fetch every datum through guarded routes.
PUBLIC_PATHS: Final = frozenset({"/.well-known/jwks.json", "/openapi.json", *DASHBOARD_PATHS})

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A JWT from `callvault token` or a customer API key (`cvk_…`).",
)


def services(request: Request) -> ApiServices:
    found: ApiServices = request.app.state.services
    return found


def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    if credentials is None:
        raise AuthenticationError("no bearer credential")
    presented = credentials.credentials
    found = services(request)
    if presented.startswith("cvk_"):
        return found.api_keys.verify(presented)
    return found.tokens.verify(presented)


def actor_of(principal: Principal) -> str:
    """How key events and logs name a caller: role, tenant, credential id (never a secret)."""
    return f"{principal.role}/{principal.tenant or 'platform'}/{principal.token_id}"


def require(action: Action, event: Event) -> Any:
    """A dependency: the authenticated principal, authorized for ``action``; the request's
    audit trail is ``event`` (``api._audit_events``)."""
    tenant_scoped = default_table().actions[action].scope is Scope.TENANT

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(authenticated)]
    ) -> Principal:
        tenant = request.path_params.get("tenant") if tenant_scoped else None
        if tenant_scoped and tenant is None:
            raise RuntimeError(f"{action} is tenant-scoped but the route has no {{tenant}}")
        actor = actor_of(principal)
        trail = open_trail(request, Trail(services(request).audit, actor, event, tenant))
        try:
            authorize(principal, action, tenant)
        except AuthorizationError as exc:
            await anyio.to_thread.run_sync(trail.failed, exc)  # durable before the 403
            raise
        if event.on_success:
            await anyio.to_thread.run_sync(trail.check)
        # Async on purpose: set in the request's own task, the actor reaches the route (and
        # its thread-pool calls) through the copied context, so key events name who it was.
        set_actor(actor)
        return principal

    setattr(dependency, ACTION_ATTRIBUTE, action)
    return Depends(dependency)
