"""One module per resource, each a thin ``APIRouter`` over the domain (STYLE.md §14).

``ROUTERS`` is the registry: ``create_app`` mounts exactly these, in this order, so adding a
resource is one module and one line here, and the route-table tests see it at once.
"""

from typing import Final

from fastapi import APIRouter

from callvault.api.routes import (
    analytics,
    api_keys,
    audit,
    dashboard,
    erasures,
    keys,
    posture,
    recordings,
    tenants,
    transcripts,
    wellknown,
)

ROUTERS: Final[tuple[APIRouter, ...]] = (
    wellknown.router,
    tenants.router,
    recordings.router,
    transcripts.router,
    analytics.router,
    erasures.router,
    keys.router,
    api_keys.router,
    audit.router,
    posture.router,
    dashboard.router,
)

__all__ = [
    "ROUTERS",
    "analytics",
    "api_keys",
    "audit",
    "dashboard",
    "erasures",
    "keys",
    "posture",
    "recordings",
    "tenants",
    "transcripts",
    "wellknown",
]
