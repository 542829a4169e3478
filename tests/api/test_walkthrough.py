"""The voice-path walkthrough (seed, steps 2-8), end to end over every hop that exists:

    client ──TLS 1.3──▶ api (``callvault serve``, its own process)
                         ├─ mTLS 1.3 ──▶ keyd (``callvault keyd``, its own process)
                         ├─ TLS 1.3 ───▶ PostgreSQL (records; sslmode=verify-full)
                         └─ TLS 1.3 ───▶ S3 (Ceph radosgw; sealed recordings)
    pipeline ──TLS 1.3──▶ stand-in STT / LLM / TTS providers (the egress client factory)

One call (``call-0001``) is driven through all of them with ``X-Callvault-Call-Id``; every
process appends what its live connections negotiated to the call's trace
(``<api home>/traces/call-0001.jsonl``), and the test checks each hop there *and* from the
other end where the other end can tell (PostgreSQL's ``pg_stat_ssl``, keyd's audit log, the
providers' own sockets). Then a plaintext and a TLS 1.2 attempt on each hop are refused.
The trace is copied to ``$CALLVAULT_ARTIFACTS`` (default /tmp/callvault-artifacts) for
the posture document.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError
from sqlalchemy import text

from callvault import Environment, Vault
from callvault.audit import AuditLog
from callvault.format._header import PREFIX_SIZE, Header, header_length
from callvault.storage.records import create_records_engine
from callvault.testing import wait_for_line
from callvault.transport import (
    TlsProfile,
    ensure_local_tls,
    load_policy,
    negotiated,
    server_context,
)
from callvault.transport.ca import InternalCa
from callvault.transport.egress import EgressProviderSettings, EgressRefused, EgressSettings
from callvault.transport.egress._factory import egress_client
from callvault.transport.trace import CALL_ID_HEADER, CallTrace, read_trace, record_tls, tracing

from .conftest import CliServer

CALLVAULT = str(Path(sys.executable).with_name("callvault"))
TRUST_DOMAIN = "walkthrough.test"
CALL = "call-0001"
CALLER = "+15550007777"
AUDIO = bytes(range(256)) * 4096  # 1 MiB of "mu-law"
ALLOWED = {s.name for s in load_policy().profiles["modern"].tls13_suites}
GRANTS = (
    "\n[keyd.grants]\n"
    'api = ["generate_data_key", "wrap", "unwrap", "rewrap", "describe_key", "create_key",\n'
    '       "list_keys"]\n'
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    env.update(extra)
    return env


# -- the stand-in providers --------------------------------------------------------------


@dataclass
class Provider:
    """An HTTPS "STT/LLM/TTS provider" that records, from its own socket, what each request
    arrived over."""

    name: str
    port: int
    seen: list[dict[str, Any]] = field(default_factory=list)


def _start_provider(
    name: str, ctx: ssl.SSLContext, answer: bytes, stops: list[Callable[[], None]]
) -> Provider:
    provider = Provider(name, 0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert isinstance(self.connection, ssl.SSLSocket)
            provider.seen.append(dict(negotiated(self.connection)))
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    provider.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stops.append(lambda: (server.shutdown(), server.server_close()))
    return provider


# -- the deployment ----------------------------------------------------------------------


@dataclass
class Deployment:
    api: CliServer
    api_home: Path
    keyd_home: Path
    keyd_port: int
    token: str
    providers: dict[str, Provider]
    egress: EgressSettings
    provider_tls: Any
    bucket: str
    s3: Any
    db: Any

    def trace(self, process: str) -> CallTrace:
        return CallTrace(self.api_home / "traces", CALL, process=process)


@dataclass
class Keyd:
    home: Path
    port: int
    ca: InternalCa


@pytest.fixture
def keyd(tmp_path: Path) -> Iterator[Keyd]:
    """keyd in its own process: its own home, KMS and internal CA."""
    home = tmp_path / "keyd"
    Vault.init_home(home, Environment.DEV)
    with (home / "callvault.toml").open("a") as config:
        config.write(GRANTS)
    ca = InternalCa.init(home / "ca", home / "ca-root", trust_domain=TRUST_DOMAIN)
    proc = subprocess.Popen(
        [CALLVAULT, "keyd", "--home", str(home), "--host", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=_env(),
    )
    try:
        banner = wait_for_line(proc, b"keyd listening on ", 60)
        yield Keyd(home, int(banner.rsplit(b":", 1)[1]), ca)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None
        proc.stderr.close()


def _spki_pin(chain: Path) -> str:
    leaf = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    spki = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture
def providers(tmp_path: Path) -> Iterator[tuple[dict[str, Provider], EgressSettings, Any]]:
    """STT, LLM and TTS stand-ins behind one "public" CA the pipeline trusts, each pinned."""
    tls = ensure_local_tls(tmp_path / "providers-tls")
    ctx = server_context(TlsProfile.MODERN, tls.chain, tls.key)
    answers = {"stt": b"my member id is M-123", "llm": b"summary: billing", "tts": AUDIO[:4096]}
    stops: list[Callable[[], None]] = []
    running = {name: _start_provider(name, ctx, answer, stops) for name, answer in answers.items()}
    pin = _spki_pin(tls.chain)
    egress = EgressSettings(
        providers={
            name: EgressProviderSettings(
                base_url=f"https://localhost:{p.port}", ca_bundle=str(tls.ca), pins=[pin]
            )
            for name, p in running.items()
        }
    )
    try:
        yield running, egress, tls
    finally:
        for stop in stops:
            stop()


@pytest.fixture
def deployment(
    tmp_path: Path,
    keyd: Keyd,
    providers: tuple[dict[str, Provider], EgressSettings, Any],
    cli_serve: Callable[..., CliServer],
    run_cli: Callable[..., Any],
    pg_database: Callable[..., Any],
    radosgw_bucket: tuple[Any, Any, str],
) -> Deployment:
    """The api in its own process: records in PostgreSQL, objects in S3, keys through keyd
    with a certificate issued to it (files a sidecar would keep fresh), traces on."""
    api_home = tmp_path / "api"
    Vault.init_home(api_home, Environment.DEV)
    issued = keyd.ca.issue("api", ttl="24h")
    uri = (
        f"keyd://127.0.0.1:{keyd.port}/?identity=api&ca={keyd.home / 'ca'}"
        f"&cert={issued.chain}&key={issued.key}"
    )
    config_file = api_home / "callvault.toml"
    config_file.write_text(
        config_file.read_text().replace('kms = "local://"', f'kms = "{uri}"')
        + "\n[api]\ntrace_calls = true\n"
    )
    radosgw, s3, bucket = radosgw_bucket
    db = pg_database()
    env = {
        "CALLVAULT_STORAGE__RECORDS_URL": db.app_url.render_as_string(hide_password=False),
        "CALLVAULT_STORAGE__OBJECTS": "s3",
        "CALLVAULT_STORAGE__S3__BUCKET": bucket,
        "CALLVAULT_STORAGE__S3__ENDPOINT_URL": radosgw.endpoint,
        "CALLVAULT_STORAGE__S3__CA_BUNDLE": radosgw.ca,
        "CALLVAULT_STORAGE__S3__REGION": "us-east-1",
        "CALLVAULT_STORAGE__S3__ADDRESSING_STYLE": "path",
        "CALLVAULT_STORAGE__S3__SERVER_SIDE_ENCRYPTION": "false",
        "AWS_ACCESS_KEY_ID": radosgw.access_key,
        "AWS_SECRET_ACCESS_KEY": radosgw.secret_key,
    }
    created = run_cli(api_home, "tenants", "create", "acme", **env)
    assert created.returncode == 0, created.stderr
    minted = run_cli(api_home, "token", "--role", "service", "--tenant", "acme", **env)
    assert minted.returncode == 0, minted.stderr
    running, egress, provider_tls = providers
    return Deployment(
        cli_serve(api_home, **env),
        api_home,
        keyd.home,
        keyd.port,
        minted.stdout.strip(),
        running,
        egress,
        provider_tls,
        bucket,
        s3,
        db,
    )


# -- the call ----------------------------------------------------------------------------


def _client_hop(response: httpx.Response, trace: CallTrace) -> None:
    """The client's side of client → api, read off the connection that carried it."""
    conn = response.extensions["network_stream"].get_extra_info("ssl_object")
    with tracing(trace):
        record_tls(
            "client→api",
            str(response.url.netloc.decode()),
            conn,
            authenticated_by="chain to the api's CA and host name",
        )


