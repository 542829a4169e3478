"""``/dashboard``: a self-contained page (strict CSP, nothing from another origin) that
shows tenants and key metadata fetched over TLS from the guarded API, driven by a real
headless Chromium against the live server."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tests.api.test_posture_routes import HOSTILE, plant

from callvault.api import PUBLIC_PATHS, ApiServices
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
        assert types == {
            "/dashboard": "text/html",
            "/dashboard/app.js": "text/javascript",
            "/dashboard/app.css": "text/css",
        }
        page = client.get("/dashboard").text
        assert '<script src="/dashboard/app.js"' in page
        assert "<script>" not in page and "style=" not in page  # CSP forbids inline
        assert client.get("/v1/tenants").status_code == 401  # the data stays guarded
        assert client.get("/v1/tenants/acme/keys").status_code == 401
        assert client.get("/dashboard/other.js").status_code == 404


def _spki_hash(chain: Path) -> str:
    leaf = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    spki = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _chromium(api, tmp_path: Path, url: str, *extra: str) -> str:
    if CHROMIUM is None:
        if os.environ.get("CALLVAULT_TEST_CHROMIUM_REQUIRED"):
            pytest.fail("chromium is required (CALLVAULT_TEST_CHROMIUM_REQUIRED) but missing")
        pytest.skip("chromium is not installed")
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        # Trust exactly this server's key, as the test's httpx clients trust only its CA.
        f"--ignore-certificate-errors-spki-list={_spki_hash(api.tls.chain)}",
        "--virtual-time-budget=10000",
        "--window-size=1280,720",
        *extra,
        url,
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

    _chromium(api, tmp_path, f"{api.url}/dashboard#token={token}", f"--screenshot={SCREENSHOT}")
    assert SCREENSHOT.stat().st_size > 5_000
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_browser_tenant_admin_and_bad_token(api, tmp_path: Path) -> None:
    own = _chromium(
        api,
        tmp_path,
        f"{api.url}/dashboard#token={api.token('tenant-admin', 'acme')}",
        "--dump-dom",
    )
    assert 'data-state="ready"' in own, own[-3000:]
    assert 'data-tenant="acme"' in own and 'data-tenant="globex"' not in own
    assert all(f'data-key-id="{k.key_id}"' in own for k in api.vault.list_keys("acme"))
    assert "/globex/" not in own

    bad = _chromium(api, tmp_path, f"{api.url}/dashboard#token=not.a.token", "--dump-dom")
    assert 'data-state="unauthenticated"' in bad, bad[-3000:]
    assert "data-key-id" not in bad


# -- the posture view, end to end in Playwright-driven Chromium ----------------------------

ARTIFACTS = Path(os.environ.get("CALLVAULT_ARTIFACTS", "/tmp/callvault-artifacts"))
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def posture_server(vault, start_server, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A server over a home holding one of everything the posture view shows."""
    server = start_server(vault, ApiServices.embedded(vault))
    planted = plant(vault, tmp_path / "ca-root")
    with server.client(server.token("tenant-admin", "acme")) as client:
        assert (
            client.post(
                "/v1/tenants/acme/erasures", json={"subject": "+15551234567", "grace_days": 7}
            ).status_code
            == 201
        )
    return server, planted


@contextlib.contextmanager
def _page(server, width: int = 1280, height: int = 900):  # type: ignore[no-untyped-def]
    """A fresh headless Chromium page that trusts exactly this server's key (its SPKI
    hash, like the httpx clients trust only its CA); records dialogs and console errors."""
    if CHROMIUM is None:
        if os.environ.get("CALLVAULT_TEST_CHROMIUM_REQUIRED"):
            pytest.fail("chromium is required (CALLVAULT_TEST_CHROMIUM_REQUIRED) but missing")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*_ARGS, f"--ignore-certificate-errors-spki-list={_spki_hash(server.tls.chain)}"],
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.dialogs = []  # type: ignore[attr-defined]
            page.console_errors = []  # type: ignore[attr-defined]
            page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
            # Script errors and CSP refusals; not the 404 of /favicon.ico.
            page.on("pageerror", lambda e: page.console_errors.append(str(e)))
            page.on(
                "console",
                lambda m: (
                    m.type == "error"
                    and "favicon" not in m.location.get("url", "")
                    and page.console_errors.append(m.text)
                ),
            )
            yield page
        finally:
            browser.close()


def _sign_in_by_keyboard(page, token: str) -> None:  # type: ignore[no-untyped-def]
    """Tab from the top of the page to the token field and the button, as a keyboard user."""
    focused = []
    for _ in range(3):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("document.activeElement.id || document.activeElement.className")
        )
        if focused[-1] == "token":
            break
    assert focused[0] == "skip" and focused[-1] == "token", focused  # skip link, then field
    page.keyboard.type(token)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "keyboard focus must be visible"
    page.keyboard.press("Enter")


