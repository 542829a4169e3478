"""What is particular to the AWS KMS provider (the shared contract is test_contract.py).

Against moto's server (``kms_backend_aws``, a real HTTP server on 127.0.0.1): the layout of
aliases and tags, rotation re-pointing the primary alias, retirement and state changes
applied to every version's KMS key, the encryption context that binds associated data
(checked on the wire and by the server), foreign keys behind an alias refused, ReEncrypt
checked even where the server ignores ``SourceKeyId``, URI parsing, and secrets kept out of
logs. Throttling cannot be produced by moto, so that one response comes from a Stubber.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import logging
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from callvault import ConfigError, Environment, KeyExists, KeyUnavailable, OpenError
from callvault.errors import InvalidRequest, KeyDestroyed
from callvault.keys import KeyMaterial
from callvault.keys.providers import KeyState, ProviderSettings, WrappedKey, open_provider
from callvault.keys.providers._aws import AwsKms
from callvault.keys.providers._aws_redact import REDACTED
from callvault.keys.providers._aws_settings import AwsKmsSettings, parse_aws_uri
from callvault.keys.providers._registry import open_bare_provider

DEV = Environment.DEV
NewKeyId = Callable[..., str]


def _session(secret: str = "testing") -> Any:
    return boto3.session.Session(
        aws_access_key_id="AKIDTESTING", aws_secret_access_key=secret, region_name="eu-central-1"
    )


@pytest.fixture
def aws(kms_backend_aws: dict[str, Any]) -> dict[str, str]:
    return kms_backend_aws["notes"]


@pytest.fixture
def make(aws: dict[str, str]) -> Callable[..., AwsKms]:
    def build(session: Any = None, clock: Any = None, environment: Environment = DEV) -> AwsKms:
        settings = AwsKmsSettings(
            region=aws["region"], endpoint=aws["endpoint"], allow_plaintext_endpoint_for_tests=True
        )
        extra = {"clock": clock} if clock else {}
        return AwsKms(settings, environment, session=session or _session(), **extra)

    return build


@pytest.fixture
def raw(aws: dict[str, str]) -> Any:
    """A plain boto3 client on the same moto server, to look behind the provider's back."""
    return _session().client("kms", endpoint_url=aws["endpoint"], region_name=aws["region"])


def _tags(raw: Any, alias: str) -> dict[str, str]:
    key = raw.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
    return {t["TagKey"]: t["TagValue"] for t in raw.list_resource_tags(KeyId=key)["Tags"]}


def _state(raw: Any, alias: str) -> str:
    return str(raw.describe_key(KeyId=alias)["KeyMetadata"]["KeyState"])


def _aliases(raw: Any, key_id: str) -> set[str]:
    prefix = f"alias/callvault/{key_id}"
    return {
        a["AliasName"].removeprefix(prefix)
        for page in raw.get_paginator("list_aliases").paginate()
        for a in page["Aliases"]
        if a["AliasName"].startswith(prefix)
    }


# -- layout -------------------------------------------------------------------------------


def test_one_kms_key_per_version_joined_by_aliases_and_tags(
    make: Callable[..., AwsKms], raw: Any, new_key_id: NewKeyId
) -> None:
    provider, key_id = make(), new_key_id()
    provider.create_key(key_id, {"tenant": "acme", "cost-centre": "voice/eu"})
    v1 = _tags(raw, f"alias/callvault/{key_id}")
    assert v1 == {
        "callvault:key-id": key_id,
        "callvault:version": "1",
        "callvault:environment": "dev",
        "callvault:min-decrypt-version": "1",
        "callvault:label:tenant": "acme",
        "callvault:label:cost-centre": "voice/eu",
    }
    _, old = provider.generate_data_key(key_id, b"ad")
    assert provider.rotate_key(key_id).primary_version == 2
    assert _aliases(raw, key_id) == {"", "/v1", "/v2"}
    primary = raw.describe_key(KeyId=f"alias/callvault/{key_id}")["KeyMetadata"]
    v2 = raw.describe_key(KeyId=f"alias/callvault/{key_id}/v2")["KeyMetadata"]
    first = raw.describe_key(KeyId=f"alias/callvault/{key_id}/v1")["KeyMetadata"]
    assert primary["Arn"] == v2["Arn"] != first["Arn"]  # the alias moved to a new KMS key
    tags = _tags(raw, f"alias/callvault/{key_id}/v2")
    assert tags["callvault:version"] == "2" and tags["callvault:anchor"] == first["Arn"]
    assert "callvault:min-decrypt-version" not in tags and tags["callvault:label:tenant"] == "acme"
    for metadata in (first, v2):  # AWS's own backing-key rotation as well
        assert raw.get_key_rotation_status(KeyId=metadata["KeyId"])["KeyRotationEnabled"]
    assert provider.unwrap(key_id, old, b"ad")  # the old version still opens
    assert provider.generate_data_key(key_id, b"ad")[1].version == 2


