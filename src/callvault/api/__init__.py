"""The vault's HTTPS API (issue 3): FastAPI over the library, served TLS-only by
``callvault serve``.

``create_app(vault)`` builds the ASGI app over a home directory's embedded stores
(``ApiServices.embedded``), or over any ``ApiServices`` (S3 objects, PostgreSQL records).
Routes: ``/.well-known/jwks.json``, ``/openapi.json``, ``/v1/tenants``, and per tenant
``recordings/{id}``, ``transcripts`` (with blind-index search by caller) and ``analytics``;
every route but the first two is guarded by ``require(Action…)``. Error statuses are the
table in ``_errors``.
"""

from callvault.api._app import create_app
from callvault.api._auth import PUBLIC_PATHS, require
from callvault.api._errors import (
    STATUS_TABLE,
    ApiError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    map_error,
)
from callvault.api._services import OBJECTS_DIR, ApiServices

__all__ = [
    "OBJECTS_DIR",
    "PUBLIC_PATHS",
    "STATUS_TABLE",
    "ApiError",
    "ApiServices",
    "Conflict",
    "NotFound",
    "PayloadTooLarge",
    "RangeNotSatisfiable",
    "create_app",
    "map_error",
    "require",
]
