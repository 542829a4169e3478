"""``/dashboard``: a self-contained page (strict CSP, nothing from another origin) that
shows tenants and key metadata fetched over TLS from the guarded API, driven by a real
headless Chromium against the live server."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from callvault.api import PUBLIC_PATHS
from callvault.api._dashboard import CONTENT_SECURITY_POLICY, PATHS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = Path("/tmp/callvault-dashboard.png")


def test_page_is_self_contained_and_public(api) -> None:
    assert PATHS <= PUBLIC_PATHS
    with api.client() as client:  # no token: the static files are public
        for path in sorted(PATHS):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert "default-src 'self'" in CONTENT_SECURITY_POLICY
            assert "unsafe" not in CONTENT_SECURITY_POLICY
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["cache-control"] == "no-store"
            assert "strict-transport-security" in response.headers
            # Nothing loads from elsewhere: no absolute or protocol-relative URLs at all.
            assert not re.search(r"(https?:)?//[a-z0-9]", response.text, re.I), path
        types = {p: client.get(p).headers["content-type"].split(";")[0] for p in PATHS}
        assert types == {"/dashboard": "text/html", "/dashboard/app.js": "text/javascript",
                         "/dashboard/app.css": "text/css"}
        page = client.get("/dashboard").text
        assert '<script src="/dashboard/app.js"' in page
        assert "<script>" not in page and "style=" not in page  # CSP forbids inline
        assert client.get("/v1/tenants").status_code == 401  # the data stays guarded
        assert client.get("/v1/tenants/acme/keys").status_code == 401
        assert client.get("/dashboard/other.js").status_code == 404


def _spki_hash(chain: Path) -> str:
    leaf = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    spki = leaf.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _chromium(api, tmp_path: Path, url: str, *extra: str) -> str:
    if CHROMIUM is None:
        if os.environ.get("CALLVAULT_TEST_CHROMIUM_REQUIRED"):
            pytest.fail("chromium is required (CALLVAULT_TEST_CHROMIUM_REQUIRED) but missing")
        pytest.skip("chromium is not installed")
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
        # Trust exactly this server's key, as the test's httpx clients trust only its CA.
        f"--ignore-certificate-errors-spki-list={_spki_hash(api.tls.chain)}",
        "--virtual-time-budget=10000", "--window-size=1280,720", *extra, url,
    ]
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode()


def test_browser_shows_tenants_and_keys(api, tmp_path: Path) -> None:
    token = api.token("platform-admin")
    dom = _chromium(api, tmp_path, f"{api.url}/dashboard#token={token}", "--dump-dom")
    assert 'data-state="ready"' in dom, dom[-3000:]
    for tenant in ("acme", "globex"):
        assert f'data-tenant="{tenant}"' in dom
        for key in api.vault.list_keys(tenant):
            assert f'data-key-id="{key.key_id}"' in dom
            assert f">{key.key_id}<" in dom
    assert "Signed in as platform-admin" in dom
    assert "secure context" in dom
    assert token not in dom  # the fragment was consumed, never rendered

    _chromium(api, tmp_path, f"{api.url}/dashboard#token={token}",
              f"--screenshot={SCREENSHOT}")
    assert SCREENSHOT.stat().st_size > 5_000
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_browser_tenant_admin_and_bad_token(api, tmp_path: Path) -> None:
    own = _chromium(api, tmp_path, f"{api.url}/dashboard#token="
                    f"{api.token('tenant-admin', 'acme')}", "--dump-dom")
    assert 'data-state="ready"' in own, own[-3000:]
    assert 'data-tenant="acme"' in own and 'data-tenant="globex"' not in own
    assert all(f'data-key-id="{k.key_id}"' in own for k in api.vault.list_keys("acme"))
    assert "/globex/" not in own

    bad = _chromium(api, tmp_path, f"{api.url}/dashboard#token=not.a.token", "--dump-dom")
    assert 'data-state="unauthenticated"' in bad, bad[-3000:]
    assert "data-key-id" not in bad
