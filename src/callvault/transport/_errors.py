"""The transport package's one error: a TLS policy that cannot be honoured exactly.

It is a :class:`callvault.errors.ConfigError` because the cause is always the environment
(the OpenSSL build, its configuration file, a certificate path, the policy data), never the
peer; callers that already turn ``ConfigError`` into a clean refusal need no new branch.
"""

from __future__ import annotations

from callvault.errors import ConfigError

__all__ = ["TlsPolicyError"]


class TlsPolicyError(ConfigError):
    """A TLS context could not be built to the profile exactly; nothing was served."""
