"""``callvault scan``: a TLS scanner that grades an endpoint against versioned profiles.

    from callvault.posture.scan import scan
    report = scan("api.example.com:443", ca_file=None, timeout=5.0)
    report.to_dict()["grades"]["callvault-modern"]["grade"]   # "A+", "A", "B", "C" or "F"

Probes are hand-built ClientHellos (``_wire``, ``_probe``): every accepted protocol and
suite is found, including ones the local OpenSSL would refuse. The certificate and HSTS
come from one real handshake (``_handshake``). Profiles and the suite table are data
(``data/``). Specified in docs/posture/scan.md.
"""

from callvault.posture.scan._errors import ScanError
from callvault.posture.scan._grade import GRADES, grade_at_least
from callvault.posture.scan._html import render_html
from callvault.posture.scan._profiles import PROFILE_IDS, GradingProfile, load_profiles
from callvault.posture.scan._rules import RULES, SEVERITIES, Rule
from callvault.posture.scan._scan import FORMAT, ScanReport, parse_target, scan

__all__ = [
    "FORMAT",
    "GRADES",
    "PROFILE_IDS",
    "RULES",
    "SEVERITIES",
    "GradingProfile",
    "Rule",
    "ScanError",
    "ScanReport",
    "grade_at_least",
    "load_profiles",
    "parse_target",
    "render_html",
    "scan",
]
