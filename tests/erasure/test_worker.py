"""``serve`` executes due erasures on its own timer (``[erasure] check_seconds``), and a
failing round neither stops the worker nor loses the request."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from callvault.audit import AuditEntry, attach_audit
from callvault.erasure import Erasures, ErasureState, ErasureStore, ErasureWorker, Target
from callvault.errors import KeyUnavailable

from .conftest import ALICE, World


def test_serve_runs_due_erasures_on_its_timer(
    tmp_path: Path, cli_serve: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "init").returncode == 0
    assert run_cli(home, "tenants", "create", "acme").returncode == 0
    server = cli_serve(home, CALLVAULT_ERASURE__CHECK_SECONDS="1")
    assert any("due erasures: executed every 1 s" in line for line in server.banner)
    made = run_cli(home, "erase", "--tenant", "acme", "--all", "--grace-days", "0", "--json")
    assert made.returncode == 0, made.stderr
    store = ErasureStore(home)
    (request,) = store.list_requests()
    deadline = time.monotonic() + 30  # a bound on waiting, not a timing assertion
    while store.get(request.id).state is not ErasureState.DONE:
        assert time.monotonic() < deadline, "serve did not run the due erasure"
        time.sleep(0.2)
    assert store.get(request.id).receipt is not None
    assert run_cli(home, "erasures", "run-due").stdout.strip() == "nothing due"


class _Flaky:
    def __init__(self, erasures: Erasures, failures: int) -> None:
        self.erasures, self.failures = erasures, failures

    def append(self, entry: AuditEntry, subject: tuple[str, str] | None = None) -> int | None:
        if entry.action == "erasure.execute" and self.failures:
            self.failures -= 1
            raise KeyUnavailable("audit log's KMS is down")
        return attach_audit(self.erasures._vault).append(entry, subject)


def test_a_failing_round_is_retried_by_the_next(world: World) -> None:
    flaky = _Flaky(world.erasures, failures=1)
    erasures = Erasures(world.vault, world.services.objects, world.services.records, audit=flaky)
    worker = ErasureWorker(erasures, timedelta(seconds=60))
    request = erasures.schedule("acme", Target(subject=ALICE), grace_days=0)
    assert worker.run_once() == []
    assert erasures.get(request.id).state is ErasureState.RUNNING
    (done,) = worker.run_once()
    assert done.id == request.id and done.state is ErasureState.DONE
    with pytest.raises(ValueError):
        ErasureWorker(erasures, timedelta(0))
