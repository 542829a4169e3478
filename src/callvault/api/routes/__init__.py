"""One module per resource, each a thin ``APIRouter`` over the domain (STYLE.md §14)."""

from callvault.api.routes import (
    analytics,
    dashboard,
    keys,
    recordings,
    tenants,
    transcripts,
    wellknown,
)

__all__ = ["analytics", "dashboard", "keys", "recordings", "tenants", "transcripts", "wellknown"]
