"""Configuration: ``callvault.toml`` in the home directory, overridden by ``CALLVAULT_*``
environment variables (``CALLVAULT_ENVIRONMENT``, ``CALLVAULT_KMS``,
``CALLVAULT_CACHE__MAX_AGE_SECONDS``…).

Secrets never live here: the root key comes from ``root.key`` (0600), ``CALLVAULT_ROOT_KEY``
or ``CALLVAULT_ROOT_PASSPHRASE`` (see ``keys.providers``). Unknown keys are errors, so a
typo cannot silently weaken a setting.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from callvault._ids import Environment
from callvault.errors import ConfigError
from callvault.keys._cadence import Cadence
from callvault.storage.objects import S3Settings
from callvault.transport.egress import EgressSettings

__all__ = [
    "CONFIG_FILE",
    "ApiSettings",
    "BackupSettings",
    "CacheSettings",
    "ErasureSettings",
    "KeydSettings",
    "PostureSettings",
    "RotationSettings",
    "Settings",
    "StorageSettings",
    "default_home",
    "load_settings",
]

CONFIG_FILE = "callvault.toml"
_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")  # the header's provider field allows it


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
    trace_calls: bool = Field(
        False,
        description="append the encryption events of requests naming a call "
        "(X-Callvault-Call-Id) to <home>/traces/<call id>.jsonl",
    )


class RotationSettings(BaseModel):
    """The rotation cadence (defaults: the seed's table) and whether ``serve`` applies it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    master_key_days: int = Field(365, ge=1, le=3650, description="tenant master keys")
    backup_key_days: int = Field(365, ge=1, le=3650, description="backup data-class keys")
    signing_key_days: int = Field(90, ge=8, le=365, description="JWT signing key")
    tls_certificate_days: int = Field(90, ge=1, le=398, description="serve's certificate")
    warn_days: int = Field(30, ge=0, le=365, description="'due soon' this long before")
    auto: bool = Field(
        False, description="serve rotates overdue master and signing keys on a timer"
    )
    check_minutes: int = Field(60, ge=1, le=1440, description="how often serve checks")

    def cadence(self) -> Cadence:
        return Cadence(
            master_key=timedelta(days=self.master_key_days),
            backup_key=timedelta(days=self.backup_key_days),
            signing_key=timedelta(days=self.signing_key_days),
            tls_certificate=timedelta(days=self.tls_certificate_days),
            warn_before=timedelta(days=self.warn_days),
        )


class ErasureSettings(BaseModel):
    """Whether ``serve`` executes due erasure requests itself, and how often. Running
    ``callvault erasures run-due`` from cron as well is safe: each request runs once."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    auto: bool = Field(True, description="serve runs due erasures on a timer")
    check_seconds: int = Field(
        300, ge=1, le=86400, description="how often serve looks for due erasures"
    )


class BackupSettings(BaseModel):
    """Where erasure tombstones go (docs/backup.md): a ledger that ``backup create`` never
    includes, so an erasure made after a backup is re-applied when that backup is restored.
    Relative paths are inside the home; production puts it on separate, durable storage."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tombstones_dir: str = Field(
        "tombstones",
        min_length=1,
        description="directory of the append-only tombstone ledger (relative: in the home)",
    )

    def tombstones_path(self, home: Path) -> Path:
        path = Path(self.tombstones_dir)
        return path if path.is_absolute() else home / path


class StorageSettings(BaseModel):
    """Where sealed objects and sealed records live (DESIGN.md: embedded default, or S3 and
    PostgreSQL for a deployment of several API replicas)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    records_url: str | None = Field(
        None,
        description="records database: None = SQLite in the home directory; or "
        "postgresql+psycopg://app_role@host/db?sslmode=verify-full&sslrootcert=… "
        "(weaker TLS is refused)",
    )
    objects: Literal["local", "s3"] = Field(
        "local", description="sealed objects in home/objects, or in the [storage.s3] bucket"
    )
    s3: S3Settings | None = None

    @field_validator("records_url")
    @classmethod
    def _secure_database(cls, url: str | None) -> str | None:
        if url is not None:
            # Imported only when a database is configured: SQLAlchemy costs every CLI
            # command half a second otherwise.
            from callvault.storage.records import check_database_url

            check_database_url(url)  # InsecureDatabaseUrl is a ConfigError: refused at load
        return url

    @model_validator(mode="after")
    def _s3_configured(self) -> StorageSettings:
        if self.objects == "s3" and self.s3 is None:
            raise ValueError('objects = "s3" needs a [storage.s3] section (bucket, endpoint…)')
        return self


class KeydSettings(BaseModel):
    """``callvault keyd``: the key service over mTLS (docs/protocols/keyd.md). ``policy``
    names a preset; ``grants`` (service name -> operations), when given, replaces it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str = Field("127.0.0.1", min_length=1, description="address to listen on")
    port: int = Field(8444, ge=0, le=65535, description="TCP port (0: any)")
    server_names: list[str] = Field(
        default_factory=list, description="extra DNS names / IPs for keyd's certificate"
    )
    certificate_ttl: str = Field("24h", description="keyd's service certificate lifetime")
    policy: Literal["default"] = Field(
        "default", description="default: api may use keys, ops may administer them"
    )
    grants: dict[str, list[str]] | None = Field(
        None, description="explicit service -> operations table, replacing the preset"
    )


