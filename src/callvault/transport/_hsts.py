"""The Strict-Transport-Security value every HTTPS response of the API carries.

Two years (63072000 s) is the value browsers' preload lists require and long enough that a
returning client never falls back to plain HTTP between visits; ``includeSubDomains``
because every callvault host is HTTPS-only. ``preload`` is deliberately absent: submitting
a domain to the preload list binds every subdomain of the operator's registrable domain,
which is the operator's decision, not the library's.
"""

from __future__ import annotations

from typing import Final

__all__ = ["HSTS_HEADER", "HSTS_HEADER_VALUE", "HSTS_MAX_AGE_SECONDS"]

HSTS_HEADER: Final = "Strict-Transport-Security"
HSTS_MAX_AGE_SECONDS: Final = 63_072_000
HSTS_HEADER_VALUE: Final = f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"
