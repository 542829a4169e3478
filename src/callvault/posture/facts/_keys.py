"""The key hierarchy as it exists: master keys, their versions and ages, rotation status
against the configured cadence, the JWT signing key, serve's certificate, and the options
for customer-managed keys (CMK).

Rotation status comes from ``callvault.keys._cadence`` (the same code as ``callvault keys
status``), evaluated at the collection time ``now``, so an overdue key is overdue here
exactly when ``keys status --check`` would fail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callvault._vault import Vault
from callvault.keys._cadence import DueState, ScheduledKey
from callvault.keys._cadence import rotation_status as master_status
from callvault.keys.providers import KeyDescription, supported_schemes
from callvault.lifecycle._schedule import certificate_schedule, signing_schedule
from callvault.posture.facts._model import Check, CheckStatus, Section

__all__ = ["collect_keys"]

_EXTERNAL_KMS = ("aws", "vault+https", "pkcs11", "keyd")


def _key_json(key: KeyDescription) -> dict[str, Any]:
    return {
        **key.as_json(),
        "tenant": key.labels.get("tenant"),
        "class": key.labels.get("class"),
    }


def _status_check(check_id: str, title: str, items: list[ScheduledKey], what: str) -> Check:
    if not items:
        return Check(check_id, title, CheckStatus.NO_EVIDENCE, f"no {what} found", "keys")
    late = [i.name for i in items if i.state is DueState.OVERDUE]
    status = CheckStatus.FAIL if late else CheckStatus.PASS
    evidence = f"overdue: {', '.join(late)}" if late else f"{len(items)} {what}, none overdue"
    return Check(check_id, title, status, evidence, "callvault keys status (same code)")


def _cmk(vault: Vault) -> tuple[dict[str, Any], Check]:
    registered = [
        {"tenant": t.id, "class": c.value, "provider": k.provider, "key_id": k.key_id}
        for t in vault.tenants.list()
        for c, k in sorted(t.customer_keys.items())
    ]
    schemes = supported_schemes()
    external = [s for s in schemes if s in _EXTERNAL_KMS]
    facts = {
        "supported_schemes": schemes,
        "configured_providers": {
            n: u.split(":", 1)[0] for n, u in sorted(vault.settings.kms_providers.items())
        },
        "registered_customer_keys": registered,
        "command": "callvault tenants customer-key set --tenant T --class C --provider P "
        "--key-id <env>/<tenant>/<name>",
    }
    check = Check(
        "keys.cmk",
        "Customer-managed keys are supported through external KMS providers",
        CheckStatus.PASS if external else CheckStatus.FAIL,
        f"providers {', '.join(external)}; {len(facts['configured_providers'])} configured, "
        f"{len(registered)} customer key(s) registered",
        "callvault.keys.providers registry, tenants.json",
    )
    return facts, check


def collect_keys(vault: Vault, now: datetime) -> Section:
    cadence = vault.settings.rotation.cadence()
    keys = vault.provider.list_keys()
    masters = master_status(keys, cadence, now)
    signing = signing_schedule(vault, cadence, now)
    certificate = certificate_schedule(vault, cadence, now)
    environment = vault.environment.value
    foreign = [
        k.key_id
        for k in keys
        if k.environment.value != environment or not k.key_id.startswith(f"{environment}/")
    ]
    cmk_facts, cmk_check = _cmk(vault)
    facts: dict[str, Any] = {
        "kms": vault.settings.kms.split(":", 1)[0],
        "hierarchy": [
            "KMS root",
            "per-tenant master key (KEK), per data class on request",
            "per-subject key (erasure)",
            "per-object data key (DEK), wrapped",
        ],
        "cadence_days": {
            "master_key": cadence.master_key.days,
            "backup_key": cadence.backup_key.days,
            "signing_key": cadence.signing_key.days,
            "tls_certificate": cadence.tls_certificate.days,
            "warn_before": cadence.warn_before.days,
        },
        "auto_rotation": vault.settings.rotation.auto,
        "master_keys": [_key_json(k) for k in keys],
        "schedule": [s.as_json(now) for s in (*masters, *signing, *certificate)],
        "cmk": cmk_facts,
    }
    checks = (
        _status_check(
            "keys.rotation",
            "Master and backup keys are within their rotation cadence",
            masters,
            "master keys",
        ),
        _status_check(
            "keys.signing_rotation",
            "The JWT signing key is within its quarterly cadence",
            signing,
            "current JWT signing key",
        ),
        _status_check(
            "keys.tls_certificate",
            "serve's TLS certificate is within its 90-day cadence",
            certificate,
            "serve certificate",
        ),
        Check(
            "keys.environment_scoped",
            "Every key is scoped to this environment (no key shared across environments)",
            CheckStatus.FAIL
            if foreign
            else (CheckStatus.PASS if keys else CheckStatus.NO_EVIDENCE),
            f"outside {environment}: {', '.join(foreign)}"
            if foreign
            else f"{len(keys)} keys, all {environment}/…",
            f"{facts['kms']} KMS key list",
        ),
        cmk_check,
    )
    return Section("keys", facts, checks)