def test_posture_view_end_to_end(posture_server) -> None:  # type: ignore[no-untyped-def]
    server, planted = posture_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with _page(server) as page:
        response = page.goto(f"{server.url}/dashboard")
        assert response is not None and response.status == 200  # TLS trusted, no bypass
        _sign_in_by_keyboard(page, server.token("auditor"))
        page.wait_for_selector("body[data-state=ready]", timeout=30_000)
        assert page.locator("#status").inner_text() == "Posture loaded."

        # Overview grade: large, and said in words, not by colour alone.
        assert page.locator("#grade .grade-letter").inner_text() == "F"
        assert page.locator("#grade .grade-label").inner_text() == "F: critical failure"
        assert page.get_by_text(f"F: scan {HOSTILE}: F for callvault-modern").is_visible()
        # Landmarks and headings.
        assert page.get_by_role("main").count() == 1 and page.get_by_role("banner").count() == 1
        for name in (
            "Overview grade",
            "Keys due or overdue for rotation",
            "Latest TLS scans",
            "Erasures in their grace period",
            "Audit log verification",
            "Certificates nearing expiry",
            "Compliance controls",
        ):
            assert page.get_by_role("heading", name=name, level=3).is_visible(), name
            assert page.get_by_role("region", name=name).count() == 1, name
        # Keys due: the overdue key, in a captioned table, state in words.
        keys = page.get_by_role("table", name=re.compile("^Keys due soon or overdue"))
        row = keys.locator(f'tr[data-key="{planted.overdue_key}"]')
        assert row.locator("th[scope=row]").inner_text() == planted.overdue_key
        assert row.locator("td").last.inner_text() == "overdue"
        # Scans: the hostile target is text, its findings name their rules.
        targets = page.locator(".scan-target").all_inner_texts()
        assert sorted(targets) == sorted([planted.good_target, HOSTILE])
        findings = page.get_by_role("table", name=f"Findings for {HOSTILE}")
        assert findings.locator("th[scope=row]").all_inner_texts() == [
            "protocol.tls10",
            "suite.cbc",
        ]
        assert findings.get_by_text(f"CBC suite accepted {HOSTILE}").is_visible()
        assert page.locator("img").count() == 0  # nothing injected
        assert page.dialogs == []  # type: ignore[attr-defined]
        # Erasures in grace, audit state, certificates.
        erasures = page.get_by_role("table", name="Scheduled or running erasures")
        assert "yes, in grace" in erasures.inner_text() and "acme" in erasures.inner_text()
        audit = page.locator("#audit")
        assert audit.get_attribute("data-audit") == "verified"
        assert audit.locator("p").first.inner_text().startswith("Verified: ")
        certs = page.get_by_role("table", name=re.compile("^Certificates expired, revoked"))
        intermediate = certs.locator(f'tr[data-serial="{planted.intermediate_serial}"]')
        assert "expires within 30 days" in intermediate.inner_text()
        assert "spiffe://callvault.internal/keyd" in certs.inner_text()
        # Every table has a caption and scoped headers.
        assert page.evaluate(
            "[...document.querySelectorAll('table')].every("
            "t => t.caption && t.caption.textContent.trim())"
        )
        assert page.evaluate("[...document.querySelectorAll('th')].every(th => th.scope)")
        assert page.console_errors == []  # type: ignore[attr-defined]  # incl. CSP reports
        page.screenshot(path=str(ARTIFACTS / "dashboard-1280.png"), full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(100)  # a layout pass; nothing is timed on it
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways page
        assert page.locator("#grade .grade-letter").is_visible()
        page.screenshot(path=str(ARTIFACTS / "dashboard-390.png"), full_page=True)
    for name in ("dashboard-1280.png", "dashboard-390.png"):
        assert (ARTIFACTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (ARTIFACTS / name).stat().st_size > 20_000


def test_posture_view_refused_for_a_service_token(posture_server) -> None:  # type: ignore[no-untyped-def]
    server, _ = posture_server
    with _page(server, 390, 844) as page:
        page.goto(f"{server.url}/dashboard")
        page.get_by_label(re.compile("^Bearer token")).fill(server.token("service", "acme"))
        page.get_by_role("button", name="Show").click()
        page.wait_for_selector("body[data-state=ready]", timeout=30_000)
        posture = page.locator("#posture")
        assert posture.get_attribute("data-posture") == "forbidden"
        notice = posture.locator(".notice").inner_text()
        assert notice.startswith("Not permitted: the role service cannot read")
        assert "auditor or platform-admin" in notice
        assert page.locator("#grade").count() == 0 and page.locator("table").count() == 0
        assert page.locator("#status").inner_text().startswith("Loaded (posture not permitted")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-forbidden-390.png"), full_page=True)
        # Forget the token: the sign-in form is back and has the focus.
        page.get_by_role("button", name="Forget token").click()
        page.wait_for_selector("body[data-state=signed-out]")
        assert page.evaluate("document.activeElement.id") == "token"


def test_script_never_writes_markup() -> None:
    """The page's only way to show server data is ``textContent`` (the e2e test proves it
    with a hostile scan target); no API that parses a string as HTML appears at all."""
    from callvault.api._dashboard import asset

    script = asset("/dashboard/app.js")[0].decode()
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setTimeout("',
        ".style.",
    ):
        assert sink not in script, sink
    assert "textContent" in script
