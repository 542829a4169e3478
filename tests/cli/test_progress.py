"""Progress reporting: the library's observer callback, and the CLI's bar on a terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from callvault import DataClass, Vault
from callvault.cli._common import PROGRESS_THRESHOLD
from callvault.format import header_length


def test_observer_sees_every_byte(vault: Vault) -> None:
    ctx = vault.context("acme", DataClass.RECORDING, "call-1")
    data = os.urandom(3 * 1024 * 1024 + 77)
    seen: list[int] = []
    sealed = io.BytesIO()
    vault.seal_stream(ctx, io.BytesIO(data), sealed, seen.append)
    assert sum(seen) == len(data) and len(seen) > 1
    opened_progress: list[int] = []
    out = io.BytesIO()
    vault.open_stream(ctx, io.BytesIO(sealed.getvalue()), out, opened_progress.append)
    assert out.getvalue() == data
    body = len(sealed.getvalue()) - header_length(sealed.getvalue()[:8])
    assert sum(opened_progress) == body  # every ciphertext byte after the header
    assert len(opened_progress) > 1


def test_cli_draws_a_bar_on_a_terminal_for_large_files(tmp_path: Path) -> None:
    callvault = str(Path(sys.executable).with_name("callvault"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    env |= {"CALLVAULT_HOME": str(tmp_path / "home"), "TERM": "xterm", "COLUMNS": "100"}
    subprocess.run([callvault, "init"], env=env, check=True, capture_output=True)
    subprocess.run([callvault, "tenants", "create", "acme"], env=env, check=True,
                   capture_output=True)
    big = tmp_path / "big.raw"
    big.write_bytes(os.urandom(PROGRESS_THRESHOLD + 1))
    small = tmp_path / "small.raw"
    small.write_bytes(b"tiny")

    def stderr_on_tty(infile: Path) -> bytes:
        master, slave = pty.openpty()
        proc = subprocess.Popen(
            [callvault, "seal", "-t", "acme", "-c", "recording", "-o", "x", str(infile),
             str(tmp_path / "out.cvlt")],
            env=env, stdout=subprocess.DEVNULL, stderr=slave,
        )
        os.close(slave)
        output = b""
        while True:
            try:
                piece = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not piece:
                break
            output += piece
        os.close(master)
        assert proc.wait(timeout=60) == 0
        return output

    bar = stderr_on_tty(big)
    assert b"MB" in bar or b"MiB" in bar
    assert stderr_on_tty(small) == b""
