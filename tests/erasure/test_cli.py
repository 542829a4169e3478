"""The ``callvault erase`` / ``callvault erasures`` commands: the real command in
subprocesses for the main path, Typer's runner in-process for the rest (start-up of a
subprocess costs about 1.5 s here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from callvault.cli._app import app

from .conftest import ALICE, BOB, World

CALLVAULT = [sys.executable, "-c", "from callvault.cli import main; main()"]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    env["CALLVAULT_HOME"] = str(home)
    return subprocess.run(
        [*CALLVAULT, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def _run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--home", str(home)])
    return result.exit_code, result.stdout, result.stderr


def test_erase_run_due_and_verify(world: World, tmp_path: Path) -> None:
    home = world.vault.home
    made = _cli(home, "erase", "-t", "acme", "-s", ALICE, "--grace-days", "0", "--json")
    assert made.returncode == 0, made.stderr
    request = json.loads(made.stdout)
    assert request["state"] == "scheduled" and ALICE not in made.stdout
    ran = _cli(home, "erasures", "run-due", "--json")
    assert ran.returncode == 0, ran.stderr
    (done,) = json.loads(ran.stdout)
    assert done["id"] == request["id"] and done["state"] == "done"
    receipt = Path(done["receipt_file"])
    checked = _cli(home, "erasures", "verify-receipt", str(receipt))
    assert checked.returncode == 0, checked.stderr
    assert "valid receipt" in checked.stdout and "subject erasure in tenant acme" in checked.stdout
    # With the key exported for a verifier elsewhere; then one changed byte.
    code, pem, _ = _run(home, "erasures", "public-key")
    assert code == 0 and pem.startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "key.pem").write_text(pem)
    key = ["--public-key", str(tmp_path / "key.pem")]
    assert _run(home, "erasures", "verify-receipt", str(receipt), *key)[0] == 0
    data = bytearray(receipt.read_bytes())
    data[data.index(b'"objects":') + 10] ^= 1  # one digit of the deleted-object count
    (tmp_path / "tampered.json").write_bytes(bytes(data))
    code, _, err = _run(home, "erasures", "verify-receipt", str(tmp_path / "tampered.json"), *key)
    assert (code, err) == (1, "error: erasure receipt does not verify\n")


def test_list_cancel_and_bad_usage(world: World) -> None:
    home = world.vault.home
    code, out, _ = _run(home, "erase", "-t", "acme", "-s", BOB, "--json")
    assert code == 0
    request = json.loads(out)
    assert request["grace_days"] == 7 and BOB not in out
    code, out, _ = _run(home, "erasures", "list", "--tenant", "acme", "--json")
    assert [r["id"] for r in json.loads(out)] == [request["id"]]
    code, out, _ = _run(home, "erasures", "cancel", request["id"])
    assert code == 0 and out.startswith(f"cancelled {request['id']}")
    assert _run(home, "erasures", "run-due")[1] == "nothing due\n"
    assert world.opens("acme", BOB)
    code, _, err = _run(home, "erase", "--tenant", "acme", "--subject", ALICE, "--all")
    assert code == 1 and err.startswith("error: name exactly one")
    code, _, err = _run(home, "erase", "--tenant", "acme", "--all", "--grace-days", "3")
    assert code == 1 and "7 to 30 days" in err
    code, _, err = _run(home, "erasures", "cancel", "er_nope")
    assert code == 1 and "no erasure er_nope" in err
