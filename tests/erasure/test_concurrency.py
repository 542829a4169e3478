"""Several executors of ``run_due`` at once (``serve``'s worker, a cron job, threads):
each due request runs exactly once and gets exactly one receipt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from callvault.audit import attach_audit
from callvault.erasure import ErasureRequest, Erasures, ErasureState, Target
from callvault.erasure._claim import LOCKS_DIR, claim_lock

from .conftest import ALICE, BOB, World

_RUNNER = """
import json, os, sys, time
from pathlib import Path
from callvault import Vault
from callvault.api import ApiServices
from callvault.erasure import Erasures
home, go = Path(sys.argv[1]), Path(sys.argv[2])
vault = Vault.open_home(home)
services = ApiServices.embedded(vault)
erasures = Erasures(vault, services.objects, services.records)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
done = erasures.run_due()
print(json.dumps([r.id for r in done]), flush=True)
services.close()
"""


def _schedule_many(world: World) -> list[ErasureRequest]:
    requests = [
        world.erasures.schedule(tenant, Target(subject=caller), grace_days=0)
        for tenant in ("acme", "globex")
        for caller in (ALICE, BOB)
    ]
    anonymous = world.calls[("acme", None)]  # records of no subject: a per-record erasure
    for record in anonymous.analytics + anonymous.recordings:
        requests.append(world.erasures.schedule("acme", Target(record=record), grace_days=0))
    return requests


def test_two_processes_and_threads_execute_each_request_once(world: World) -> None:
    requests = _schedule_many(world)
    go = world.vault.home / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RUNNER, str(world.vault.home), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    in_process: list[list[str]] = []

    def run_here() -> None:
        in_process.append([r.id for r in world.erasures.run_due()])

    threads = [threading.Thread(target=run_here) for _ in range(2)]
    go.touch()
    for thread in threads:
        thread.start()
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for thread in threads:
        thread.join(120)
    assert all(proc.returncode == 0 for proc in procs), [err for _, err in outputs]
    runs = [json.loads(out) for out, _ in outputs] + in_process
    executed = [erasure_id for run in runs for erasure_id in run]
    assert sorted(executed) == sorted(r.id for r in requests)  # each once, none lost
    for request in requests:
        finished = world.erasures.get(request.id)
        assert finished.state is ErasureState.DONE and finished.receipt is not None
    entries = [e for e in attach_audit(world.vault).entries() if e.action == "erasure.execute"]
    assert sorted(e.detail["erasure_id"] for e in entries) == sorted(r.id for r in requests)
    assert not list((world.vault.home / LOCKS_DIR).iterdir())  # done requests leave no lock


def test_a_claimed_request_is_skipped_and_a_crashed_claim_is_resumed(world: World) -> None:
    request = world.erasures.schedule("acme", Target(subject=ALICE), grace_days=0)
    with claim_lock(world.vault.home, request.id) as held:
        assert held is not None
        assert world.erasures.run_due() == []  # another executor is on it
        with claim_lock(world.vault.home, request.id) as second:
            assert second is None  # exclusive within one process too
    # A holder that died mid-run (state running, lock released by the kernel): resumed.
    world.erasures.store.transition(
        request.id, lambda _: None, ErasureState.RUNNING, request.requested_at
    )
    (done,) = world.erasures.run_due()
    assert done.id == request.id and done.state is ErasureState.DONE


def test_a_request_finished_by_another_executor_is_not_run_again(world: World) -> None:
    request = world.erasures.schedule("acme", Target(subject=BOB), grace_days=0)
    other = Erasures(world.vault, world.services.objects, world.services.records)
    (done,) = other.run_due()
    receipt = done.receipt
    # An executor that listed the request before it finished, and locks it after.
    assert world.erasures._execute(request.id) is None
    assert world.erasures.get(request.id).receipt == receipt
    assert world.erasures.run_due() == []


def test_claim_lock_refuses_a_path_like_id(tmp_path: Path) -> None:
    import pytest

    from callvault.errors import InvalidRequest

    with pytest.raises(InvalidRequest), claim_lock(tmp_path, "../../etc/passwd"):
        pass
