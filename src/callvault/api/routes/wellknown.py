"""``GET /.well-known/jwks.json``: the public keys that verify the API's tokens.

Public on purpose (anyone may verify a token; nobody can mint one from it) and cacheable
for five minutes, well under the 7-day grace period a retired signing key keeps.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from callvault.api._auth import services

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json", summary="JSON Web Key Set of the token signing keys")
def jwks(request: Request) -> Any:
    return JSONResponse(
        services(request).keyring.jwks(), headers={"cache-control": "public, max-age=300"}
    )
