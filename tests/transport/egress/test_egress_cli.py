"""``callvault egress report`` through the real executable, over evidence written by a real
connection whose provider comes from the home's ``callvault.toml``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from callvault.transport.egress import egress_client

CALLVAULT = str(Path(sys.executable).with_name("callvault"))


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    env["CALLVAULT_HOME"] = str(home)
    return subprocess.run(
        [CALLVAULT, "egress", *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.fixture
def configured(home: Path, pki: Any, provider_server: Any) -> int:
    """A home whose callvault.toml names two providers; one is reached once."""
    server = provider_server()
    (home / "callvault.toml").write_text(
        "[egress.providers.stt]\n"
        f'base_url = "https://localhost:{server.port}"\n'
        f'ca_bundle = "{pki.ca.path}"\n'
        "[egress.providers.tts]\n"
        'base_url = "https://tts.example"\n'
        "allow_tls12 = true\n"
    )
    with egress_client("stt", home=home) as client:  # settings from the file
        assert client.get("/").status_code == 200
    return int(server.port)


def test_report_json(home: Path, configured: int) -> None:
    result = _cli(home, "report", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["format"] == "callvault-egress-evidence-v1"
    assert doc["configured"]["tts"] == {
        "base_url": "https://tts.example",
        "allow_tls12": True,
        "pinned": False,
    }
    [entry] = doc["providers"]["stt"]
    assert (entry["outcome"], entry["protocol"], entry["port"]) == ("ok", "TLSv1.3", configured)
    assert "tts" not in doc["providers"]


def test_report_console_and_errors(home: Path, configured: int) -> None:
    table = _cli(home, "report")
    assert table.returncode == 0, table.stderr
    assert "TLSv1.3" in table.stdout and f"localhost:{configured}" in table.stdout
    assert "configured, no connection recorded: tts" in table.stdout
    missing = _cli(home, "report", "--provider", "llm")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: unknown egress provider 'llm'"
    (home / "egress" / "evidence.json").write_text('{"format": "something-else"}')
    corrupt = _cli(home, "report", "--json")
    assert corrupt.returncode == 1 and "callvault-egress-evidence-v1" in corrupt.stderr
