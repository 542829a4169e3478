"""KMS providers addressed by URI scheme, and the stack every provider is served through.

Adding a provider is one module, one line in ``_FACTORIES`` and its backend file in the
provider suite (tests/keys/providers). Factories are named by module path and imported on
first use: the AWS, Vault and PKCS#11 clients cost hundreds of milliseconds to import, and
every CLI command (and a deployment without those extras) should not pay for them.

``open_provider`` returns the provider wrapped as ``AuditedProvider(ResilientProvider(p))``
(docs/keys.md, "The provider stack"): every key operation is reported as a ``KeyEvent``
to ``settings.events``, and transient failures are retried behind a circuit breaker.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from callvault._ids import Environment
from callvault.errors import ConfigError
from callvault.keys._events import KeyEventSink, LoggingKeyEvents
from callvault.keys.providers._audited import AuditedProvider
from callvault.keys.providers._base import KmsProvider
from callvault.keys.providers._local import LocalKms
from callvault.keys.providers._resilient import ResilientProvider, RetryPolicy
from callvault.keys.providers._root_key import resolve_root_key

__all__ = ["ProviderSettings", "open_bare_provider", "open_provider", "supported_schemes"]

Factory = Callable[[str, "ProviderSettings"], KmsProvider]


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """What a provider factory may use: the home directory and the environment; and where
    the stack sends key events and how it retries."""

    home: Path
    environment: Environment
    events: KeyEventSink = field(default_factory=LoggingKeyEvents)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def _local(uri: str, settings: ProviderSettings) -> KmsProvider:
    parts = urlsplit(uri)
    relative = (parts.netloc + parts.path).strip("/") or "keys/keyring.cvkr"
    path = Path(relative) if Path(relative).is_absolute() else settings.home / relative
    return LocalKms(path, resolve_root_key(settings.home), settings.environment)


_FACTORIES: dict[str, str | Factory] = {
    "aws": "callvault.keys.providers._aws:open_aws_kms",
    "keyd": "callvault.keys.providers._remote:open_remote_kms",  # keyd over mTLS
    "local": _local,
    "pkcs11": "callvault.keys.providers._pkcs11_config:open_pkcs11",
    # vault+http is refused unless allow_plaintext_endpoint_for_tests=true
    "vault+http": "callvault.keys.providers._vault:open_vault",
    "vault+https": "callvault.keys.providers._vault:open_vault",
}


def supported_schemes() -> list[str]:
    return sorted(_FACTORIES)


def _factory(uri: str) -> Factory:
    scheme = urlsplit(uri).scheme
    found = _FACTORIES.get(scheme)
    if found is None:
        raise ConfigError(
            f"unknown KMS provider {uri!r}; supported schemes: "
            + ", ".join(f"{s}://" for s in supported_schemes())
        )
    if isinstance(found, str):
        module, _, name = found.partition(":")
        factory: Factory = getattr(importlib.import_module(module), name)
        return factory
    return found


def open_bare_provider(uri: str, settings: ProviderSettings) -> KmsProvider:
    """The provider alone, without retries or events (tests of the provider itself)."""
    return _factory(uri)(uri, settings)


def open_provider(uri: str, settings: ProviderSettings) -> KmsProvider:
    inner = ResilientProvider(open_bare_provider(uri, settings), settings.retry)
    return AuditedProvider(inner, settings.events)
