"""KMS providers addressed by URI scheme.

Adding a provider is one module, one line in ``_FACTORIES`` and its tests. Each factory
receives the parsed URI and the runtime settings it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from callvault._ids import Environment
from callvault.errors import ConfigError
from callvault.keys.providers._base import KmsProvider
from callvault.keys.providers._local import LocalKms
from callvault.keys.providers._root_key import resolve_root_key

__all__ = ["ProviderSettings", "open_provider", "supported_schemes"]


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """What a provider factory may use: the home directory and the environment."""

    home: Path
    environment: Environment


def _local(uri: str, settings: ProviderSettings) -> KmsProvider:
    parts = urlsplit(uri)
    relative = (parts.netloc + parts.path).strip("/") or "keys/keyring.cvkr"
    path = Path(relative) if Path(relative).is_absolute() else settings.home / relative
    return LocalKms(path, resolve_root_key(settings.home), settings.environment)


_FACTORIES: dict[str, Callable[[str, ProviderSettings], KmsProvider]] = {
    "local": _local,
}


def supported_schemes() -> list[str]:
    return sorted(_FACTORIES)


def open_provider(uri: str, settings: ProviderSettings) -> KmsProvider:
    scheme = urlsplit(uri).scheme
    factory = _FACTORIES.get(scheme)
    if factory is None:
        raise ConfigError(
            f"unknown KMS provider {uri!r}; supported schemes: "
            + ", ".join(f"{s}://" for s in supported_schemes())
        )
    return factory(uri, settings)
