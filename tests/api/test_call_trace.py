"""Per-call encryption traces (``[api] trace_calls``): a request naming its call appends
its key uses and its outcome to ``<home>/traces/<call id>.jsonl``; a malformed call id is
refused before anything runs; without the setting, or without the header, nothing is
written. The full walkthrough over every hop is ``test_walkthrough.py``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callvault import Vault
from callvault.api import ApiServices
from callvault.config import ApiSettings
from callvault.errors import InvalidRequest
from callvault.transport.trace import (
    CALL_ID_HEADER,
    TRACE_FORMAT,
    CallTrace,
    read_trace,
    record_key_use,
    tracing,
)

CALLER = "+15550002222"


def _server(tmp_path: Path, vault_factory: Any, start: Callable[..., Any], traced: bool) -> Any:
    vault = vault_factory(tmp_path / "home")
    settings = vault.settings.model_copy(update={"api": ApiSettings(trace_calls=traced)})
    vault = Vault(vault.home, settings, vault.provider)
    return start(vault, ApiServices.from_settings(vault))


def test_a_traced_request_records_its_key_uses_and_outcome(
    tmp_path: Path, vault_factory: Any, start_server: Callable[..., Any]
) -> None:
    server = _server(tmp_path, vault_factory, start_server, traced=True)
    headers = {CALL_ID_HEADER: "call-7"}
    with server.client(server.token("service", "acme")) as client:
        put = client.put(
            "/v1/tenants/acme/recordings/r-7",
            content=b"hello" * 1000,
            params={"subject": CALLER},
            headers=headers,
        )
        assert put.status_code == 201, put.text
        assert client.get("/v1/tenants/acme/recordings/r-404", headers=headers).status_code == 404
    events = read_trace(server.vault.home / "traces", "call-7")
    assert {e["format"] for e in events} == {TRACE_FORMAT}
    assert {e["process"] for e in events} == {"api"}
    keys = [e for e in events if e["kind"] == "key"]
    assert any(
        e["operation"] == "generate"
        and e["key_id"] == "dev/acme/default"
        and e["outcome"] == "ok"
        for e in keys
    ), keys
    requests = [(e["method"], e["path"], e["status"]) for e in events if e["kind"] == "request"]
    assert requests == [
        ("PUT", "/v1/tenants/acme/recordings/r-7", 201),
        ("GET", "/v1/tenants/acme/recordings/r-404", 404),
    ]
    blob = (server.vault.home / "traces" / "call-7.jsonl").read_bytes()
    assert CALLER.encode() not in blob and b"hello" not in blob and b"subject" not in blob


@pytest.mark.parametrize("bad", ["../escape", "+15550002222", "a/b", "-x", "x" * 65, ""])
def test_a_malformed_call_id_is_refused_before_the_request_runs(
    tmp_path: Path, vault_factory: Any, start_server: Callable[..., Any], bad: str
) -> None:
    server = _server(tmp_path, vault_factory, start_server, traced=True)
    with server.client(server.token("service", "acme")) as client:
        put = client.put(
            "/v1/tenants/acme/recordings/r-1", content=b"x", headers={CALL_ID_HEADER: bad}
        )
        assert put.status_code == 400 and put.json()["error"]["code"] == "invalid_request"
        assert client.get("/v1/tenants/acme/recordings/r-1").status_code == 404  # not stored
    traces = server.vault.home / "traces"
    assert not traces.exists() or not any(traces.iterdir())


def test_untraced_servers_and_requests_write_nothing(
    tmp_path: Path, vault_factory: Any, start_server: Callable[..., Any]
) -> None:
    server = _server(tmp_path, vault_factory, start_server, traced=False)
    with server.client(server.token("service", "acme")) as client:
        put = client.put(
            "/v1/tenants/acme/recordings/r-1", content=b"x", headers={CALL_ID_HEADER: "call-1"}
        )
        assert put.status_code == 201
    assert not (server.vault.home / "traces").exists()


def test_trace_files_refuse_bad_ids_and_bad_lines(tmp_path: Path) -> None:
    for bad in ("", "../x", "+1555", "a b", "x" * 65):
        with pytest.raises(InvalidRequest):
            CallTrace(tmp_path, bad)
    record_key_use(  # outside a trace: nothing, anywhere
        operation="unwrap",
        provider="local",
        key_id="k",
        key_version=1,
        object_id=None,
        outcome="ok",
    )
    trace = CallTrace(tmp_path, "call-1", process="pipeline")
    with tracing(trace):
        record_key_use(
            operation="unwrap",
            provider="local",
            key_id="dev/acme/recording",
            key_version=2,
            object_id="o-1",
            outcome="ok",
        )
    assert [e["key_version"] for e in read_trace(tmp_path, "call-1")] == [2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call-1.jsonl"]
    with trace.path.open("a") as lines:
        lines.write("not json\n")
    with pytest.raises(InvalidRequest, match="line 2"):
        read_trace(tmp_path, "call-1")
