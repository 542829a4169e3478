"""SPIFFE IDs (``spiffe://<trust-domain>/<path>``), parsed strictly.

The rules are the SPIFFE ID specification's (github.com/spiffe/spiffe, standards/SPIFFE-ID.md):
trust domain of lower-case letters, digits, ``.``, ``-``, ``_``; a non-empty path of
segments of letters, digits, ``.``, ``-``, ``_``; no empty, ``.`` or ``..`` segments; no
query, fragment, port or user info; at most 2048 bytes. Anything else is refused, never
normalised: two spellings of one identity would let an authorisation policy be bypassed.

Services that callvault *issues* to are one path segment (``spiffe://td/api``), because the
service name also names a directory; peers with deeper paths still parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callvault.errors import InvalidRequest

__all__ = ["SpiffeId", "check_service_name", "check_trust_domain"]

_SCHEME = "spiffe://"
_MAX_LEN = 2048
_TRUST_DOMAIN = re.compile(r"[a-z0-9._-]+")
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


def check_trust_domain(value: str) -> str:
    """``value`` if it is a valid trust domain name, else :class:`InvalidRequest`."""
    if not _TRUST_DOMAIN.fullmatch(value) or len(value) > 255 or value.strip(".") != value:
        raise InvalidRequest(
            f"not a SPIFFE trust domain: {value!r} (lower-case letters, digits, '.', '-', '_')"
        )
    return value


def check_service_name(value: str) -> str:
    """``value`` if it is an issuable service name (one lower-case path segment)."""
    if not _SERVICE.fullmatch(value) or value in {".", ".."}:
        raise InvalidRequest(
            f"not a service name: {value!r} (1-63 of a-z, 0-9, '.', '-', '_'; "
            "starting with a letter or digit)"
        )
    return value


@dataclass(frozen=True, slots=True)
class SpiffeId:
    """A parsed SPIFFE ID; ``str()`` gives the canonical (and only accepted) spelling."""

    trust_domain: str
    path: str
    """Starts with ``/``; never empty for a workload."""

    @classmethod
    def for_service(cls, trust_domain: str, service: str) -> SpiffeId:
        return cls(check_trust_domain(trust_domain), "/" + check_service_name(service))

    @classmethod
    def parse(cls, value: str) -> SpiffeId:
        """Parse a workload SPIFFE ID or raise :class:`InvalidRequest`."""
        if len(value.encode()) > _MAX_LEN or not value.startswith(_SCHEME):
            raise InvalidRequest(f"not a SPIFFE ID: {value[:80]!r}")
        rest = value[len(_SCHEME) :]
        domain, slash, path = rest.partition("/")
        if not slash or not path:
            raise InvalidRequest(f"SPIFFE ID without a workload path: {value[:80]!r}")
        check_trust_domain(domain)
        for segment in path.split("/"):
            if not _SEGMENT.fullmatch(segment) or segment in {".", ".."}:
                raise InvalidRequest(f"bad SPIFFE ID path segment in {value[:80]!r}")
        return cls(domain, "/" + path)

    @property
    def service(self) -> str:
        """The path without its leading ``/`` (the service name for callvault's IDs)."""
        return self.path[1:]

    def __str__(self) -> str:
        return f"{_SCHEME}{self.trust_domain}{self.path}"
