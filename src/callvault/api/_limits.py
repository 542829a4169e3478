"""A byte limit on every request body except a recording upload.

JSON documents (tenants, transcripts, analytics) are parsed and sealed in memory, so
without a limit one request could make the server hold gigabytes. Recording uploads are
streamed in constant memory and have their own, larger limit (``max_recording_bytes``).
A ``Content-Length`` over the limit is refused before the body is read; a chunked body is
counted as it arrives: past the limit the app is told the client disconnected (it stops
reading and stores nothing), whatever it would answer is dropped, and the client gets 413.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callvault.api._errors import error_body

__all__ = ["BodyLimitMiddleware"]

_RECORDING_UPLOAD = re.compile(r"/v1/tenants/[^/]+/recordings/[^/]+")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] == "PUT" and _RECORDING_UPLOAD.fullmatch(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _refuse(send, self.max_bytes)
            return
        seen = 0
        overflowed = False

        async def counted_receive() -> Message:
            nonlocal seen, overflowed
            if overflowed:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Tell the app the client went away: it stops reading and stores nothing.
                    overflowed = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not overflowed:  # after an overflow only our 413 goes out
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not overflowed:
                raise
        if overflowed:
            await _refuse(send, self.max_bytes)


async def _refuse(send: Send, max_bytes: int) -> None:
    body = json.dumps(
        error_body("payload_too_large", f"request body is over {max_bytes} bytes")
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