def test_labels_that_cannot_be_tags_are_refused(
    make: Callable[..., AwsKms], new_key_id: NewKeyId
) -> None:
    provider = make()
    for labels in ({"bad\nname": "x"}, {"n": "é"}, {f"l{i}": "v" for i in range(41)}):
        with pytest.raises(InvalidRequest):
            provider.create_key(new_key_id(), labels)
    with pytest.raises(InvalidRequest):
        provider.create_key("dev/acme/has.dot", {})


def test_an_interrupted_rotation_is_completed_not_duplicated(
    make: Callable[..., AwsKms], raw: Any, new_key_id: NewKeyId
) -> None:
    provider, key_id = make(), new_key_id()
    provider.create_key(key_id, {})
    anchor = raw.describe_key(KeyId=f"alias/callvault/{key_id}")["KeyMetadata"]["Arn"]
    # A rotation that died after claiming version 2 but before moving the primary alias:
    tags = {"callvault:key-id": key_id, "callvault:version": "2"}
    tags |= {"callvault:environment": "dev", "callvault:anchor": anchor}
    orphan = raw.create_key(Tags=[{"TagKey": k, "TagValue": v} for k, v in tags.items()])
    raw.create_alias(
        AliasName=f"alias/callvault/{key_id}/v2", TargetKeyId=orphan["KeyMetadata"]["KeyId"]
    )
    assert provider.describe_key(key_id).primary_version == 1
    described = provider.rotate_key(key_id)
    assert (described.primary_version, described.versions) == (2, (1, 2))
    assert _aliases(raw, key_id) == {"", "/v1", "/v2"}


def test_concurrent_creation_leaves_one_winner(
    make: Callable[..., AwsKms], new_key_id: NewKeyId
) -> None:
    first, second, key_id = make(), make(), new_key_id()
    first.create_key(key_id, {})
    with pytest.raises(KeyExists):
        second.create_key(key_id, {})


# -- states ---------------------------------------------------------------------------------


def test_retirement_moves_the_alias_and_disables_the_kms_key(
    make: Callable[..., AwsKms], raw: Any, new_key_id: NewKeyId
) -> None:
    provider, key_id = make(), new_key_id()
    provider.create_key(key_id, {})
    _, old = provider.generate_data_key(key_id, b"ad")
    provider.rotate_key(key_id)
    provider.set_min_decrypt_version(key_id, 2)
    assert _aliases(raw, key_id) == {"", "/v2", "/retired/v1"}
    assert _state(raw, f"alias/callvault/{key_id}/retired/v1") == "Disabled"
    assert (
        _tags(raw, f"alias/callvault/{key_id}/retired/v1")["callvault:min-decrypt-version"] == "2"
    )
    with pytest.raises(KeyUnavailable, match="retired"):
        provider.unwrap(key_id, old, b"ad")
    with pytest.raises(KeyUnavailable, match="retired"):
        provider.rewrap(key_id, old, b"ad")
    provider.set_min_decrypt_version(key_id, 1)
    assert _aliases(raw, key_id) == {"", "/v1", "/v2"}
    assert _state(raw, f"alias/callvault/{key_id}/v1") == "Enabled"
    provider.unwrap(key_id, old, b"ad")


def test_state_changes_reach_every_version_but_not_retired_ones(
    make: Callable[..., AwsKms], raw: Any, new_key_id: NewKeyId
) -> None:
    provider, key_id = make(), new_key_id()
    provider.create_key(key_id, {})
    provider.rotate_key(key_id)
    provider.rotate_key(key_id)
    provider.set_min_decrypt_version(key_id, 2)
    live = [f"alias/callvault/{key_id}/v{n}" for n in (2, 3)]
    retired = f"alias/callvault/{key_id}/retired/v1"
    assert provider.disable_key(key_id).state is KeyState.DISABLED
    assert {_state(raw, a) for a in [*live, retired]} == {"Disabled"}
    with pytest.raises(KeyUnavailable):
        provider.rotate_key(key_id)
    assert provider.enable_key(key_id).state is KeyState.ENABLED
    assert [_state(raw, a) for a in [*live, retired]] == ["Enabled", "Enabled", "Disabled"]
    with pytest.raises(ValueError, match="7 to 30"):
        provider.schedule_deletion(key_id, 3)  # AWS's minimum window: refused, not stretched
    described = provider.schedule_deletion(key_id, 7)
    assert described.state is KeyState.PENDING_DELETION and described.deletion_date
    assert {_state(raw, a) for a in [*live, retired]} == {"PendingDeletion"}
    with pytest.raises(KeyUnavailable, match="cannot destroy"):
        provider.destroy(key_id)
    assert provider.cancel_deletion(key_id).state is KeyState.ENABLED
    assert [_state(raw, a) for a in [*live, retired]] == ["Enabled", "Enabled", "Disabled"]


