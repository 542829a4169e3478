"""The keyd wire protocol seen from a raw mTLS HTTP client, and the ``keyd://`` URI.

Malformed requests are refused before the provider is touched (and audited); the
negotiated connection is TLS 1.3 with an allow-listed suite; the URI refuses anything
that could weaken or confuse the transport."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest

from callvault import ConfigError, KeyUnavailable, OpenError
from callvault.keys.providers._remote_settings import parse_keyd_uri
from callvault.keys.providers._remote_wire import KeyAccessDenied, error_from_body
from callvault.transport import TlsProfile, client_context, negotiated, profile_spec

from .conftest import TRUST_DOMAIN, RunningKeyd


def _raw(keyd: RunningKeyd, service: str = "api") -> http.client.HTTPSConnection:
    issued = keyd.ca.issue(service)
    ctx = client_context(
        TlsProfile.MODERN, ca=issued.trust_bundle, cert=issued.chain, key=issued.key
    )
    return http.client.HTTPSConnection("127.0.0.1", keyd.port, context=ctx, timeout=10)


def _post(conn: http.client.HTTPSConnection, path: str, body: bytes, **headers: str) -> Any:
    conn.request("POST", path, body=body, headers=headers)
    answer = conn.getresponse()
    return answer.status, json.loads(answer.read())


def test_the_connection_is_tls13_with_an_allowed_suite(keyd: RunningKeyd) -> None:
    conn = _raw(keyd)
    try:
        status, body = _post(conn, "/v1/describe_key", b'{"key_id": "dev/acme/default"}')
        assert (status, body["error"]["code"]) == (404, "KeyNotFound")
        assert conn.sock is not None
        seen = negotiated(conn.sock)
        assert seen["protocol"] == "TLSv1.3"
        assert seen["cipher"] in {s.name for s in profile_spec(TlsProfile.MODERN).tls13_suites}
        assert seen["peer_spiffe_ids"] == [f"spiffe://{TRUST_DOMAIN}/keyd"]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/v1/describe_key", b"not json", 400, "InvalidRequest"),
        ("/v1/describe_key", b"[]", 400, "InvalidRequest"),
        ("/v1/describe_key", b'{"key_id": "dev/a/default", "x": 1}', 400, "InvalidRequest"),
        ("/v1/unwrap", b'{"key_id": "dev/a/default"}', 400, "InvalidRequest"),
        ("/v1/export_key", b'{"key_id": "dev/a/default"}', 400, "InvalidRequest"),
        ("/v2/unwrap", b"{}", 400, "InvalidRequest"),
        (
            "/v1/unwrap",
            b'{"key_id": "dev/a/default", "associated_data": "!!", '
            b'"wrapped": {"version": 1, "blob": "AA=="}}',
            400,
            "InvalidRequest",
        ),
    ],
)
def test_malformed_requests_are_refused_and_audited(
    keyd: RunningKeyd, path: str, body: bytes, status: int, code: str
) -> None:
    conn = _raw(keyd)
    try:
        assert _post(conn, path, body)[0:1] == (status,)
    finally:
        conn.close()
    entry = keyd.audited(lambda e: e.outcome == code)
    assert entry.actor == f"spiffe://{TRUST_DOMAIN}/api"


def test_bodies_are_bounded_and_only_post_is_served(keyd: RunningKeyd) -> None:
    conn = _raw(keyd)
    try:
        big = b'{"key_id": "' + b"a" * 70_000 + b'"}'
        assert _post(conn, "/v1/describe_key", big)[0] == 413
    finally:
        conn.close()
    conn = _raw(keyd)
    try:
        conn.request("GET", "/v1/list_keys")
        assert conn.getresponse().status == 405
    finally:
        conn.close()


def test_error_bodies_map_back_to_kinds_and_unknown_ones_fail_closed() -> None:
    def body(code: str) -> Any:
        return {"error": {"code": code, "message": "m"}}

    assert isinstance(error_from_body(422, body("OpenError")), OpenError)
    assert isinstance(error_from_body(403, body("KeyAccessDenied")), KeyAccessDenied)
    for weird in (body("SystemExit"), body("Exception"), {"oops": 1}, None, body("Internal")):
        failure = error_from_body(500, weird)
        assert type(failure) is KeyUnavailable


@pytest.mark.parametrize(
    "uri",
    [
        "keyd://127.0.0.1/",  # no port
        "keyd://user:pw@127.0.0.1:8444/",
        "keyd://127.0.0.1:8444/v1",
        "keyd://127.0.0.1:8444/?idenity=api",  # typo
        "keyd://127.0.0.1:8444/?identity=API",
        "keyd://127.0.0.1:8444/?cert=c.pem",  # a certificate without its key
        "keyd://127.0.0.1:8444/?identity=api&identity=ops",
        "https://127.0.0.1:8444/",
    ],
)
def test_bad_keyd_uris_are_refused(uri: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        parse_keyd_uri(uri, tmp_path)


def test_keyd_uri_defaults(tmp_path: Path) -> None:
    settings = parse_keyd_uri("keyd://keyd.internal:8444", tmp_path)
    assert (settings.host, settings.port, settings.identity, settings.server) == (
        "keyd.internal",
        8444,
        "api",
        "keyd",
    )
    assert settings.ca == tmp_path / "ca" and settings.cert is None
    relative = parse_keyd_uri("keyd://h:1/?ca=pki/ca&identity=ops", tmp_path)
    assert (relative.ca, relative.identity) == (tmp_path / "pki/ca", "ops")