def _drive_the_call(d: Deployment) -> None:
    headers = {CALL_ID_HEADER: CALL}
    client_trace = d.trace("client")
    with d.api.client(d.token) as client:
        put = client.put(
            f"/v1/tenants/acme/recordings/{CALL}",
            content=AUDIO,
            params={"subject": CALLER},
            headers=headers,
        )
        assert put.status_code == 201, put.text
        _client_hop(put, client_trace)
        with tracing(d.trace("pipeline")):  # the voice pipeline calls out, per provider
            words = {}
            for name in ("stt", "llm", "tts"):
                with egress_client(name, home=d.api_home, settings=d.egress) as provider:
                    reply = provider.post("/v1/run", content=b"audio or text")
                    assert reply.status_code == 200
                    words[name] = reply.content
        transcript = {"call_id": CALL, "caller": CALLER, "text": words["stt"].decode()}
        posted = client.post("/v1/tenants/acme/transcripts", json=transcript, headers=headers)
        assert posted.status_code == 201, posted.text
        got = client.get(f"/v1/tenants/acme/recordings/{CALL}", headers=headers)
        assert got.status_code == 200 and got.content == AUDIO
        _client_hop(got, client_trace)


def _tls_events(events: list[dict[str, Any]], hop: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == "tls" and e["hop"] == hop]


