"""``erasures.json``: erasure requests, durable (atomic write, cross-process lock).

A subject request must remember *who* to erase for up to 30 days, yet the file must never
hold a caller's number in clear. So it keeps the blind id (for listing and matching) and
the subject itself sealed under the tenant's key, bound to the request id; the sealed
subject is dropped when the request finishes (cancelled or done), so after an erasure not
even a sealed copy of the number is left here.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from callvault._json_store import JsonStore
from callvault.erasure._model import ErasureKind, ErasureRequest, ErasureState, RecordKind
from callvault.errors import ConfigError, InvalidRequest, KeyNotFound

__all__ = ["ERASURES_FILE", "ErasureStore", "new_erasure_id"]

ERASURES_FILE = "erasures.json"
_FORMAT = "callvault-erasures/v1"


def new_erasure_id() -> str:
    return "er_" + secrets.token_hex(12)


class ErasureStore:
    def __init__(self, home: Path) -> None:
        self._store = JsonStore(home / ERASURES_FILE, lambda: {"format": _FORMAT, "requests": {}})

    def add(self, request: ErasureRequest, sealed_subject: bytes | None) -> None:
        entry = _entry(request)
        if sealed_subject is not None:
            entry["sealed_subject"] = base64.b64encode(sealed_subject).decode()
        with self._store.transaction() as doc:
            if request.id in doc["requests"]:
                raise InvalidRequest(f"erasure {request.id} exists")
            doc["requests"][request.id] = entry

    def get(self, erasure_id: str) -> ErasureRequest:
        entry = self._store.read()["requests"].get(erasure_id)
        if entry is None:
            raise KeyNotFound(f"no erasure {erasure_id}")
        return _request(erasure_id, entry)

    def sealed_subject(self, erasure_id: str) -> bytes | None:
        found = self._store.read()["requests"].get(erasure_id, {}).get("sealed_subject")
        return base64.b64decode(found) if found else None

    def list_requests(self, tenant: str | None = None) -> list[ErasureRequest]:
        requests = self._store.read()["requests"]
        found = [_request(i, e) for i, e in requests.items()]
        return sorted(
            (r for r in found if tenant is None or r.tenant == tenant),
            key=lambda r: (r.requested_at, r.id),
        )

    def transition(
        self,
        erasure_id: str,
        allowed: Callable[[ErasureRequest], str | None],
        state: ErasureState,
        at: datetime,
        receipt: str | None = None,
    ) -> ErasureRequest:
        """Move one request to ``state`` if ``allowed`` (reading the stored request) returns
        no objection; the objection becomes ``InvalidRequest``. Checked and written under the
        file lock, so two processes cannot both cancel and run one request."""
        with self._store.transaction() as doc:
            entry = doc["requests"].get(erasure_id)
            if entry is None:
                raise KeyNotFound(f"no erasure {erasure_id}")
            objection = allowed(_request(erasure_id, entry))
            if objection is not None:
                raise InvalidRequest(objection)
            entry["state"] = state.value
            if state in (ErasureState.CANCELLED, ErasureState.DONE):
                entry["finished_at"] = at.isoformat()
                entry.pop("sealed_subject", None)
            if receipt is not None:
                entry["receipt"] = receipt
            return _request(erasure_id, entry)


def _entry(request: ErasureRequest) -> dict[str, Any]:
    entry = request.as_json()
    del entry["id"], entry["has_receipt"]
    return entry


def _request(erasure_id: str, entry: dict[str, Any]) -> ErasureRequest:
    try:
        finished = entry.get("finished_at")
        return ErasureRequest(
            id=erasure_id,
            tenant=str(entry["tenant"]),
            kind=ErasureKind(entry["kind"]),
            target=str(entry["target"]),
            record_kind=RecordKind(entry["record_kind"]) if entry.get("record_kind") else None,
            state=ErasureState(entry["state"]),
            grace_days=int(entry["grace_days"]),
            requested_at=datetime.fromisoformat(entry["requested_at"]),
            due_at=datetime.fromisoformat(entry["due_at"]),
            finished_at=datetime.fromisoformat(finished) if finished else None,
            receipt=entry.get("receipt"),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"{ERASURES_FILE}: malformed erasure {erasure_id}: {exc}") from None