class PostureSettings(BaseModel):
    """Scheduled posture checks inside ``serve`` (docs/posture/evidence.md): nothing runs
    unless targets or paths are listed. Reports go to ``<home>/posture/history``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scan_targets: list[str] = Field(
        default_factory=list, description='TLS endpoints to scan, "host:port" each'
    )
    lint_paths: list[str] = Field(
        default_factory=list, description="deployment paths to lint (relative: in the home)"
    )
    interval_minutes: int = Field(
        1440, ge=1, le=44640, description="how often serve scans and lints (default daily)"
    )
    history_keep: int = Field(
        200, ge=1, le=100_000, description="reports kept per kind (scan, lint) in the history"
    )
    evidence_window_days: int = Field(
        30, ge=1, le=3660, description="key-access window of `evidence export`"
    )
    first_delay_seconds: int = Field(
        15, ge=0, le=3600, description="first round this long after serve starts"
    )
    scan_ca_file: str | None = Field(
        None,
        description="CA bundle scheduled scans trust besides the system store "
        "(default: the home's tls/ca.pem when it exists)",
    )
    overview_cache_seconds: int = Field(
        30, ge=0, le=3600, description="how long /v1/posture/overview reuses its facts"
    )

    @field_validator("scan_targets")
    @classmethod
    def _targets(cls, targets: list[str]) -> list[str]:
        for target in targets:
            host, sep, port = target.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"scan target {target!r} is not host:port")
        return targets

    @property
    def scheduled(self) -> bool:
        return bool(self.scan_targets or self.lint_paths)

    def lint_path(self, home: Path, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else home / candidate


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CALLVAULT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )
    environment: Environment = Field(
        Environment.DEV, description="dev, staging or prod; keys never cross environments"
    )
    kms: str = Field("local://", description="KMS provider URI, e.g. local://")
    kms_providers: dict[str, str] = Field(
        default_factory=dict,
        description="further KMS providers by name (for customer-managed keys), "
        'e.g. acme-hsm = "pkcs11:///usr/lib/softhsm/libsofthsm2.so?token=acme"',
    )
    cache: CacheSettings = Field(default_factory=lambda: CacheSettings())  # type: ignore[call-arg]
    tls_profile: Literal["modern", "legacy-interop"] = Field(
        "modern",
        description="TLS profile of `callvault serve`: TLS 1.3 only, or the explicit "
        "legacy-interop switch that also allows TLS 1.2 with ECDHE+AEAD suites",
    )
    api: ApiSettings = Field(default_factory=lambda: ApiSettings())  # type: ignore[call-arg]
    storage: StorageSettings = Field(
        default_factory=lambda: StorageSettings()  # type: ignore[call-arg]
    )
    rotation: RotationSettings = Field(
        default_factory=lambda: RotationSettings()  # type: ignore[call-arg]
    )
    backup: BackupSettings = Field(
        default_factory=lambda: BackupSettings()  # type: ignore[call-arg]
    )
    erasure: ErasureSettings = Field(
        default_factory=lambda: ErasureSettings()  # type: ignore[call-arg]
    )
    keyd: KeydSettings = Field(default_factory=lambda: KeydSettings())  # type: ignore[call-arg]
    egress: EgressSettings = Field(
        default_factory=lambda: EgressSettings(),  # type: ignore[call-arg]
        description="outbound STT/LLM/TTS providers: [egress.providers.<name>]",
    )
    posture: PostureSettings = Field(
        default_factory=lambda: PostureSettings(),  # type: ignore[call-arg]
        description="scheduled scans and lint inside serve: [posture]",
    )

    @field_validator("kms_providers")
    @classmethod
    def _provider_names(cls, named: dict[str, str]) -> dict[str, str]:
        for name in named:
            if not _PROVIDER_NAME.fullmatch(name):
                raise ValueError(
                    f"provider name {name!r} must be 1-32 characters of a-z, 0-9 and '-', "
                    "starting with a letter"
                )
        return named

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
    _refuse_secrets_in_file(path, data)
    try:
        return Settings(**data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None


def _refuse_secrets_in_file(path: Path, data: Mapping[str, Any]) -> None:
    """A database password in callvault.toml would sit in clear in every backup and
    config repository; it belongs in the environment (``PGPASSWORD``, a libpq passfile,
    or the whole URL in ``CALLVAULT_STORAGE__RECORDS_URL``)."""
    storage = data.get("storage")
    url = storage.get("records_url") if isinstance(storage, Mapping) else None
    if isinstance(url, str):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            has_password = make_url(url).password is not None
        except ArgumentError:
            return  # the URL check reports it
        if has_password or "password=" in url:
            raise ConfigError(
                f"{path}: storage.records_url contains a password; put it in PGPASSWORD, a "
                "libpq passfile or CALLVAULT_STORAGE__RECORDS_URL instead of the file"
            )