def test_a_key_past_its_deletion_date_reads_as_destroyed(
    make: Callable[..., AwsKms], new_key_id: NewKeyId
) -> None:
    provider, key_id = make(), new_key_id()
    provider.create_key(key_id, {})
    provider.schedule_deletion(key_id, 7)
    later = make(clock=lambda: datetime.now(UTC) + timedelta(days=8))
    assert later.describe_key(key_id).state is KeyState.DESTROYED
    assert later.destroy(key_id).state is KeyState.DESTROYED


# -- binding and checks ---------------------------------------------------------------------


def test_associated_data_travels_as_encryption_context(
    make: Callable[..., AwsKms], raw: Any, new_key_id: NewKeyId
) -> None:
    session = _session()
    sent: list[dict[str, Any]] = []
    session.events.register(
        "provide-client-params.kms.GenerateDataKey", lambda params, **_: sent.append(dict(params))
    )
    provider, key_id = make(session=session), new_key_id()
    provider.create_key(key_id, {})
    key, wrapped = provider.generate_data_key(key_id, b"object ad")
    (params,) = sent
    context = params["EncryptionContext"]
    assert context["callvault:key-id"] == key_id and len(context) == 2
    assert len(base64.b64decode(context["callvault:ad-sha256"])) == 32
    assert b"object ad" not in repr(context).encode()  # a digest, not the data (CloudTrail)
    # The server binds it: the same blob under another context is refused by moto itself.
    good = raw.decrypt(CiphertextBlob=wrapped.blob, EncryptionContext=context)
    assert good["Plaintext"] == key.secret_bytes()
    other = dict(context, **{"callvault:ad-sha256": base64.b64encode(bytes(32)).decode()})
    for bad in (other, {}):
        with pytest.raises(raw.exceptions.InvalidCiphertextException):
            raw.decrypt(CiphertextBlob=wrapped.blob, EncryptionContext=bad)


def test_rewrap_moves_to_the_primary_inside_kms(
    make: Callable[..., AwsKms], new_key_id: NewKeyId
) -> None:
    provider, key_id = make(), new_key_id()
    provider.create_key(key_id, {})
    key, old = provider.generate_data_key(key_id, b"ad")
    provider.rotate_key(key_id)
    new = provider.rewrap(key_id, old, b"ad")
    assert new.version == 2 and new.blob != old.blob
    assert provider.unwrap(key_id, new, b"ad").secret_bytes() == key.secret_bytes()
    with pytest.raises(OpenError):
        provider.rewrap(key_id, old, b"other ad")
    # moto ignores ReEncrypt's SourceKeyId; the provider checks the key that decrypted.
    with pytest.raises(OpenError):
        provider.rewrap(key_id, WrappedKey(2, old.blob), b"ad")


def test_an_alias_pointed_at_a_foreign_key_is_refused(
    make: Callable[..., AwsKms], raw: Any, new_key_id: NewKeyId
) -> None:
    provider, key_id = make(), new_key_id()
    provider.create_key(key_id, {})
    other = new_key_id()
    provider.create_key(other, {})
    foreign = raw.describe_key(KeyId=f"alias/callvault/{other}")["KeyMetadata"]["KeyId"]
    own = raw.describe_key(KeyId=f"alias/callvault/{key_id}")["KeyMetadata"]["KeyId"]
    untagged = raw.create_key()["KeyMetadata"]["KeyId"]
    try:
        for target in (foreign, untagged):
            raw.update_alias(AliasName=f"alias/callvault/{key_id}", TargetKeyId=target)
            fresh = make()  # no cached knowledge of these KMS keys
            with pytest.raises(KeyUnavailable, match="not"):
                fresh.generate_data_key(key_id, b"ad")
            with pytest.raises(KeyUnavailable):
                fresh.describe_key(key_id)
    finally:  # the server is shared: list_keys elsewhere must not meet this key
        raw.update_alias(AliasName=f"alias/callvault/{key_id}", TargetKeyId=own)


