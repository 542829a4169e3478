"""``/dashboard``: the operator page and its script and stylesheet (``api._dashboard``).

These three paths are public (``PUBLIC_PATHS``): they are the same static bytes for
everyone and carry no data; the page asks for a token and fetches everything it shows from
the guarded ``/v1`` routes. Each response carries a strict Content-Security-Policy so the
page can run no script and load nothing but these files from this origin.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from callvault.api._dashboard import CONTENT_SECURITY_POLICY, PATHS, asset

router = APIRouter(tags=["dashboard"], include_in_schema=False)


def _serve(request: Request) -> Response:
    body, media_type = asset(request.url.path)
    return Response(
        body,
        media_type=media_type,
        headers={
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
        },
    )


for _path in sorted(PATHS):
    router.add_api_route(_path, _serve, methods=["GET"], summary=f"Dashboard {_path}")
