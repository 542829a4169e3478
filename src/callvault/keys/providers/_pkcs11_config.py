"""Where the PKCS#11 provider finds its token and its PIN.

The URI names the module and the token, nothing secret:
``pkcs11:///usr/lib/softhsm/libsofthsm2.so?token=callvault`` (an absolute module path,
then the token label; the slot is found by label, because slot numbers move when tokens
are added). The PIN comes from ``CALLVAULT_PKCS11_PIN`` or from a file of mode 0600 named
by ``CALLVAULT_PKCS11_PIN_FILE``, never from the URI or the config file: a URI with
``pin-value`` or ``pin-source`` is refused rather than quietly used. This module imports no
PKCS#11 code, so a deployment without the ``pkcs11`` extra still imports the registry.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qsl, unquote, urlsplit

from callvault.errors import ConfigError

if TYPE_CHECKING:
    from callvault.keys.providers._base import KmsProvider
    from callvault.keys.providers._registry import ProviderSettings

__all__ = ["PIN_ENV", "PIN_FILE_ENV", "Pin", "Pkcs11Location", "open_pkcs11", "parse_pkcs11_uri"]

PIN_ENV = "CALLVAULT_PKCS11_PIN"
PIN_FILE_ENV = "CALLVAULT_PKCS11_PIN_FILE"
_EXAMPLE = "pkcs11:///usr/lib/softhsm/libsofthsm2.so?token=callvault"
_SECRET_PARAMETERS = {"pin-value", "pin-source", "pin"}
_TOKEN_LABEL_MAX = 32  # CK_TOKEN_INFO.label is 32 bytes


@dataclass(frozen=True, slots=True)
class Pkcs11Location:
    """The PKCS#11 module (a shared library) and the label of the token to use."""

    module: Path
    token: str


class Pin:
    """The user PIN; repr never shows it and it cannot be pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ConfigError("the PKCS#11 PIN is empty")
        self._value = value

    def reveal(self) -> str:
        """The PIN itself, called only right before ``C_Login``."""
        return self._value

    def __repr__(self) -> str:
        return "Pin(<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a PIN cannot be pickled")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a PIN cannot be pickled")


def parse_pkcs11_uri(uri: str) -> Pkcs11Location:
    """Validate a ``pkcs11://`` URI; every mistake is a ``ConfigError`` naming the fix."""
    parts = urlsplit(uri)
    if parts.scheme != "pkcs11":
        raise ConfigError(f"not a pkcs11:// URI; expected e.g. {_EXAMPLE}")
    if parts.netloc:
        raise ConfigError(
            f"pkcs11 URI has a host part {parts.netloc!r}; the module path must be absolute "
            f"(three slashes), e.g. {_EXAMPLE}"
        )
    if parts.fragment:
        raise ConfigError("pkcs11 URI must not have a #fragment")
    module = Path(unquote(parts.path))
    if not parts.path or not module.is_absolute() or module == Path("/"):
        raise ConfigError(f"pkcs11 URI needs the absolute path of the module, e.g. {_EXAMPLE}")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ConfigError("pkcs11 URI has a malformed query string") from None
    names = [name for name, _ in pairs]
    if _SECRET_PARAMETERS & set(names):
        raise ConfigError(
            f"pkcs11 URI must not carry the PIN; set {PIN_ENV} or {PIN_FILE_ENV} instead"
        )
    unknown = sorted(set(names) - {"token"})
    if unknown:
        raise ConfigError(f"pkcs11 URI has unknown parameter(s) {unknown}; only token= is known")
    if names.count("token") != 1:
        raise ConfigError(f"pkcs11 URI needs exactly one token=<label>, e.g. {_EXAMPLE}")
    token = dict(pairs)["token"]
    if not token or len(token.encode()) > _TOKEN_LABEL_MAX:
        raise ConfigError("pkcs11 token label must be 1 to 32 bytes")
    if not module.is_file():
        raise ConfigError(f"PKCS#11 module {module} does not exist or is not a file")
    return Pkcs11Location(module, token)


def resolve_pin(environ: Mapping[str, str] = os.environ) -> Pin:
    """The PIN from exactly one of the two sources; two sources are ambiguous, none is an
    error (a token that needs no login is not a place for master keys)."""
    value, path = environ.get(PIN_ENV), environ.get(PIN_FILE_ENV)
    if value and path:
        raise ConfigError(f"set only one of {PIN_ENV} and {PIN_FILE_ENV}")
    if value:
        return Pin(value)
    if not path:
        raise ConfigError(f"no PKCS#11 PIN: set {PIN_ENV} or {PIN_FILE_ENV}")
    pin_file = Path(path)
    try:
        info = pin_file.lstat()
    except FileNotFoundError:
        raise ConfigError(f"{PIN_FILE_ENV} names {pin_file}, which does not exist") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"PIN file {pin_file} is not a regular file")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(
            f"PIN file {pin_file} has mode {stat.S_IMODE(info.st_mode):04o}; it must be 0600"
        )
    return Pin(pin_file.read_text().rstrip("\r\n"))


def open_pkcs11(uri: str, settings: ProviderSettings) -> KmsProvider:
    """The registry's factory: validate everything here, connect on first use."""
    location = parse_pkcs11_uri(uri)
    pin = resolve_pin()
    try:
        from callvault.keys.providers._pkcs11 import Pkcs11Kms
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
        if (exc.name or "").split(".")[0] not in {"pkcs11", "asn1crypto"}:
            raise
        raise ConfigError(
            "the pkcs11 provider needs python-pkcs11: pip install 'callvault[pkcs11]'"
        ) from None
    return Pkcs11Kms(location, pin, settings.environment)
