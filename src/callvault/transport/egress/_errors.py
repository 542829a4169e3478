"""Why an outbound connection was refused.

``EgressRefused`` is raised by the factory's transport, after the TLS handshake and
before any request byte is written, when the live connection breaks the provider's policy:
a pin mismatch, a protocol or suite outside the provider's profile, or a plaintext URL. It
is not a ``ConfigError``: the cause is the peer (or a request URL), not our settings.
Handshake failures (untrusted certificate, wrong hostname, no common protocol or suite)
stay ``httpx.ConnectError``, as with any httpx client; both kinds are recorded as
evidence. An unknown provider name is a ``ConfigError``.
"""

from __future__ import annotations

from callvault.errors import CallvaultError

__all__ = ["EgressRefused", "PinMismatch"]


class EgressRefused(CallvaultError):
    """The provider connection broke the egress policy; no request was sent on it."""


class PinMismatch(EgressRefused):
    """The provider's certificate key matches none of its configured SPKI pins."""
