"""Sections about what the system is: overview, algorithms, cipher allowlist, key
hierarchy and inventory, customer-managed keys. Every number comes from the facts."""

from __future__ import annotations

from typing import Any

from callvault.posture.document._blocks import Block, Bullets, Heading, Paragraph, Table
from callvault.posture.facts import CheckStatus, PostureFacts

__all__ = ["algorithms", "allowlist", "cmk", "keys", "overview"]


def _checks_line(facts: PostureFacts, *ids: str) -> Paragraph:
    parts = [f"{i}: {facts.check(i).status.value} ({facts.check(i).evidence})" for i in ids]
    return Paragraph("Checks: " + "; ".join(parts) + ".")


def overview(facts: PostureFacts, controls: list[tuple[Any, CheckStatus]]) -> list[Block]:
    counts = {s: sum(1 for c in facts.checks if c.status is s) for s in CheckStatus}
    passing = sum(1 for _, s in controls if s is CheckStatus.PASS)
    return [
        Heading(1, "callvault encryption posture", "top"),
        Paragraph(
            "Generated from the live system, not from a template: every statement below is "
            "read from the running configuration, the key service, the audit log, the "
            "certificate inventory and the recorded scan and lint reports."
        ),
        Table(
            ("field", "value"),
            (
                ("generated at (UTC)", facts.as_json()["generated_at"]),
                ("home", facts.home),
                ("environment", facts.environment),
                ("callvault version", facts.version),
                ("facts SHA-256", facts.sha256()),
                ("controls passing", f"{passing} of {len(controls)}"),
                ("checks", ", ".join(f"{counts[s]} {s.value}" for s in CheckStatus)),
            ),
        ),
        Paragraph(
            "The facts SHA-256 is taken over the canonical JSON of `callvault posture "
            '--format json` (key "facts" + "checks"); re-running the command on the same '
            "state gives the same hash apart from the timestamp."
        ),
    ]


def algorithms(facts: PostureFacts) -> list[Block]:
    algo = facts.section("algorithms")
    rows = tuple((p["use"], p["algorithm"], p["why"]) for p in algo["primitives"])
    return [
        Heading(2, "Algorithms and why", "algorithms"),
        Table(("use", "algorithm", "why"), rows),
        Paragraph(f"All primitives come from {algo['library']}."),
        _checks_line(facts, "algo.envelope", "algo.library"),
    ]


def allowlist(facts: PostureFacts) -> list[Block]:
    tls = facts.section("tls")
    reasons = tls["suite_reasons"]
    rows = tuple(
        (s["protocol"], s["iana"], s["openssl"], reasons.get(s["iana"], ""))
        for s in tls["enforced_suites"]
    )
    return [
        Heading(2, "Cipher allowlist enforced", "allowlist"),
        Paragraph(
            f"Policy {tls['policy']}, profile {tls['profile']} ({tls['description']}) "
            f"{tls['min_version']} to {tls['max_version']}. The suites below are what "
            f"OpenSSL ({tls['openssl']}) reports it can negotiate with the context the "
            "listener factory builds, not a copy of the policy file."
        ),
        Table(("protocol", "suite (IANA)", "OpenSSL name", "why"), rows),
        Paragraph("Disabled across the board, and why:"),
        Table(("disabled", "reason"), tuple(sorted(tls["forbidden"].items()))),
        Paragraph(
            f"Key exchange groups listed by the profile: {', '.join(tls['groups'])} "
            "(the listener uses OpenSSL's default group list, all ECDHE or hybrid; "
            f"see the post-quantum plan). HSTS: {tls['hsts']}."
        ),
        _checks_line(
            facts,
            "tls.allowlist",
            "tls.tls13_only",
            "tls.legacy_disabled",
            "tls.hsts",
            "scan.graded",
        ),
    ]


def keys(facts: PostureFacts) -> list[Block]:
    k = facts.section("keys")
    days = k["cadence_days"]
    schedule = {s["name"]: s for s in k["schedule"]}
    inventory = tuple(
        (
            m["key_id"],
            m["provider"],
            m["state"],
            f"v{m['primary_version']} (decrypts v{m['min_decrypt_version']}+)",
            m["created_at"][:10],
            m["rotated_at"][:10],
            str(schedule[m["key_id"]]["age_days"]) if m["key_id"] in schedule else "-",
            schedule[m["key_id"]]["state"] if m["key_id"] in schedule else m["state"],
        )
        for m in k["master_keys"]
    )
    others = tuple(
        (s["name"], s["kind"], s["last_rotated"][:10], s["next_due"][:10], s["state"])
        for s in k["schedule"]
        if s["kind"] in ("JWT signing key", "TLS certificate")
    )
    blocks: list[Block] = [
        Heading(2, "Key hierarchy and key inventory", "keys"),
        Bullets(tuple(k["hierarchy"]), ordered=True),
        Paragraph(
            f"Master keys are held by the {k['kms']} KMS provider. Rotation cadence (days): "
            f"tenant master keys {days['master_key']}, backup keys {days['backup_key']}, "
            f"JWT signing key {days['signing_key']}, TLS certificates "
            f"{days['tls_certificate']}; 'due soon' {days['warn_before']} days ahead; data "
            f"keys are per object. Automatic rotation by serve: "
            f"{'on' if k['auto_rotation'] else 'off'}."
        ),
        Table(
            (
                "key id",
                "provider",
                "state",
                "primary",
                "created",
                "last rotated",
                "age (days)",
                "rotation",
            ),
            inventory,
        ),
    ]
    if others:
        blocks.append(Table(("key", "kind", "last rotated", "next due", "rotation"), others))
    blocks.append(
        _checks_line(
            facts,
            "keys.rotation",
            "keys.signing_rotation",
            "keys.tls_certificate",
            "keys.environment_scoped",
        )
    )
    return blocks


def cmk(facts: PostureFacts) -> list[Block]:
    c = facts.section("keys")["cmk"]
    registered = tuple(
        (r["tenant"], r["class"], r["provider"], r["key_id"]) for r in c["registered_customer_keys"]
    )
    configured = ", ".join(f"{n} ({s})" for n, s in c["configured_providers"].items()) or "none"
    blocks: list[Block] = [
        Heading(2, "Customer-managed key options", "cmk"),
        Paragraph(
            "A tenant can hold the master key of any data class (recording, transcript, "
            "analytics, audit, backup) in its own KMS. Supported provider schemes: "
            f"{', '.join(c['supported_schemes'])}. Providers configured here: {configured}. "
            f"Register with: {c['command']}."
        ),
    ]
    if registered:
        blocks.append(Table(("tenant", "class", "provider", "key id"), registered))
    else:
        blocks.append(Paragraph("No customer-managed key is registered in this home."))
    blocks.append(_checks_line(facts, "keys.cmk"))
    return blocks
