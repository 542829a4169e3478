"""The scanner's one error: the target could not be scanned at all.

A closed port, a timeout, a peer that does not speak TLS, a name that does not resolve:
the scan produces no report rather than a report that reads as "nothing accepted", which
a caller could mistake for a hardened server. Defined here (as the transport package
defines ``TlsPolicyError``) rather than in ``callvault.errors``; it is a plain
:class:`~callvault.errors.CallvaultError` because the cause is the target, not our config.
"""

from __future__ import annotations

from callvault.errors import CallvaultError

__all__ = ["ScanError"]


class ScanError(CallvaultError):
    """The target could not be scanned (unreachable, timed out, or not TLS)."""
