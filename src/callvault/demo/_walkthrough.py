"""The embedded-default walkthrough: one call's recording and transcript through the whole
key hierarchy, then erasure. Each step reports to an observer; the CLI renders it.

Nothing here prints call data: the caller's number appears only as its blind id.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from callvault import CallvaultError, DataClass, KeyDestroyed, OpenError, Vault
from callvault.demo._recording import SAMPLE_RATE, mulaw_recording
from callvault.format import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, Header, header_length

__all__ = ["Step", "run_walkthrough"]

TENANT = "demo-clinic"
CALLER = "+15551234567"
OTHER_TENANT = "other-clinic"


@dataclass(frozen=True)
class Step:
    title: str
    facts: dict[str, str] = field(default_factory=dict)
    ok: bool = True


Observer = Callable[[Step], None]


class _CountingReader:
    """A seekable reader that counts the bytes it hands out (to show what a range read touches)."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.bytes_read = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        self.bytes_read += len(data)
        return data


def _refusal(attempt: Callable[[], bytes]) -> str:
    """How an open that must fail was refused (or "OPENED (bug)" if it was not)."""
    try:
        attempt()
    except KeyDestroyed:
        return "refused: key destroyed (cryptographically erased)"
    except OpenError as exc:
        return f"refused: {exc}"
    except CallvaultError as exc:
        return f"refused: {type(exc).__name__}: {exc}"
    return "OPENED (bug)"


def _mib_s(size: int, seconds: float) -> str:
    return f"{size / (1024 * 1024) / max(seconds, 1e-9):.0f} MiB/s"


