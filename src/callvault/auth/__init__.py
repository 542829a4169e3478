"""Authentication and authorization primitives for the vault service (no HTTP here).

* ``SigningKeyRing``: Ed25519 JWT signing keys, KMS-wrapped at rest, rotated quarterly,
  retired keys honoured for a grace period; ``jwks()`` is ``/.well-known/jwks.json``.
* ``TokenService``: ``mint(role, tenant, ttl=…)`` and ``verify(token) -> Principal``.
* ``ApiKeyStore``: customer API keys, shown once, stored as keyed hashes; verifying one
  yields the same ``Principal``.
* ``authorize(principal, action, tenant)``: the role-by-action table of
  ``permissions.json`` (rendered in docs/auth.md); ``permits`` is its yes/no form (for
  actions that widen a response, like ``transcripts:read-sensitive``) and ``check_grant``
  the rule for the role of a credential a principal issues.

``AuthenticationError`` maps to HTTP 401, ``AuthorizationError`` to 403. Typical use::

    ring = SigningKeyRing(vault.home, vault.provider)
    tokens = TokenService(ring)
    principal = tokens.verify(bearer)
    authorize(principal, Action.TRANSCRIPTS_READ, tenant="acme")
"""

from callvault.auth._api_key_model import DEFAULT_API_KEYS, ApiKeyInfo, ApiKeyPolicy, NewApiKey
from callvault.auth._api_keys import API_KEY_FILE, ApiKeyStore
from callvault.auth._doc import render_permission_markdown
from callvault.auth._errors import AuthenticationError, AuthError, AuthorizationError
from callvault.auth._model import Action, Clock, CredentialKind, Principal, Role
from callvault.auth._policy import (
    ActionRule,
    PermissionTable,
    RoleRule,
    Scope,
    authorize,
    check_grant,
    default_table,
    load_permission_table,
    permits,
)
from callvault.auth._signing import (
    DEFAULT_ROTATION,
    SIGNING_KEY_FILE,
    RotationPolicy,
    SigningKeyInfo,
    SigningKeyRing,
)
from callvault.auth._tokens import DEFAULT_TTL, LEEWAY, MAX_TTL, TokenService, TokenSettings

__all__ = [
    "API_KEY_FILE",
    "DEFAULT_API_KEYS",
    "DEFAULT_ROTATION",
    "DEFAULT_TTL",
    "LEEWAY",
    "MAX_TTL",
    "SIGNING_KEY_FILE",
    "Action",
    "ActionRule",
    "ApiKeyInfo",
    "ApiKeyPolicy",
    "ApiKeyStore",
    "AuthError",
    "AuthenticationError",
    "AuthorizationError",
    "Clock",
    "CredentialKind",
    "NewApiKey",
    "PermissionTable",
    "Principal",
    "Role",
    "RoleRule",
    "RotationPolicy",
    "Scope",
    "SigningKeyInfo",
    "SigningKeyRing",
    "TokenService",
    "TokenSettings",
    "authorize",
    "check_grant",
    "default_table",
    "load_permission_table",
    "permits",
    "render_permission_markdown",
]
