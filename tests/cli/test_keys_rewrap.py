"""``callvault keys rewrap`` and ``callvault keys retire`` as an operator runs them: the real
command in a subprocess over a home populated through the API classes; a run killed with
SIGKILL half-way resumes on the next run, losing nothing and wrapping nothing twice."""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from callvault import Vault
from callvault.api import OBJECTS_DIR
from callvault.lifecycle import STATE_FILE
from callvault.storage.objects import LocalObjectStore
from callvault.storage.records import (
    RecordStore,
    create_records_engine,
    embedded_url,
    run_migrations,
)

CALLVAULT = str(Path(sys.executable).with_name("callvault"))


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


def _environ(home: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    environ["CALLVAULT_HOME"] = str(home)
    return environ


class Home:
    """The CLI's home, also opened in-process (same config, same stores) to populate it
    and to look at what the command did."""

    def __init__(self, home: Path) -> None:
        with pytest.MonkeyPatch.context() as mp:
            for name in list(os.environ):
                if name.startswith("CALLVAULT_"):
                    mp.delenv(name)
            self.vault = Vault.open_home(home)
        self.objects = LocalObjectStore(home / OBJECTS_DIR)
        self.records = RecordStore(create_records_engine(embedded_url(home)))

    def values(self) -> dict[str, Any]:
        return dict(kit.sealed_values(self.objects, self.records))

    def everything(self) -> dict[str, Any]:
        """Master-wrapped headers and managed records: what a rewrap moves."""
        headers = {k: v.header for k, v in kit.master_wrapped(self.values()).items()}
        return {**headers, **kit.managed_versions(self.vault)}


@pytest.fixture
def populated(cli_home: Path) -> Iterator[tuple[Home, Any]]:
    """A home as ``callvault init`` and ``tenants create`` make it (built in-process: each
    command costs a second of start-up), populated through the API classes."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("CALLVAULT_"):
                mp.delenv(name)
        Vault.init_home(cli_home)
        vault = Vault.open_home(cli_home)
    for tenant in kit.TENANTS:
        vault.create_tenant(tenant)
    run_migrations(create_records_engine(embedded_url(cli_home)))
    home = Home(cli_home)
    population = kit.populate(home.vault, home.objects, home.records, per_tenant=4, big=False)
    try:
        yield home, population
    finally:
        home.records.close()


def _version(value: Any) -> int:
    return int(value.key_ref.version if hasattr(value, "key_ref") else value.version)


def test_rewrap_killed_half_way_resumes(
    populated: tuple[Home, Any], run: Any, cli_home: Path
) -> None:
    home, population = populated
    home.vault.rotate_key("acme")
    home.vault.rotate_key("globex")
    before = home.everything()
    assert {_version(v) for v in before.values()} == {1}

    # Small batches with a pause between them; SIGKILL once the checkpoint shows that the
    # walk has reached the objects (the managed records behind it are done).
    proc = subprocess.Popen(
        [CALLVAULT, "keys", "rewrap", "--batch", "2", "--pause", "0.1", "--json"],
        env=_environ(cli_home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state_path = cli_home / STATE_FILE
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if state_path.exists() and "objects" in json.loads(state_path.read_bytes())["stream"]:
            break
        assert proc.poll() is None, "the job finished before it could be killed"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL

    middle = home.everything()
    done = {k for k, v in middle.items() if _version(v) == 2}
    assert done and len(done) < len(before)  # killed half-way: some moved, some not

    result = run("keys", "rewrap", "--batch", "2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["resumed"] is True and report["failed"] == 0 and report["conflicts"] == 0
    assert report["rewrapped"] == len(before)  # carried over + this run: each exactly once
    assert not state_path.exists()

    after = home.everything()
    assert after.keys() == before.keys()
    assert {_version(v) for v in after.values()} == {2}
    for key in done:  # what the killed run finished was not wrapped a second time
        assert after[key] == middle[key]
    kit.open_all(home.vault, home.objects, home.records, population)


def test_retire_refuses_until_rewrapped(
    populated: tuple[Home, Any], run: Any, cli_home: Path
) -> None:
    home, population = populated
    assert run("keys", "rotate", "--tenant", "acme").returncode == 0
    refused = run("keys", "retire", "--tenant", "acme", "--below", "2")
    assert refused.returncode == 1 and refused.stdout == b""
    message = refused.stderr.decode()
    assert message.startswith("error: ")
    assert "still wrapped under dev/acme/default below v2" in message

    dry = run("keys", "rewrap", "--dry-run", "--tenant", "acme", "--json")
    counts = json.loads(dry.stdout)
    assert dry.returncode == 0 and counts["rewrapped"] == 0 and counts["pending"] > 0
    assert counts["versions"]["dev/acme/default"] == {"1": counts["pending"]}
    assert f"{counts['pending']} stored value(s)" in message

    text = run("keys", "rewrap", "--tenant", "acme")
    assert text.returncode == 0
    assert text.stdout.decode().startswith(f"examined {counts['examined']}: rewrapped ")

    retired = run("keys", "retire", "--tenant", "acme", "--below", "2", "--json")
    assert retired.returncode == 0, retired.stderr
    assert json.loads(retired.stdout)["min_decrypt_version"] == 2
    assert home.vault.provider.describe_key("dev/acme/default").min_decrypt_version == 2
    kit.open_all(home.vault, home.objects, home.records, population)


def test_progress_bar_on_a_terminal(populated: tuple[Home, Any], cli_home: Path) -> None:
    home, population = populated
    home.vault.rotate_key("acme")
    master, slave = pty.openpty()
    environ = {**_environ(cli_home), "TERM": "xterm", "COLUMNS": "100"}
    proc = subprocess.Popen(
        [CALLVAULT, "keys", "rewrap", "--batch", "3"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    drawn = b""
    while True:
        try:
            piece = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not piece:
            break
        drawn += piece
    os.close(master)
    assert proc.wait(timeout=60) == 0
    assert proc.stdout is not None and proc.stdout.read().startswith(b"examined ")
    proc.stdout.close()
    rows = len(population.transcripts) + len(population.analytics)
    total = sum(1 for _ in home.objects.list()) + len(kit.managed_versions(home.vault)) + rows
    assert f"/{total}".encode() in drawn  # "done/total" items, from the job's observer


def test_cli_default_batch_is_the_library_default() -> None:
    from callvault.cli._rewrap import DEFAULT_BATCH
    from callvault.lifecycle import DEFAULT_BATCH as LIBRARY_DEFAULT

    assert DEFAULT_BATCH == LIBRARY_DEFAULT
