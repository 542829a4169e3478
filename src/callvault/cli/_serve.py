"""``callvault serve``: the HTTPS API on one TLS-only listener (no plaintext port at all).

On first run (no ``callvault.toml`` in the home) it initialises the home for environment
``dev`` (the embedded default: local KMS with a 0600 root key file, SQLite records, local
objects); any other environment is created explicitly with ``callvault init``. Storage is
what ``[storage]`` names (``ApiServices.from_settings``), checked before the port opens.

The certificate comes from the home's local CA (``transport.ensure_local_tls``), issued for
``localhost``, ``127.0.0.1``, ``::1`` and the ``--host`` name when it is a specific one;
it is checked (and renewed when under 30 days) at every start. uvicorn gets our context
through ``ssl_context_factory`` (docs/protocols/tls.md): ``server_context`` with the
profile from ``tls_profile`` in callvault.toml (``modern`` = TLS 1.3 only, or the explicit
``legacy-interop``). The context is built once before binding so a policy failure is a
one-line error, and the server refuses to run if uvicorn would not use TLS.

Only this command imports the web stack. uvicorn's access log is off: query strings can
carry a subject (``?subject=+1555…``) and subjects are never logged in clear.
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from callvault._ids import Environment
from callvault._vault import Vault
from callvault.cli._common import HomeOption, cli_errors
from callvault.config import CONFIG_FILE, default_home
from callvault.errors import ConfigError
from callvault.keys import acting_as
from callvault.transport import (
    DEFAULT_SERVER_NAMES,
    TlsProfile,
    ensure_local_tls,
    server_context,
)

_ROOT_KEY_VARIABLES = ("CALLVAULT_ROOT_KEY", "CALLVAULT_ROOT_PASSPHRASE")
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (names, not a bind)


def tls_context(
    profile: TlsProfile, chain: Path, key: Path, config: Any = None, default: Any = None
) -> ssl.SSLContext:
    """uvicorn's ``ssl_context_factory`` (module level, so ``--workers`` could pickle it)."""
    ctx = server_context(profile, chain, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def uvicorn_config(
    app: Any, factory: Callable[..., ssl.SSLContext], *, log_level: str, **bind: Any
) -> Any:
    """The one uvicorn configuration of the API (also used by the API benchmark): our TLS
    context, no access log, no server header, no proxy headers, no websockets; loaded and
    refused unless uvicorn will really use TLS."""
    import uvicorn

    config = uvicorn.Config(
        app,
        ssl_context_factory=factory,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        ws="none",
        lifespan="off",
        log_level=log_level,
        **bind,
    )
    config.load()
    if not config.is_ssl:
        raise ConfigError("refusing to serve without TLS")
    return config


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8443, "--port", min=0, max=65535, help="TCP port (0: any)."),
    home: Path | None = HomeOption,
) -> None:
    """Serve the HTTPS API (TLS 1.3 only unless tls_profile = "legacy-interop")."""
    _serve(host, port, home)


@cli_errors
def _serve(host: str, port: int, home: Path | None) -> None:
    # Imported here: FastAPI and uvicorn take a second to import, which every other
    # command would pay for nothing.
    import uvicorn

    from callvault.api import ApiServices, create_app

    vault = _open_or_create(home or default_home())
    names = list(DEFAULT_SERVER_NAMES)
    if host not in _WILDCARDS and host not in names:
        names.append(host)
    files = ensure_local_tls(vault.home / "tls", names)
    profile = TlsProfile(vault.settings.tls_profile)
    factory: Callable[..., ssl.SSLContext] = functools.partial(
        tls_context, profile, files.chain, files.key
    )
    factory()  # fail now, with a one-line error, if the policy cannot be enforced
    services = ApiServices.from_settings(vault)
    config = uvicorn_config(
        create_app(vault, services=services), factory, host=host, port=port, log_level="info"
    )
    shown = "localhost" if host in {"127.0.0.1", "::1"} else host
    sys.stderr.write(
        f"callvault API: https://{shown}:{port}  (TLS profile {profile.value})\n"
        f"  trust the local CA: {files.ca}\n"
        f"  storage: {_describe(vault)}\n"
        f"  server certificate valid until {files.not_after:%Y-%m-%d}"
        f"{' (issued now)' if files.renewed else ''}\n"
        f"  mint a first token: callvault token --role platform-admin --home {vault.home}\n"
        f'  then: curl --cacert {files.ca} -H "Authorization: Bearer $TOKEN" '
        f"https://{shown}:{port}/v1/tenants\n"
    )
    sys.stderr.flush()
    timer = _rotation_timer(vault, services)
    worker = _erasure_worker(vault, services)
    posture = _posture_job(vault)
    try:
        with acting_as("system"):  # not the operator who started it: requests name theirs
            uvicorn.Server(config).run()
    finally:
        for job in (timer, worker, posture):
            if job is not None:
                job.stop()


