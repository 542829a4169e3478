"""KMS providers behind one Protocol, chosen by URI scheme (``local://`` today)."""

from callvault.keys.providers._base import KeyDescription, KeyState, KmsProvider, WrappedKey
from callvault.keys.providers._local import LocalKms
from callvault.keys.providers._registry import ProviderSettings, open_provider, supported_schemes
from callvault.keys.providers._root_key import create_root_key_file, resolve_root_key
from callvault.keys.providers._scoping import check_key_environment

__all__ = [
    "KeyDescription",
    "KeyState",
    "KmsProvider",
    "LocalKms",
    "ProviderSettings",
    "WrappedKey",
    "check_key_environment",
    "create_root_key_file",
    "open_provider",
    "resolve_root_key",
    "supported_schemes",
]
