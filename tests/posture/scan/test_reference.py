"""The scanner against Debian's testssl.sh on every test server: same protocols, same
suites (compared by IANA code on the suites both tools can name)."""

from __future__ import annotations

from typing import Any

import pytest

from callvault.posture.scan import scan
from callvault.posture.scan._catalog import suites

_PROTO_IDS = {"SSLv3": "SSLv3", "TLS1": "TLSv1", "TLS1_1": "TLSv1.1", "TLS1_2": "TLSv1.2",
              "TLS1_3": "TLSv1.3"}  # fmt: skip
_CIPHER_PROTOS = {"ssl3": "SSLv3", "tls1": "TLSv1", "tls1_1": "TLSv1.1", "tls1_2": "TLSv1.2",
                  "tls1_3": "TLSv1.3"}  # fmt: skip


def _reference(findings: list[dict[str, Any]]) -> tuple[dict[str, bool], dict[str, set[int]]]:
    protocols: dict[str, bool] = {}
    accepted: dict[str, set[int]] = {}
    for f in findings:
        if f["id"] in _PROTO_IDS:
            protocols[_PROTO_IDS[f["id"]]] = f["finding"].startswith("offered")
        elif f["id"].startswith("cipher-"):
            proto, code = f["id"][len("cipher-") :].rsplit("_x", 1)
            accepted.setdefault(_CIPHER_PROTOS[proto], set()).add(int(code, 16))
    assert not [f for f in findings if f["severity"] == "FATAL"], findings
    return protocols, accepted


@pytest.mark.parametrize("name", ["legacy", "tls13", "ecdhe12", "callvault"])
def test_same_protocols_and_suites_as_testssl(
    name: str, servers: dict[str, int], testssl: dict[str, list[dict[str, Any]]], pki: Any
) -> None:
    report = scan(f"127.0.0.1:{servers[name]}", server_name="localhost", ca_file=str(pki.ca))
    data = report.to_dict()
    ref_protocols, ref_suites = _reference(testssl[name])
    assert ref_protocols, "testssl.sh reported no protocol result"
    for version, offered in ref_protocols.items():
        assert data["protocols"][version] is offered, (version, data["protocols"])
    by_name = {s.iana: s.code for s in suites().values()}
    known = set(suites())
    for version in data["protocols"]:
        mine = {by_name[n] for n in data["suites"].get(version, [])}
        # Compare on suites both can name: testssl.sh also lists codes outside the IANA
        # TLS_* registry (SSLv2, GOST drafts), which our table deliberately leaves out.
        theirs = ref_suites.get(version, set()) & known
        assert mine == theirs, (version, sorted(mine ^ theirs))
    assert any(data["suites"].values())
