"""The operator dashboard's static files (HTML, CSS, JS shipped inside the package).

Why served by the API itself: a page that pulls scripts or fonts from a CDN hands whoever
runs that CDN the bearer tokens typed into it. Everything the page needs is here, served
from the API's own origin under ``Content-Security-Policy: default-src 'self'`` (no inline
script or style, no other origin, not framable), and all data it shows comes from the
guarded JSON API with the token the operator pastes. The files themselves hold nothing
secret, which is why their paths (``PATHS``) are public.

The posture view's data (``GET /v1/posture/overview``) is built here too, from the live
posture facts: ``_models`` (the JSON), ``_overview`` (selection from the facts), ``_grade``
(the overview grade rule) and ``_cache`` (one collection per period, off the event loop).
They are imported by ``api.routes.posture`` only, not at package import: the static files
stay cheap to serve.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

__all__ = ["CONTENT_SECURITY_POLICY", "PATHS", "asset"]

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "object-src 'none'"
)

_FILES: Final = {
    "/dashboard": ("index.html", "text/html; charset=utf-8"),
    "/dashboard/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/dashboard/app.css": ("app.css", "text/css; charset=utf-8"),
}

PATHS: Final = frozenset(_FILES)


@cache
def asset(path: str) -> tuple[bytes, str]:
    """The bytes and media type of the file served at ``path`` (one of ``PATHS``)."""
    name, media_type = _FILES[path]
    return resources.files(__name__).joinpath(name).read_bytes(), media_type
