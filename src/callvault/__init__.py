"""callvault: encryption by default for voice-AI call data.

The documented surface::

    from callvault import Vault, DataClass
    vault = Vault.open_home(Path("~/.callvault").expanduser())
    ctx = vault.context("acme", DataClass.RECORDING, "call-42", subject="+15551234567")
    sealed = vault.seal(ctx, audio)
    assert vault.open(ctx, sealed) == audio

Errors are in ``callvault.errors``; the format in ``callvault.format`` (docs/format.md).
"""

from callvault._ids import DataClass, Environment
from callvault._vault import InitResult, Vault
from callvault.errors import (
    CallvaultError,
    ConfigError,
    EnvironmentMismatch,
    InvalidRequest,
    KeyDestroyed,
    KeyExists,
    KeyNotFound,
    KeyUnavailable,
    OpenError,
    ProviderUnreachable,
    TenantExists,
)
from callvault.format import ObjectContext, RangeReader

__all__ = [
    "CallvaultError",
    "ConfigError",
    "DataClass",
    "Environment",
    "EnvironmentMismatch",
    "InitResult",
    "InvalidRequest",
    "KeyDestroyed",
    "KeyExists",
    "KeyNotFound",
    "KeyUnavailable",
    "ObjectContext",
    "OpenError",
    "ProviderUnreachable",
    "RangeReader",
    "TenantExists",
    "Vault",
]

__version__ = "0.1.0"
