"""Configuration: ``callvault.toml`` in the home directory, overridden by ``CALLVAULT_*``
environment variables (``CALLVAULT_ENVIRONMENT``, ``CALLVAULT_KMS``,
``CALLVAULT_CACHE__MAX_AGE_SECONDS``…).

Secrets never live here: the root key comes from ``root.key`` (0600), ``CALLVAULT_ROOT_KEY``
or ``CALLVAULT_ROOT_PASSPHRASE`` (see ``keys.providers``). Unknown keys are errors, so a
typo cannot silently weaken a setting.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from callvault._ids import Environment
from callvault.errors import ConfigError

__all__ = [
    "CONFIG_FILE",
    "ApiSettings",
    "CacheSettings",
    "Settings",
    "default_home",
    "load_settings",
]

CONFIG_FILE = "callvault.toml"


class CacheSettings(BaseModel):
    """Limits on how long and how often an unwrapped key may be reused from memory."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_age_seconds: float = Field(300.0, ge=0, le=86400)
    max_uses: int = Field(10_000, ge=0)
    max_entries: int = Field(4096, ge=0)


class ApiSettings(BaseModel):
    """Limits of the HTTPS API (``callvault serve``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_recording_bytes: int = Field(
        4 * 1024**3, ge=1, le=64 * 1024**3, description="largest recording a PUT may upload"
    )
    max_json_bytes: int = Field(
        1024**2, ge=1024, le=64 * 1024**2, description="largest JSON request body (transcripts…)"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CALLVAULT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )
    environment: Environment = Field(
        Environment.DEV, description="dev, staging or prod; keys never cross environments"
    )
    kms: str = Field("local://", description="KMS provider URI, e.g. local://")
    cache: CacheSettings = Field(default_factory=lambda: CacheSettings())  # type: ignore[call-arg]
    tls_profile: Literal["modern", "legacy-interop"] = Field(
        "modern",
        description="TLS profile of `callvault serve`: TLS 1.3 only, or the explicit "
        "legacy-interop switch that also allows TLS 1.2 with ECDHE+AEAD suites",
    )
    api: ApiSettings = Field(default_factory=lambda: ApiSettings())  # type: ignore[call-arg]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)  # environment variables override the file


def default_home(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("CALLVAULT_HOME") or Path.home() / ".callvault")


def load_settings(home: Path) -> Settings:
    path = home / CONFIG_FILE
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
    try:
        return Settings(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