def run_walkthrough(home: Path, minutes: float, report: Observer) -> bool:
    """Run every step; returns True when every check held."""
    outcomes_ok: list[bool] = []

    def emit(step: Step) -> None:
        outcomes_ok.append(step.ok)
        report(step)

    init = Vault.init_home(home)
    vault = Vault.open_home(home)
    emit(Step("home created", {
        "home": str(home), "environment": init.environment.value,
        "root key": f"{init.root_key_file} (mode {init.root_key_file.stat().st_mode & 0o777:04o})"
        if init.root_key_file else "from environment",
        "KMS": vault.settings.kms,
    }))

    vault.create_tenant(TENANT, [DataClass.TRANSCRIPT])
    keys = vault.list_keys(TENANT)
    emit(Step("tenant and master keys", {
        "tenant": TENANT,
        **{k.key_id: f"{k.provider}, v{k.primary_version}, {k.state.value}" for k in keys},
    }))

    audio = mulaw_recording(minutes * 60)
    digest = hashlib.sha256(audio).hexdigest()
    emit(Step("call recording generated", {
        "format": f"WAV, G.711 mu-law, {SAMPLE_RATE} Hz mono, {minutes:g} min",
        "size": f"{len(audio):,} bytes", "sha256": digest[:16] + "…",
    }))

    ctx = vault.context(TENANT, DataClass.RECORDING, "call-0001", CALLER)
    sealed_path = home / "call-0001.recording.cvlt"
    started = time.perf_counter()
    with sealed_path.open("wb") as dst:
        vault.seal_stream(ctx, io.BytesIO(audio), dst)
    seal_s = time.perf_counter() - started
    sealed = sealed_path.read_bytes()
    header = Header.parse(sealed[: header_length(sealed[:8])])
    emit(Step("recording sealed (streamed)", {
        "key reference": str(header.key_ref),
        "subject key": f"blind id {header.subject_key_id.hex()[:16]}… (caller never stored)",
        "wrapped DEK": f"{len(header.wrapped_dek)} bytes (AES-256-GCM under the subject key)",
        "sealed size": f"{len(sealed):,} bytes (+{len(sealed) - len(audio)} overhead)",
        "throughput": _mib_s(len(audio), seal_s),
        "plaintext in file": "no" if audio[1000:1064] not in sealed else "YES (bug)",
    }, ok=audio[1000:1064] not in sealed))

    second = int(min(60, minutes * 30))  # two seconds from minute 1 (or mid-call if shorter)
    start, end = second * SAMPLE_RATE, min((second + 2) * SAMPLE_RATE, len(audio)) - 1
    with sealed_path.open("rb") as raw:
        src = _CountingReader(raw)
        reader = vault.range_reader(ctx, cast(BinaryIO, src))
        opened_with = src.bytes_read
        piece = reader.read(start, end)
    ok = piece == audio[start : end + 1]
    emit(Step(f"range read: seconds {second}-{second + 2}", {
        "bytes": f"{start}-{end}",
        "read from disk": f"{opened_with} bytes to open (header + commitment), then "
        f"{src.bytes_read - opened_with:,} bytes = "
        f"{(src.bytes_read - opened_with) / ENCRYPTED_CHUNK_SIZE:g} of "
        f"{len(audio) // CHUNK_SIZE + 1} chunks",
        "matches original": "yes" if ok else "NO",
    }, ok=ok))

    started = time.perf_counter()
    out = io.BytesIO()
    with sealed_path.open("rb") as sealed_file:
        vault.open_stream(ctx, sealed_file, out)
    open_s = time.perf_counter() - started
    ok = hashlib.sha256(out.getvalue()).hexdigest() == digest
    emit(Step("recording opened", {
        "sha256 matches": "yes" if ok else "NO", "throughput": _mib_s(len(audio), open_s),
    }, ok=ok))

    transcript = json.dumps({
        "call_id": "call-0001", "caller": CALLER,
        "text": "Hi, I need to move my appointment to Thursday.",
        "segments": [{"start": 0.0, "end": 2.9, "speaker": "caller"}],
    }).encode()
    tctx = vault.context(TENANT, DataClass.TRANSCRIPT, "call-0001", CALLER)
    sealed_transcript = vault.seal(tctx, transcript)
    ok = vault.open(tctx, sealed_transcript) == transcript
    theader = Header.parse(sealed_transcript[: header_length(sealed_transcript[:8])])
    emit(Step("transcript sealed and opened", {
        "key reference": str(theader.key_ref) + " (the tenant's dedicated transcript key)",
        "size": f"{len(transcript)} → {len(sealed_transcript)} bytes",
        "round trip": "ok" if ok else "FAILED",
    }, ok=ok))

    tampered = bytearray(sealed)
    tampered[len(sealed) // 2] ^= 0x01
    vault.create_tenant(OTHER_TENANT)
    attempts: dict[str, Callable[[], bytes]] = {
        "one bit flipped": lambda: vault.open(ctx, bytes(tampered)),
        "claimed by another object id": lambda: vault.open(
            vault.context(TENANT, DataClass.RECORDING, "call-0002", CALLER), sealed),
        "claimed by another tenant": lambda: vault.open(
            vault.context(OTHER_TENANT, DataClass.RECORDING, "call-0001", CALLER), sealed),
        "claimed as a transcript": lambda: vault.open(
            vault.context(TENANT, DataClass.TRANSCRIPT, "call-0001", CALLER), sealed),
    }
    outcomes = {name: _refusal(attempt) for name, attempt in attempts.items()}
    ok = all(v.startswith("refused") for v in outcomes.values())
    emit(Step("tampering and misuse", outcomes, ok=ok))

    destroyed = vault.destroy_subject(TENANT, CALLER)
    after = {}
    erasure_attempts: dict[str, Callable[[], bytes]] = {
        "recording": lambda: vault.open(ctx, sealed_path.read_bytes()),
        "transcript": lambda: vault.open(tctx, sealed_transcript),
    }
    after = {name: _refusal(attempt) for name, attempt in erasure_attempts.items()}
    erased = all(v == "refused: key destroyed (cryptographically erased)" for v in after.values())
    emit(Step("erasure of the caller", {
        "subject keys destroyed": str(len(destroyed)),
        "ciphertext still on disk": f"{sealed_path.stat().st_size:,} bytes, unreadable",
        **after,
    }, ok=erased))
    return all(outcomes_ok)