def test_throttling_is_key_unavailable(make: Callable[..., AwsKms], new_key_id: NewKeyId) -> None:
    provider, key_id = make(), new_key_id()
    client = provider._store.client  # the provider's own client, for the Stubber
    with Stubber(client) as stub:
        stub.add_client_error("generate_data_key", "ThrottlingException", "Rate exceeded", 400)
        stub.add_client_error("decrypt", "ThrottlingException", "Rate exceeded", 400)
        with pytest.raises(KeyUnavailable, match="throttling"):
            provider.generate_data_key(key_id, b"ad")
        with pytest.raises(KeyUnavailable, match="throttling"):
            provider.unwrap(key_id, WrappedKey(1, bytes(60)), b"ad")
        stub.assert_no_pending_responses()


def test_disabled_and_invalid_state_errors_are_key_unavailable(
    make: Callable[..., AwsKms], new_key_id: NewKeyId
) -> None:
    """What real AWS answers for a disabled / pending-deletion key (moto never does): an
    unwrap refused by state is looked into; a key merely disabled may come back."""
    provider, key_id = make(), new_key_id()
    with Stubber(provider._store.client) as stub:
        stub.add_client_error("decrypt", "DisabledException", "disabled", 400)
        stub.add_response("describe_key", _key_metadata("Disabled"))
        stub.add_client_error("encrypt", "KMSInvalidStateException", "pending", 400)
        stub.add_client_error("decrypt", "IncorrectKeyException", "wrong key", 400)
        with pytest.raises(KeyUnavailable, match="disabled") as refused:
            provider.unwrap(key_id, WrappedKey(1, bytes(60)), b"ad")
        assert not isinstance(refused.value, KeyDestroyed)
        with pytest.raises(KeyUnavailable, match="current state"):
            provider.wrap(key_id, KeyMaterial(bytes(32), "test"), b"ad")
        with pytest.raises(OpenError):
            provider.unwrap(key_id, WrappedKey(1, bytes(60)), b"ad")
        stub.assert_no_pending_responses()


def test_an_unwrap_under_a_key_pending_deletion_is_key_destroyed(
    make: Callable[..., AwsKms], new_key_id: NewKeyId
) -> None:
    """An erasure disables the key and schedules its deletion (AWS cannot delete at once):
    from then on the data it protects reads as erased, not as "retry later"."""
    provider, key_id = make(), new_key_id()
    with Stubber(provider._store.client) as stub:
        stub.add_client_error("decrypt", "KMSInvalidStateException", "pending deletion", 400)
        stub.add_response("describe_key", _key_metadata("PendingDeletion"))
        with pytest.raises(KeyDestroyed, match="scheduled for deletion"):
            provider.unwrap(key_id, WrappedKey(1, bytes(60)), b"ad")
        stub.assert_no_pending_responses()


def _key_metadata(state: str) -> dict[str, Any]:
    return {
        "KeyMetadata": {
            "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
            "KeyState": state,
            "DeletionDate": datetime(2026, 12, 5, tzinfo=UTC),
        }
    }


# -- secrets and configuration ------------------------------------------------------------


