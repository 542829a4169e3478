"""Outbound TLS to STT/LLM/TTS providers: one client factory, pins, and evidence.

The surface::

    from callvault.transport.egress import egress_client
    with egress_client("deepgram", headers={"Authorization": f"Token {key}"}) as client:
        client.post("/v1/listen", content=audio)

Providers are configured in ``[egress.providers.<name>]`` (:class:`EgressProviderSettings`);
every new connection is checked (TLS 1.3 floor, allowlisted suite, optional SPKI pins)
before a request byte is sent, and recorded in ``<home>/egress/evidence.json``
(:class:`EvidenceStore`, printed by ``callvault egress report``). The rules are in
docs/protocols/tls.md, section "Egress".

The factories (and httpx, ~0.2 s to import) load on first use, so ``callvault.config``
can embed the settings model without slowing every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callvault.transport.egress._errors import EgressRefused, PinMismatch
from callvault.transport.egress._evidence import (
    EVIDENCE_FILE,
    EVIDENCE_FORMAT,
    EgressEvidence,
    EvidenceStore,
)
from callvault.transport.egress._settings import (
    EgressProviderSettings,
    EgressSettings,
    parse_pin,
)

if TYPE_CHECKING:
    from callvault.transport.egress._factory import (
        async_egress_client,
        egress_client,
        provider_policy,
    )
    from callvault.transport.egress._guard import ProviderPolicy, spki_pin

__all__ = [
    "EVIDENCE_FILE",
    "EVIDENCE_FORMAT",
    "EgressEvidence",
    "EgressProviderSettings",
    "EgressRefused",
    "EgressSettings",
    "EvidenceStore",
    "PinMismatch",
    "ProviderPolicy",
    "async_egress_client",
    "egress_client",
    "parse_pin",
    "provider_policy",
    "spki_pin",
]

_LAZY = {
    "async_egress_client": "_factory",
    "egress_client": "_factory",
    "provider_policy": "_factory",
    "ProviderPolicy": "_guard",
    "spki_pin": "_guard",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)
