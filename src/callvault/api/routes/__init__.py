"""One module per resource, each a thin ``APIRouter`` over the domain (STYLE.md §14)."""

from callvault.api.routes import analytics, recordings, tenants, transcripts, wellknown

__all__ = ["analytics", "recordings", "tenants", "transcripts", "wellknown"]