def test_secrets_and_key_material_never_reach_the_log(
    make: Callable[..., AwsKms], new_key_id: NewKeyId, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "cvSECRETvalue0123456789abcdefABCDEF012345"
    caplog.set_level(logging.DEBUG)
    provider, key_id = make(session=_session(secret)), new_key_id()
    provider.create_key(key_id, {})
    key, wrapped = provider.generate_data_key(key_id, b"ad")
    provider.wrap(key_id, key, b"ad")
    provider.unwrap(key_id, wrapped, b"ad")
    text = caplog.text
    assert "botocore" in text and REDACTED in text  # botocore did log; the filter worked
    raw_key = key.secret_bytes()
    for leak in (secret, base64.b64encode(raw_key).decode(), raw_key.hex(), repr(raw_key)):
        assert leak not in text
    assert secret not in repr(provider) and secret not in repr(provider.settings)


def test_uri_parsing() -> None:
    settings = parse_aws_uri(
        "aws://?region=eu-central-1&endpoint=https://kms.internal:8443&profile=ops"
        "&ca_bundle=/etc/ca.pem"
    )
    assert (settings.region, settings.endpoint, settings.profile) == (
        "eu-central-1",
        "https://kms.internal:8443",
        "ops",
    )
    assert (
        settings.ca_bundle == Path("/etc/ca.pem")
        and not settings.allow_plaintext_endpoint_for_tests
    )
    assert parse_aws_uri("aws://").region is None
    plain = parse_aws_uri("aws://?endpoint=http://127.0.0.1:1&allow_plaintext_endpoint_for_tests=1")
    assert plain.allow_plaintext_endpoint_for_tests


@pytest.mark.parametrize(
    "uri",
    [
        "aws://kms.example.com",
        "aws:///path",
        "aws://AKIDEXAMPLE:hunter2hunter2@",
        "aws://?aws_secret_access_key=hunter2hunter2",
        "aws://?session_token=hunter2hunter2",
        "aws://?endpoint=http://kms.internal",
        "aws://?endpoint=https://user:hunter2hunter2@kms.internal",
        "aws://?endpoint=ftp://kms.internal",
        "aws://?region=EU_CENTRAL",
        "aws://?region=a&region=b",
        "aws://?colour=blue",
        "aws://?allow_plaintext_endpoint_for_tests=maybe",
        "aws://?max_attempts=0",
        "awskms://?region=eu-central-1",
    ],
)
def test_bad_uris_are_config_errors_that_echo_no_secret(uri: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_aws_uri(uri)
    assert "hunter2" not in str(caught.value)


def test_the_registry_opens_aws_uris(tmp_path: Path) -> None:
    settings = ProviderSettings(home=tmp_path, environment=Environment.PROD)
    provider = open_bare_provider("aws://?region=eu-central-1", settings)
    stacked = open_provider("aws://?region=eu-central-1", settings)
    assert stacked.scheme == "aws" and isinstance(stacked.inner.inner, AwsKms)  # type: ignore[attr-defined]
    assert isinstance(provider, AwsKms) and provider.scheme == "aws"
    assert provider.environment is Environment.PROD
    client = provider._store.client
    assert client.meta.region_name == "eu-central-1"
    assert client.meta.endpoint_url.startswith("https://")
    assert client.meta.config.retries["mode"] == "standard"
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (3.0, 10.0)
    with pytest.raises(ConfigError):
        open_provider("aws://?endpoint=http://127.0.0.1:9", settings)


# -- TLS ------------------------------------------------------------------------------------


def _tls_files(tmp: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a 127.0.0.1 certificate it signed: (ca.pem, cert.pem, key.pem)."""
    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kms test CA")])

    def issue(subject: x509.Name, public: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if ca:  # keyCertSign + cRLSign
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
        if not ca:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            # Critical, as RFC 5280 requires with an empty subject (and SKI/AKI above): the
            # client's TLS policy verifies with VERIFY_X509_STRICT, which checks both.
            builder = builder.add_extension(san, critical=True)
        return builder.sign(ca_key, hashes.SHA256())

    ca_cert = issue(ca_name, ca_key.public_key(), ca=True)
    leaf = issue(x509.Name([]), key.public_key(), ca=False)
    paths = (tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem")
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls_proxy(aws: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(https://127.0.0.1:PORT, ca.pem)``: TLS 1.3 terminated here, forwarded to moto."""
    ca, cert, key = _tls_files(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    upstream = int(aws["endpoint"].rsplit(":", 1)[1])
    stop = threading.Event()

    def pump(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError), a, b:
            while not stop.is_set():
                ready, _, _ = select.select([a, b], [], [], 0.2)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)

    def serve() -> None:
        while not stop.is_set():
            try:
                raw_conn, _ = listener.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError, ssl.SSLError):
                raw_conn.settimeout(5)
                tls = context.wrap_socket(raw_conn, server_side=True)
                tls.settimeout(None)
                target = socket.create_connection(("127.0.0.1", upstream))
                threading.Thread(target=pump, args=(tls, target), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}", ca
    stop.set()
    thread.join()
    listener.close()


def test_tls_endpoint_is_verified(
    tls_proxy: tuple[str, Path], aws: dict[str, str], new_key_id: NewKeyId
) -> None:
    endpoint, ca = tls_proxy
    trusted = AwsKms(
        AwsKmsSettings(region=aws["region"], endpoint=endpoint, ca_bundle=ca),
        DEV,
        session=_session(),
    )
    key_id = new_key_id()
    trusted.create_key(key_id, {})
    key, wrapped = trusted.generate_data_key(key_id, b"ad")
    assert trusted.unwrap(key_id, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    # The same server without its CA in the trust store: refused, fail closed.
    untrusted = AwsKms(
        AwsKmsSettings(region=aws["region"], endpoint=endpoint, max_attempts=1),
        DEV,
        session=_session(),
    )
    with pytest.raises(KeyUnavailable, match="SSL"):
        untrusted.describe_key(key_id)
