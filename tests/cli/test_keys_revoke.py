"""``callvault keys revoke`` as an operator runs it: a dry run that writes nothing, then the
revocation, in a subprocess over a home populated through the API classes."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from callvault import Vault
from callvault.api import OBJECTS_DIR
from callvault.storage.objects import LocalObjectStore
from callvault.storage.records import (
    RecordStore,
    create_records_engine,
    embedded_url,
    run_migrations,
)


def _kit() -> ModuleType:
    name = "callvault_tests_lifecycle_population"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).parent.parent / "lifecycle" / "_population.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


kit = _kit()


def test_revoke_dry_run_then_for_real(cli_home: Path, run: Any) -> None:
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("CALLVAULT_"):
                mp.delenv(name)
        Vault.init_home(cli_home)
        vault = Vault.open_home(cli_home)
    for tenant in kit.TENANTS:
        vault.create_tenant(tenant)
    run_migrations(create_records_engine(embedded_url(cli_home)))
    objects = LocalObjectStore(cli_home / OBJECTS_DIR)
    records = RecordStore(create_records_engine(embedded_url(cli_home)))
    try:
        population = kit.populate(vault, objects, records, per_tenant=2, big=False)
        before = kit.sealed_values(objects, records)

        dry = run("keys", "revoke", "--tenant", "acme", "--version", "1", "--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr
        report = json.loads(dry.stdout)
        assert report["exposed"] > 0 and report["reencrypted"] == 0 and report["subjects"] > 0
        assert kit.sealed_values(objects, records) == before

        done = run("keys", "revoke", "--tenant", "acme", "--version", "1", "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["complete"] and report["rotated_to"] == 2
        assert report["reencrypted"] == report["exposed"] > 0
        assert report["subjects_rekeyed"] == report["subjects"] > 0
        assert report["min_decrypt_version"] == 2
        kit.open_all(vault, objects, records, population)

        again = run("keys", "revoke", "--tenant", "acme", "--version", "1")
        assert again.returncode != 0 and b"--version must be 2..2" in again.stderr + again.stdout
    finally:
        records.close()