def test_one_call_crosses_every_hop_over_authenticated_tls13(
    deployment: Deployment, tmp_path: Path
) -> None:
    d = deployment
    _drive_the_call(d)
    events = read_trace(d.api_home / "traces", CALL)

    for hop, process in [
        ("client→api", "client"),
        ("keyd", "api"),
        ("postgresql", "api"),
        ("s3", "api"),
        ("egress:stt", "pipeline"),
        ("egress:llm", "pipeline"),
        ("egress:tts", "pipeline"),
    ]:
        seen = _tls_events(events, hop)
        assert seen, f"no {hop} hop in the trace"
        for event in seen:
            assert event["process"] == process, event
            assert event["protocol"] == "TLSv1.3", event
            assert event["cipher"] in ALLOWED, event
            assert event["authenticated_by"], event
    assert {e["peer_identity"] for e in _tls_events(events, "keyd")} == {
        f"spiffe://{TRUST_DOMAIN}/keyd"
    }
    for hop in ("client→api", "s3", "egress:stt"):  # a certificate was there, and is named
        assert all(len(e["peer_cert_sha256"]) == 64 for e in _tls_events(events, hop))

    # The other ends saw the same: each provider from its own socket ...
    for name, provider in d.providers.items():
        assert provider.seen and all(s["protocol"] == "TLSv1.3" for s in provider.seen), name
        traced = {e["cipher"] for e in _tls_events(events, f"egress:{name}")}
        assert traced == {s["cipher"] for s in provider.seen}
    # ... PostgreSQL from pg_stat_ssl: every session of the api's role in this database (a
    # role sees its own sessions' rows; ours is one more than the api's pool) ...
    viewer = create_records_engine(d.db.app_url)
    try:
        with viewer.connect() as connection:
            sessions = connection.execute(
                text(
                    "SELECT s.ssl, s.version, s.cipher, s.pid = pg_backend_pid() AS mine "
                    "FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                    "WHERE a.datname = current_database() AND a.usename = current_user"
                )
            ).all()
    finally:
        viewer.dispose()
    assert [row for row in sessions if not row.mine], "the api holds no database session"
    assert all(row.ssl and row.version == "TLSv1.3" for row in sessions)
    assert {row.cipher for row in sessions if not row.mine} >= {
        e["cipher"] for e in _tls_events(events, "postgresql")
    }
    # ... and keyd in its own audit log, under the api's SPIFFE ID.
    keyd_log = AuditLog.for_vault(Vault.open_home(d.keyd_home))
    api_id = f"spiffe://{TRUST_DOMAIN}/api"
    keyd_ops = {(e.action, e.outcome) for e in keyd_log.entries() if e.actor == api_id}
    assert ("keyd.generate_data_key", "ok") in keyd_ops

    # The key used at rest: the header of the object in the bucket names the key the trace
    # recorded for this call.
    stored = [o["Key"] for o in d.s3.list_objects_v2(Bucket=d.bucket)["Contents"]]
    recording = next(k for k in stored if k.endswith(CALL) or CALL in k)
    raw = d.s3.get_object(Bucket=d.bucket, Key=recording)["Body"].read()
    header = Header.parse(raw[: header_length(raw[:PREFIX_SIZE])])
    keys = [e for e in events if e["kind"] == "key"]
    assert any(
        e["key_id"] == header.key_ref.key_id
        and e["key_version"] == header.key_ref.version
        and e["operation"] == "generate"
        and e["outcome"] == "ok"
        for e in keys
    ), (header.key_ref, keys)
    assert AUDIO[:64] not in raw
    requests = [(e["method"], e["status"]) for e in events if e["kind"] == "request"]
    assert requests == [("PUT", 201), ("POST", 201), ("GET", 200)]

    # No secret, token or call content in the trace.
    blob = (d.api_home / "traces" / f"{CALL}.jsonl").read_bytes()
    for secret in (
        d.token.encode(),
        CALLER.encode(),
        b"M-123",
        (d.api_home / "root.key").read_bytes(),
    ):
        assert secret not in blob
    artifacts = Path(os.environ.get("CALLVAULT_ARTIFACTS", "/tmp/callvault-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(d.api_home / "traces" / f"{CALL}.jsonl", artifacts / "walkthrough-trace.jsonl")


# -- refusals, per hop -------------------------------------------------------------------


def _plaintext_gets_no_answer(port: int) -> None:
    """An HTTP/1.1 request in clear to a TLS port: no HTTP answer comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            answer = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    assert not answer.startswith(b"HTTP/"), answer[:40]


def _tls12_client(
    ca: Path | str, cert: Path | None = None, key: Path | None = None
) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    return ctx


def _tls12_refused(port: int, ctx: ssl.SSLContext, name: str = "localhost") -> None:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        pytest.raises(ssl.SSLError),
        ctx.wrap_socket(raw, server_hostname=name) as tls,
    ):
        tls.recv(1)  # a TLS 1.3 server may alert only after the handshake


def test_plaintext_and_tls12_are_refused_on_every_hop(
    deployment: Deployment, tmp_path: Path
) -> None:
    d = deployment
    # client → api
    _plaintext_gets_no_answer(d.api.port)
    _tls12_refused(d.api.port, _tls12_client(d.api_home / "tls" / "ca.pem"))
    # api → keyd (with a valid api certificate: the version alone is refused)
    ca = InternalCa.open(d.keyd_home / "ca")
    issued = ca.issue("api", ttl="1h")
    _plaintext_gets_no_answer(d.keyd_port)
    _tls12_refused(
        d.keyd_port,
        _tls12_client(d.keyd_home / "ca" / "root.pem", issued.chain, issued.key),
        "127.0.0.1",
    )
    # api → PostgreSQL: the server takes neither a session in clear nor TLS 1.2
    app = d.db.app_url
    base = dict(
        host=app.host,
        port=app.port,
        user=app.username,
        password=app.password,
        dbname=d.db.name,
        connect_timeout=10,
    )
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(**base, sslmode="disable").close()
    rootcert = app.query["sslrootcert"]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            **base, sslmode="verify-full", sslrootcert=rootcert, ssl_max_protocol_version="TLSv1.2"
        ).close()
    # api → S3 (radosgw)
    s3_port = int(urlsplit(os.environ["CALLVAULT_TEST_S3_ENDPOINT"]).port or 443)
    _plaintext_gets_no_answer(s3_port)
    _tls12_refused(s3_port, _tls12_client(os.environ["CALLVAULT_TEST_S3_CA"]), "127.0.0.1")
    # pipeline → provider: http:// is refused in the configuration and, as a request URL,
    # before any socket; a provider that offers only TLS 1.2 (not allow-listed) at the
    # handshake.
    stt_port = d.providers["stt"].port
    with pytest.raises(ValidationError, match="https://"):
        EgressProviderSettings(base_url=f"http://localhost:{stt_port}")
    before = len(d.providers["stt"].seen)
    with (
        pytest.raises(EgressRefused, match="http://") as refused,
        egress_client("stt", home=tmp_path, settings=d.egress) as client,
    ):
        client.post(f"http://localhost:{stt_port}/v1/run", content=b"x")
    assert len(d.providers["stt"].seen) == before, refused.value
    old_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    old_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    old_ctx.load_cert_chain(d.provider_tls.chain, d.provider_tls.key)
    stops: list[Callable[[], None]] = []
    old = _start_provider("old", old_ctx, b"ok", stops)
    try:
        settings = EgressSettings(
            providers={
                "old": EgressProviderSettings(
                    base_url=f"https://localhost:{old.port}", ca_bundle=str(d.provider_tls.ca)
                )
            }
        )
        with (
            pytest.raises(httpx.ConnectError),
            egress_client("old", home=tmp_path, settings=settings) as client,
        ):
            client.post("/v1/run", content=b"x")
        assert old.seen == [] and len(d.providers["stt"].seen) == before
    finally:
        for stop in stops:
            stop()