def _open_or_create(home: Path) -> Vault:
    if not (home / CONFIG_FILE).exists():
        external = any(os.environ.get(v) for v in _ROOT_KEY_VARIABLES)
        result = Vault.init_home(home, Environment.DEV, root_key_file=not external)
        sys.stderr.write(f"created callvault home {home} (environment dev)\n")
        if result.root_key_file is not None:
            sys.stderr.write(f"  root key: {result.root_key_file} (0600): back it up offline\n")
    return Vault.open_home(home)


def _describe(vault: Vault) -> str:
    """Where data goes, for the start-up banner: never a password."""
    from sqlalchemy.engine import make_url

    from callvault.api import OBJECTS_DIR
    from callvault.storage.records import RECORDS_DB_FILE

    storage = vault.settings.storage
    if storage.records_url is None:
        records = f"SQLite {vault.home / RECORDS_DB_FILE}"
    else:
        url = make_url(storage.records_url)
        records = f"PostgreSQL {url.host}:{url.port or 5432}/{url.database} as {url.username}"
    if storage.s3 is not None and storage.objects == "s3":
        where = storage.s3.endpoint_url or "AWS S3"
        objects = f"S3 bucket {storage.s3.bucket}/{storage.s3.prefix} at {where}"
    else:
        objects = f"local {vault.home / OBJECTS_DIR}"
    return f"records in {records}; objects in {objects}"


def _rotation_timer(vault: Vault, services: Any) -> Any:
    """With ``[rotation] auto = true``: rotate overdue master keys and the JWT signing key
    every ``check_minutes`` while serving."""
    settings = vault.settings.rotation
    if not settings.auto:
        return None
    from datetime import timedelta

    from callvault.keys._rotation_timer import RotationTimer

    timer = RotationTimer(
        vault.provider,
        settings.cadence(),
        timedelta(minutes=settings.check_minutes),
        on_rotated=lambda key: vault.cache.evict(key.key_id),
        extra=[services.keyring.rotate_if_due],
    )
    timer.start()
    sys.stderr.write(f"  automatic key rotation: every {settings.check_minutes} min\n")
    return timer


def _erasure_worker(vault: Vault, services: Any) -> Any:
    """With ``[erasure] auto = true`` (the default): execute due erasure requests every
    ``check_seconds`` while serving (alongside any cron ``erasures run-due``: each request
    runs once)."""
    settings = vault.settings.erasure
    if not settings.auto:
        return None
    from datetime import timedelta

    from callvault.erasure import Erasures, ErasureWorker

    erasures = Erasures(vault, services.objects, services.records)
    worker = ErasureWorker(erasures, timedelta(seconds=settings.check_seconds))
    worker.start()
    sys.stderr.write(f"  due erasures: executed every {settings.check_seconds} s\n")
    return worker


def _posture_job(vault: Vault) -> Any:
    """With ``[posture]`` scan targets or lint paths: scan and lint them every
    ``interval_minutes`` while serving, into the posture history (first round at start)."""
    settings = vault.settings.posture
    if not settings.scheduled:
        return None
    from callvault.posture.schedule import PostureJob

    job = PostureJob(vault.home, settings)
    job.start()
    sys.stderr.write(
        f"  posture checks: {len(settings.scan_targets)} scan target(s), "
        f"{len(settings.lint_paths)} lint path(s) every {settings.interval_minutes} min\n"
    )
    return job
