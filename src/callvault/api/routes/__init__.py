"""One module per resource, each a thin ``APIRouter`` over the domain (STYLE.md §14)."""

from callvault.api.routes import recordings, tenants, wellknown

__all__ = ["recordings", "tenants", "wellknown"]
