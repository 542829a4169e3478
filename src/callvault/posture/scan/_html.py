"""The HTML report: one self-contained file (inline CSS, no scripts, no external
resources), every value from the scanned peer escaped, since a hostile server chooses its
certificate subject and its HTTP headers."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["render_html"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:70rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #c9d1d9;
padding:.25rem .6rem;text-align:left;vertical-align:top}th{background:#f3f5f7}
.g{font-weight:700;font-size:1.1rem}.critical,.high{color:#a40e26}.medium{color:#9a6700}
.low{color:#0a5fb4}.info{color:#57606a}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _rows(pairs: list[tuple[str, Any]]) -> str:
    return "".join(f"<tr><th scope='row'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs)


def render_html(report: dict[str, Any], headline: str) -> str:
    """The report as HTML, with ``headline`` (a profile id) graded first."""
    grades = report["grades"]
    order = [headline, *(p for p in grades if p != headline)]
    cert = report["certificate"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>callvault scan {_e(report['target'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>TLS scan of {_e(report['target'])}</h1>",
        f"<p>Server name {_e(report['server_name'])}, scanned {_e(report['scanned_at'])}.</p>",
        "<h2>Grades</h2><table><tr><th>Profile</th><th>Grade</th><th>Passed</th></tr>",
    ]
    for pid in order:
        g = grades[pid]
        parts.append(
            f"<tr><td>{_e(pid)}</td><td class='g'>{_e(g['grade'])}</td>"
            f"<td>{'yes' if g['passed'] else 'no'}</td></tr>"
        )
    parts.append("</table><h2>Protocols and suites</h2><table>")
    for version, on in report["protocols"].items():
        names = "<br>".join(_e(s) for s in report["suites"].get(version, []))
        parts.append(f"<tr><th scope='row'>{_e(version)}</th><td>{'accepted' if on else 'no'}")
        parts.append(f"</td><td>{names}</td></tr>")
    parts.append("</table><table>")
    parts.append(
        _rows(
            [
                ("Groups", ", ".join(report["groups"]) or "none found"),
                ("Hybrid post-quantum", report["hybrid_pq"]),
                ("Forward secrecy (every suite)", report["forward_secrecy"]),
                ("HSTS", (report["hsts"] or {}).get("value") if report["hsts"] else "not HTTP"),
            ]
        )
    )
    parts.append("</table><h2>Certificate</h2><table>")
    keys = ("subject", "issuer", "not_after", "days_to_expiry", "key_type", "key_bits",
            "signature_hash", "self_signed", "hostname_match", "trusted",
            "trust_error")  # fmt: skip
    parts.append(
        _rows([(k, cert.get(k)) for k in keys if k in cert]) or _rows([("present", False)])
    )
    parts.append("</table>")
    for pid in order:
        parts.append(f"<h2>Findings: {_e(pid)} ({_e(grades[pid]['grade'])})</h2><table>")
        parts.append("<tr><th>Severity</th><th>Rule</th><th>Message</th></tr>")
        for f in grades[pid]["findings"]:
            sev = _e(f["severity"])
            parts.append(
                f"<tr><td class='{sev}'>{sev}</td><td><code>{_e(f['rule'])}</code></td>"
                f"<td>{_e(f['message'])}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
