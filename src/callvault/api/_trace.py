"""Per-call encryption traces for requests that name their call.

A voice pipeline sends ``X-Callvault-Call-Id: <call id>`` with each request it makes for a
call; with ``[api] trace_calls = true`` the request runs inside that call's
:class:`~callvault.transport.trace.CallTrace`, so every hop it uses (keyd, PostgreSQL, the
object store, KMS clients) and every key it uses at rest is appended to
``<home>/traces/<call id>.jsonl``, beside the events other processes of the same call add.
A malformed call id is refused with 400 before the request runs: it names a file.
The request's own line (method, path, status) is written when the answer starts, before
any byte of it leaves, so a client holding the answer finds it in the trace. Only those
three are recorded about the request itself: never the
query (it may carry a caller's number), a header or the body.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callvault.api._errors import error_body
from callvault.errors import InvalidRequest
from callvault.transport.trace import CALL_ID_HEADER, TRACE_DIR, CallTrace, tracing

__all__ = ["CallTraceMiddleware"]

_HEADER = CALL_ID_HEADER.encode()


class CallTraceMiddleware:
    def __init__(self, app: ASGIApp, home: Path) -> None:
        self.app = app
        self.directory = home / TRACE_DIR

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        call_id = None
        if scope["type"] == "http":
            call_id = dict(scope.get("headers", [])).get(_HEADER)
        if call_id is None:
            await self.app(scope, receive, send)
            return
        try:
            trace = CallTrace(self.directory, call_id.decode("latin-1"), process="api")
        except InvalidRequest as exc:
            await _refuse(send, str(exc))
            return
        status, recorded = 0, False

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                trace.append(
                    {
                        "kind": "request",
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                    }
                )

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                record()  # before any byte of the answer leaves: a client that has it
            await send(message)  # finds the request in the trace

        with tracing(trace):
            try:
                await self.app(scope, receive, send_traced)
            finally:
                record()  # no complete answer (the app failed, or the client left)


async def _refuse(send: Send, message: str) -> None:
    body = json.dumps(error_body("invalid_request", message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
