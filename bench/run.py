"""callvault benchmark suite.

    .venv/bin/python -m bench            # full run (a few minutes at most)
    .venv/bin/python -m bench --quick    # CI smoke test (< 60 s)
    .venv/bin/python bench/run.py --json results.json

What is measured and how to read it: bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/run.py`: make `bench` importable
    sys.path.insert(0, str(_ROOT))
try:
    import callvault
except ImportError:  # not installed in this interpreter: use the source tree
    sys.path.insert(0, str(_ROOT / "src"))
    import callvault

import cryptography  # noqa: E402
from cryptography.cobblestone import (  # noqa: E402
    Cobblestone256Decryptor,
    Cobblestone256Encryptor,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from bench._memprobe import NullSink, PatternSource, ViewSource  # noqa: E402
from bench._timing import Variant, measure_group, measure_ratio, settle_allocator  # noqa: E402
from bench.api import api_targets, bench_api, print_api  # noqa: E402
from bench.audit import audit_targets, bench_audit, print_audit  # noqa: E402
from bench.erasure import bench_erasure, erasure_targets, print_erasure  # noqa: E402
from bench.keyd import bench_keyd, keyd_targets, print_keyd  # noqa: E402
from bench.providers import bench_providers, print_providers  # noqa: E402
from bench.rewrap import bench_rewrap, print_rewrap  # noqa: E402
from callvault import DataClass, Vault  # noqa: E402
from callvault.format import Header, header_length  # noqa: E402

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
STREAM_TARGET_RATIO = 0.90
STREAM_TARGET_MIN_SIZE = 1 * MiB
PEAK_RSS_TARGET = 64 * MiB
_PROBE = Path(__file__).resolve().parent / "_memprobe.py"


# -- plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    name: str
    sizes: tuple[int, ...]
    reps: dict[int, int]  # samples per variant, by object size
    target_seconds: float  # minimum duration of one sample
    range_object: int
    range_reps: int
    range_target_seconds: float
    key_reps: int
    stream_size: int  # object streamed by the memory probe
    pairs: dict[int, int]  # back-to-back sample pairs of a target's ratio, by object size
    pair_seconds: float  # minimum duration of one sample of a pair

    def reps_for(self, size: int) -> int:
        return self.reps.get(size, 5)

    def pairs_for(self, size: int) -> int:
        return self.pairs.get(size, 9)


FULL = Plan(
    name="full",
    sizes=(1 * KiB, 64 * KiB, 1 * MiB, 16 * MiB, 256 * MiB),
    reps={1 * KiB: 15, 64 * KiB: 15, 1 * MiB: 21, 16 * MiB: 11, 256 * MiB: 5},
    target_seconds=0.05,
    range_object=256 * MiB,
    range_reps=9,
    range_target_seconds=0.2,
    key_reps=11,
    stream_size=1 * GiB,
    pairs={1 * MiB: 41, 16 * MiB: 21, 256 * MiB: 9},
    pair_seconds=0.01,
)
QUICK = Plan(
    name="quick",
    sizes=(1 * KiB, 64 * KiB, 1 * MiB, 16 * MiB),
    reps={1 * KiB: 5, 64 * KiB: 5, 1 * MiB: 5, 16 * MiB: 3},
    target_seconds=0.01,
    range_object=16 * MiB,
    range_reps=3,
    range_target_seconds=0.05,
    key_reps=3,
    stream_size=128 * MiB,
    pairs={1 * MiB: 9, 16 * MiB: 5},
    pair_seconds=0.005,
)
SECTIONS = (
    "throughput",
    "range",
    "keys",
    "memory",
    "api",
    "rewrap",
    "erasure",
    "audit",
    "providers",
    "keyd",
)


def fmt_size(n: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def log(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)


# -- throughput: seal and open against bare Cobblestone-256 and AES-GCM ------------------

IMPLS = (
    "cobblestone",
    "aesgcm",
    "cobblestone_stream",
    "vault",
    "vault_stream",
    "vault_stream_noio",
)
IMPL_LABELS = {
    "cobblestone": "bare Cobblestone-256 one-shot: update(all) + finalize()",
    "aesgcm": "bare AES-256-GCM one-shot, random 12-byte nonce",
    "cobblestone_stream": "bare Cobblestone-256 streaming loop, same I/O as the vault stream "
    "(BytesIO -> read 1 MiB -> update -> write -> BytesIO)",
    "vault": "vault.seal / vault.open",
    "vault_stream": "vault.seal_stream / open_stream, BytesIO -> BytesIO",
    "vault_stream_noio": "vault.seal_stream / open_stream with no I/O cost: a source of "
    "in-memory views (no copy) -> discarding sink",
}
_LOOP_BLOCK = 1 * MiB


def _repeat(n: int, fn: Callable[[], object]) -> None:
    for _ in range(n):
        fn()


def bench_size(vault: Vault, size: int, plan: Plan) -> dict[str, Any]:
    data = os.urandom(size)
    ctx = vault.context("acme", DataClass.RECORDING, f"bench-{size}")
    sealed = vault.seal(ctx, data)
    # The bare references get the same key size and the same C2SP context callvault uses.
    header = Header.parse(sealed[: header_length(sealed[:8])])
    body_context = header.body_context(ctx)
    key = os.urandom(32)
    enc = Cobblestone256Encryptor(key, body_context)
    cob_ct = enc.update(data) + enc.finalize()
    aead = AESGCM(key)
    nonce = os.urandom(12)
    aes_ct = aead.encrypt(nonce, data, None)
    _check_roundtrips(vault, ctx, data, sealed)

    def cob_seal(n: int) -> None:
        for _ in range(n):
            e = Cobblestone256Encryptor(key, body_context)
            e.update(data)
            e.finalize()

    def cob_open(n: int) -> None:
        for _ in range(n):
            d = Cobblestone256Decryptor(key, body_context)
            d.update(cob_ct)
            d.finalize()

    def cob_loop(factory: Any, source: bytes) -> Callable[[int], None]:
        dst = io.BytesIO()

        def run(n: int) -> None:
            for _ in range(n):
                dst.seek(0)
                src, c = io.BytesIO(source), factory(key, body_context)
                while block := src.read(_LOOP_BLOCK):
                    dst.write(c.update(block))
                dst.write(c.finalize())

        return run

    def aes_seal(n: int) -> None:
        for _ in range(n):
            aead.encrypt(os.urandom(12), data, None)

    def aes_open(n: int) -> None:
        _repeat(n, lambda: aead.decrypt(nonce, aes_ct, None))

    # Streams: a fresh source per call (a BytesIO or a ViewSource over the same bytes: no
    # copy, < 1 µs) and one destination per variant, rewound before each call, so the
    # destination is warm memory as in a steady-state server. (A fresh BytesIO per call would
    # add the page faults of a newly allocated output to every call; see README.) The
    # ViewSource -> NullSink variant ("no I/O") is the streaming target's figure.
    def stream(method: Any, source: bytes, sink: Any, reader: Any) -> Callable[[int], None]:
        def run(n: int) -> None:
            for _ in range(n):
                sink.seek(0)
                method(ctx, reader(source), sink)

        return run

    # The floor of a stream into a BytesIO (sizes >= STREAM_TARGET_MIN_SIZE): what a stream
    # pays that the one-shot reference does not, each step timed alone in the same group.
    empty_sealed = vault.seal(ctx, b"")
    empty_ct = Cobblestone256Encryptor(key, body_context).finalize()
    copy_dst = io.BytesIO()

    def copy_of(source: bytes) -> Callable[[int], None]:
        def run(n: int) -> None:
            for _ in range(n):
                copy_dst.seek(0)
                copy_dst.write(source)

        return run

    def fixed(method: Any, source: bytes) -> Callable[[int], None]:
        null = NullSink()
        return lambda n: _repeat(n, lambda: method(ctx, io.BytesIO(source), null))

    def cob_empty_seal() -> None:
        Cobblestone256Encryptor(key, body_context).finalize()

    def cob_empty_open() -> None:
        d = Cobblestone256Decryptor(key, body_context)
        d.update(empty_ct)
        d.finalize()

    floor_variants = [
        Variant("seal:floor_cob_empty", lambda n: _repeat(n, cob_empty_seal)),
        Variant("seal:floor_fixed", fixed(vault.seal_stream, b"")),
        Variant("seal:floor_copy", copy_of(cob_ct)),
        Variant("open:floor_cob_empty", lambda n: _repeat(n, cob_empty_open)),
        Variant("open:floor_fixed", fixed(vault.open_stream, empty_sealed)),
        Variant("open:floor_copy", copy_of(data)),
    ]

    variants = [
        Variant("seal:cobblestone", cob_seal),
        Variant("seal:aesgcm", aes_seal),
        Variant("seal:cobblestone_stream", cob_loop(Cobblestone256Encryptor, data)),
        Variant("seal:vault", lambda n: _repeat(n, lambda: vault.seal(ctx, data))),
        Variant("seal:vault_stream", stream(vault.seal_stream, data, io.BytesIO(), io.BytesIO)),
        Variant("seal:vault_stream_noio", stream(vault.seal_stream, data, NullSink(), ViewSource)),
        Variant("open:cobblestone", cob_open),
        Variant("open:aesgcm", aes_open),
        Variant("open:cobblestone_stream", cob_loop(Cobblestone256Decryptor, cob_ct)),
        Variant("open:vault", lambda n: _repeat(n, lambda: vault.open(ctx, sealed))),
        Variant("open:vault_stream", stream(vault.open_stream, sealed, io.BytesIO(), io.BytesIO)),
        Variant(
            "open:vault_stream_noio", stream(vault.open_stream, sealed, NullSink(), ViewSource)
        ),
    ]
    if size >= STREAM_TARGET_MIN_SIZE:
        variants += floor_variants
    results = measure_group(variants, reps=plan.reps_for(size), target_seconds=plan.target_seconds)
    # The streaming target's figure: the no-I/O stream against the one-shot, in pairs.
    by_name = {v.name: v for v in variants}
    targets = {
        op: measure_ratio(
            by_name[f"{op}:cobblestone"],
            by_name[f"{op}:vault_stream_noio"],
            pairs=plan.pairs_for(size),
            target_seconds=plan.pair_seconds,
        )
        for op in ("seal", "open")
        if size >= STREAM_TARGET_MIN_SIZE
    }
    out: dict[str, Any] = {"size": size, "label": fmt_size(size)}
    for op in ("seal", "open"):
        bare, aes = results[f"{op}:cobblestone"], results[f"{op}:aesgcm"]
        loop = results[f"{op}:cobblestone_stream"]
        row: dict[str, Any] = {}
        for impl in IMPLS:
            m = results[f"{op}:{impl}"]
            row[impl] = m.as_json(size)
            row[impl]["x_cobblestone"] = bare.median / m.median
            row[impl]["x_aesgcm"] = aes.median / m.median
            row[impl]["x_cobblestone_stream"] = loop.median / m.median
        if f"{op}:floor_fixed" in results:
            row["floor"] = _floor(bare.median, results, op)
        if op in targets:
            row["target"] = targets[op].as_json()
        out[op] = row
    return out


def _floor(bare: float, results: dict[str, Any], op: str) -> dict[str, Any]:
    """The best ``x Cob`` a stream into a BytesIO can reach by construction: the reference's
    time over (reference + one copy of the output into the destination + the per-object
    cost beyond the bare cipher's own set-up: fresh DEK and KMS wrap, header, key look-ups).
    """
    cob_empty = results[f"{op}:floor_cob_empty"].median
    fixed = max(0.0, results[f"{op}:floor_fixed"].median - cob_empty)
    copy = results[f"{op}:floor_copy"].median
    return {
        "per_object_us": fixed * 1e6,
        "copy_us": copy * 1e6,
        "cob_setup_us": cob_empty * 1e6,
        "reference_us": bare * 1e6,
        "x_cobblestone": bare / (bare + copy + fixed),
    }


def _check_roundtrips(vault: Vault, ctx: Any, data: bytes, sealed: bytes) -> None:
    """Everything timed must also be correct: check each path once, untimed."""
    if vault.open(ctx, sealed) != data:
        raise AssertionError("vault.open round trip failed")
    dst = io.BytesIO()
    vault.seal_stream(ctx, io.BytesIO(data), dst)
    out = io.BytesIO()
    vault.open_stream(ctx, io.BytesIO(dst.getbuffer()), out)
    if out.getbuffer() != data:
        raise AssertionError("seal_stream/open_stream round trip failed")


# -- range reads ------------------------------------------------------------------------


def bench_range(vault: Vault, workdir: Path, plan: Plan, seed: int) -> dict[str, Any]:
    size = plan.range_object
    ctx = vault.context("acme", DataClass.RECORDING, "range-1")
    path = workdir / "range.cv"
    source = PatternSource(size, seed=7)
    with path.open("wb") as dst:
        vault.seal_stream(ctx, source, dst)  # type: ignore[arg-type]  # file-like enough
    rng = random.Random(seed)
    span = 1 * KiB

    def offsets(n: int) -> list[int]:
        return [rng.randrange(0, size - span + 1) for _ in range(n)]

    with path.open("rb") as f:
        reader = vault.range_reader(ctx, f)
        for a in [0, size - span, *offsets(50)]:
            if reader.read(a, a + span - 1) != source.expected(a, span):
                raise AssertionError(f"range read at {a} returned wrong bytes")

        def reused(offs: list[int]) -> None:
            for a in offs:
                reader.read(a, a + span - 1)

        def fresh(offs: list[int]) -> None:
            for a in offs:
                vault.range_reader(ctx, f).read(a, a + span - 1)

        def fresh_cold(offs: list[int]) -> float:
            counted = 0.0
            for a in offs:
                vault.cache.clear()
                t0 = time.perf_counter()
                vault.range_reader(ctx, f).read(a, a + span - 1)
                counted += time.perf_counter() - t0
            return counted

        results = measure_group(
            [
                Variant("reader_reused", reused, offsets),
                Variant("reader_fresh", fresh, offsets),
                Variant("reader_fresh_cold_cache", fresh_cold, offsets),
            ],
            reps=plan.range_reps,
            target_seconds=plan.range_target_seconds,
        )
    path.unlink()
    return {
        "object_size": size,
        "read_size": span,
        "storage": "file on disk (tempdir), warm page cache, os.pread per chunk",
        **{name: m.as_json(span) for name, m in results.items()},
    }


# -- per-object envelope overhead -------------------------------------------------------


def bench_keys(vault: Vault, plan: Plan) -> dict[str, Any]:
    keys, cache = vault.keys, vault.cache
    ctx = vault.context("acme", DataClass.RECORDING, "keys-1")
    ctx_s = vault.context("acme", DataClass.RECORDING, "keys-2", subject="+15551234567")
    _, header = keys.new_data_key(ctx)
    _, header_s = keys.new_data_key(ctx_s)  # creates the subject key once
    counter = iter(range(10**7))

    def new_dek(c: Any) -> Callable[[int], None]:
        return lambda n: _repeat(n, lambda: keys.new_data_key(c))

    def warm(h: Header, c: Any) -> Variant:
        def prepare(n: int) -> int:
            keys.data_key(h, c)  # make sure the entry is cached (untimed)
            return n

        def run(n: int) -> None:
            _repeat(n, lambda: keys.data_key(h, c))

        return Variant(f"data_key_warm{'_subject' if c.subject else ''}", run, prepare)

    def cold(h: Header, c: Any) -> Callable[[int], float]:
        def run(n: int) -> float:
            counted = 0.0
            for _ in range(n):
                cache.clear()
                t0 = time.perf_counter()
                keys.data_key(h, c)
                counted += time.perf_counter() - t0
            return counted

        return run

    def new_subject_contexts(n: int) -> list[Any]:
        return [
            vault.context(
                "acme", DataClass.RECORDING, "keys-3", subject=f"+1999{next(counter):07d}"
            )
            for _ in range(n)
        ]

    def first_object_of_new_subject(contexts: list[Any]) -> None:
        for c in contexts:
            keys.new_data_key(c)

    results = measure_group(
        [
            Variant("new_object_key", lambda n: _repeat(n, lambda: keys.new_object_key(ctx))),
            Variant("new_data_key", new_dek(ctx)),
            Variant("new_data_key_subject", new_dek(ctx_s)),
            warm(header, ctx),
            warm(header_s, ctx_s),
            Variant("data_key_cold", cold(header, ctx)),
            Variant("data_key_cold_subject", cold(header_s, ctx_s)),
        ],
        reps=plan.key_reps,
        target_seconds=plan.target_seconds,
    )
    # Creating a subject key writes keys/managed.json (atomic, fsync'd): few calls only.
    results.update(
        measure_group(
            [
                Variant(
                    "new_data_key_new_subject", first_object_of_new_subject, new_subject_contexts
                )
            ],
            reps=max(3, plan.key_reps // 2),
            target_seconds=plan.target_seconds,
            max_number=20,
        )
    )
    cache.clear()
    return {name: m.as_json() for name, m in results.items()}


KEY_LABELS = {
    "new_object_key": "new DEK + wrap + header bytes, as sealing does (no subject)",
    "new_data_key": "new DEK + wrap (no subject), full path: Header object",
    "new_data_key_subject": "new DEK + wrap (subject, subject key exists)",
    "new_data_key_new_subject": "new DEK + wrap, first object of a new subject (creates its key)",
    "data_key_warm": "unwrap, cache warm (no subject)",
    "data_key_warm_subject": "unwrap, cache warm (subject)",
    "data_key_cold": "unwrap, cache cold (no subject)",
    "data_key_cold_subject": "unwrap, cache cold (subject)",
}


# -- peak memory of a 1 GiB stream, in a child process ----------------------------------


def run_probe(args: list[str]) -> dict[str, Any]:
    """Run ``_memprobe.py`` in a fresh interpreter and return the JSON it prints.

    The peak comes from the child's own VmHWM. ``ru_maxrss`` (``wait4`` /
    ``RUSAGE_CHILDREN``) is not used: Linux charges a child with the high-water RSS of the
    address space it had *before* exec, i.e. this (large) benchmark process, since
    subprocess spawns with vfork semantics.
    """
    proc = subprocess.run(
        [sys.executable, str(_PROBE), *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe {args[0]} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def bench_memory(home: Path, workdir: Path, plan: Plan) -> dict[str, Any]:
    baseline = run_probe(["baseline", str(home)])
    stream = run_probe(["stream", str(home), str(plan.stream_size), str(workdir)])
    if not stream.get("verified"):
        raise AssertionError(f"memory probe stream did not round-trip: {stream}")
    return {
        "stream_size": plan.stream_size,
        "baseline": baseline,
        "stream": stream,
        "baseline_peak_rss": baseline["peak_rss"],
        "stream_peak_rss": stream["peak_rss"],
        "delta": stream["peak_rss"] - baseline["peak_rss"],
    }


# -- targets ----------------------------------------------------------------------------


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    for row in results.get("throughput", []):
        if row["size"] < STREAM_TARGET_MIN_SIZE:
            continue
        for op, name in (("seal", "seal_stream"), ("open", "open_stream")):
            paired, bytesio = row[op]["target"], row[op]["vault_stream"]
            ratio = paired["median"]
            targets.append(
                {
                    "name": f"streaming {op} {row['label']} (no I/O cost)",
                    "value": ratio,
                    "threshold": STREAM_TARGET_RATIO,
                    "passed": ratio >= STREAM_TARGET_RATIO,
                    "text": f"{name} {row['label']}: {ratio:.2f} x bare Cobblestone-256 one-shot "
                    f"(target >= {STREAM_TARGET_RATIO:.2f}; in-memory views in, discarding sink "
                    f"out; median of {paired['pairs']} back-to-back pairs, middle half "
                    f"{paired['q1']:.2f}-{paired['q3']:.2f}); "
                    f"info: BytesIO -> BytesIO {bytesio['x_cobblestone_stream']:.2f} x a "
                    f"bare Cobblestone stream with the same I/O, "
                    f"{bytesio['x_cobblestone']:.2f} x the one-shot (see its floor line)",
                }
            )
    if "memory" in results:
        mem = results["memory"]
        peak = mem["stream_peak_rss"]
        targets.append(
            {
                "name": f"peak RSS streaming {fmt_size(mem['stream_size'])}",
                "value": peak,
                "threshold": PEAK_RSS_TARGET,
                "passed": peak < PEAK_RSS_TARGET,
                "text": f"peak RSS of seal_stream+open_stream of {fmt_size(mem['stream_size'])}: "
                f"{peak / MiB:.1f} MiB (baseline {mem['baseline_peak_rss'] / MiB:.1f} MiB, "
                f"delta {mem['delta'] / MiB:+.1f} MiB; target < {PEAK_RSS_TARGET // MiB} MiB)",
            }
        )
    if "api" in results:
        targets.extend(api_targets(results["api"]))
    if "erasure" in results:
        targets.extend(erasure_targets(results["erasure"]))
    if "audit" in results:
        targets.extend(audit_targets(results["audit"]))
    if "keyd" in results:
        targets.extend(keyd_targets(results["keyd"]))
    return targets


# -- report -----------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu, flags = platform.processor() or "unknown", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu in ("unknown", "", "x86_64"):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line.split(":", 1)[1]
    except OSError:
        pass
    return {
        "cpu": cpu,
        "aes_ni": " aes " in f" {flags} " if flags else None,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cryptography": cryptography.__version__,
        "callvault": callvault.__version__,
    }


def _mibs(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def _ratio(v: float) -> str:
    return f"{v:.2f}"


def print_report(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    meta, machine = results["meta"], results["meta"]["machine"]
    console.print(
        f"[bold]callvault benchmark[/] ({meta['plan']}) - callvault {machine['callvault']}, "
        f"cryptography {machine['cryptography']}, Python {machine['python']}, "
        f"{machine['cpu_count']} CPUs ({machine['cpu']}), AES-NI {machine['aes_ni']}"
    )
    if "throughput" in results:
        for op in ("seal", "open"):
            table = Table(
                title=f"{op}: MiB/s (median of samples); x REF = REF time / callvault time "
                "(1.00 = as fast as REF, 0.50 = half the throughput)",
                title_justify="left",
            )
            columns = [
                "size",
                "Cob",
                "AES",
                "Cob loop",
                f"vault.{op}",
                "µs/op",
                "x Cob",
                "x AES",
                f"{op}_stream",
                "x Cob",
                "x AES",
                "x loop",
                "no I/O",
                "x Cob",
            ]
            for col in columns:
                table.add_column(col, justify="right")
            for row in results["throughput"]:
                r = row[op]
                table.add_row(
                    row["label"],
                    _mibs(r["cobblestone"]["mib_per_s"]),
                    _mibs(r["aesgcm"]["mib_per_s"]),
                    _mibs(r["cobblestone_stream"]["mib_per_s"]),
                    _mibs(r["vault"]["mib_per_s"]),
                    f"{r['vault']['median_us']:,.1f}",
                    _ratio(r["vault"]["x_cobblestone"]),
                    _ratio(r["vault"]["x_aesgcm"]),
                    _mibs(r["vault_stream"]["mib_per_s"]),
                    _ratio(r["vault_stream"]["x_cobblestone"]),
                    _ratio(r["vault_stream"]["x_aesgcm"]),
                    _ratio(r["vault_stream"]["x_cobblestone_stream"]),
                    _mibs(r["vault_stream_noio"]["mib_per_s"]),
                    _ratio(
                        r["target"]["median"]
                        if "target" in r
                        else r["vault_stream_noio"]["x_cobblestone"]
                    ),
                )
            console.print(table)
        console.print(
            "Cob = bare Cobblestone256Encryptor/Decryptor one-shot (update+finalize); AES = bare "
            "AESGCM one-shot; Cob loop = bare Cobblestone streaming loop with the same "
            "BytesIO->BytesIO I/O as {op}_stream; no I/O = {op}_stream from in-memory views "
            "(no copy) into a discarding sink, the streaming target's figure (its x Cob from 1 MiB "
            "up: median ratio of back-to-back pairs of samples, see the targets). "
            "Per-call figures: --json.".replace("{op}", "seal|open"),
            highlight=False,
        )
        for row in results["throughput"]:
            for op in ("seal", "open"):
                if f := row[op].get("floor"):
                    console.print(
                        f"floor {op}_stream {row['label']} into BytesIO: "
                        f"Cob {f['reference_us']:,.0f} µs + destination copy "
                        f"{f['copy_us']:,.0f} µs + per-object "
                        f"{f['per_object_us']:,.1f} µs (Cob set-up {f['cob_setup_us']:.1f} µs "
                        f"excluded) -> at best {f['x_cobblestone']:.2f} x Cob",
                        highlight=False,
                    )
    if "range" in results:
        rr = results["range"]
        table = Table(
            title=f"range reads: {fmt_size(rr['read_size'])} at random offsets of a "
            f"{fmt_size(rr['object_size'])} sealed file",
            title_justify="left",
        )
        for col in ("mode", "ops/s", "µs/op", "MiB/s delivered"):
            table.add_column(col, justify="left" if col == "mode" else "right")
        for key, label in (
            ("reader_reused", "one reader, many .read(a, a+1023)"),
            ("reader_fresh", "fresh range_reader per read (header + cached unwrap + KDF)"),
            ("reader_fresh_cold_cache", "fresh range_reader per read, key cache cleared"),
        ):
            m = rr[key]
            table.add_row(
                label, f"{m['ops_per_s']:,.0f}", f"{m['median_us']:,.1f}", _mibs(m["mib_per_s"])
            )
        console.print(table)
    if "keys" in results:
        table = Table(title="per-object envelope overhead (local KMS)", title_justify="left")
        for col in ("operation", "µs/op (median)", "best µs", "ops/s"):
            table.add_column(col, justify="left" if col == "operation" else "right")
        for key, label in KEY_LABELS.items():
            m = results["keys"][key]
            table.add_row(
                label,
                f"{m['median_us']:,.1f}",
                f"{m['best_s'] * 1e6:,.1f}",
                f"{m['ops_per_s']:,.0f}",
            )
        console.print(table)
    if "memory" in results:
        mem = results["memory"]
        s = mem["stream"]
        table = Table(
            title=f"peak RSS (VmHWM) of a child process streaming {fmt_size(mem['stream_size'])}",
            title_justify="left",
        )
        for col in ("process", "peak RSS MiB", "notes"):
            table.add_column(col, justify="right" if "MiB" in col else "left")

        def mb(v: int) -> str:
            return f"{v / MiB:.1f}"

        table.add_row("baseline: import callvault + open vault", mb(mem["baseline_peak_rss"]), "")
        table.add_row(
            "stream: after seal_stream (generator -> file)",
            mb(s["after_seal_peak"]),
            f"{s['size'] / MiB / s['seal_seconds']:,.0f} MiB/s incl. file write",
        )
        table.add_row(
            "stream: after open_stream (file -> sink)",
            mb(s["after_open_peak"]),
            f"{s['size'] / MiB / s['open_seconds']:,.0f} MiB/s incl. byte-for-byte check",
        )
        table.add_row(
            "[bold]stream: peak of the whole process[/]",
            mb(mem["stream_peak_rss"]),
            f"delta over baseline {mem['delta'] / MiB:+.1f} MiB",
        )
        console.print(table)
    if "api" in results:
        print_api(console, results["api"])
    if "rewrap" in results:
        print_rewrap(console, results["rewrap"])
    if "erasure" in results:
        print_erasure(console, results["erasure"])
    if "audit" in results:
        print_audit(console, results["audit"])
    if "providers" in results:
        print_providers(console, results["providers"])
    if "keyd" in results:
        print_keyd(console, results["keyd"])
    console.print("[bold]targets[/]")
    for t in results["targets"]:
        status = "[green]PASS[/]" if t["passed"] else "[red]FAIL[/]"
        console.print(f"{status} {t['text']}", highlight=False)
    console.print(f"total time {results['meta']['seconds']:.1f} s")


# -- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="callvault benchmark suite (see bench/README.md)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (CI)")
    parser.add_argument("--json", metavar="OUT", type=Path, help="write all results as JSON")
    parser.add_argument(
        "--only",
        metavar="SECTIONS",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--tmpdir", type=Path, help="where the temporary home and files go (default: system tmp)"
    )
    parser.add_argument(
        "--stream-size", type=int, metavar="BYTES", help="object size for the memory probe"
    )
    parser.add_argument("--seed", type=int, default=2024, help="seed for range-read offsets")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 if any target fails"
    )
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    return args


@dataclass
class _Home:
    path: Path
    vault: Vault


def _temporary_home(tmp: Path) -> _Home:
    home = tmp / "home"
    Vault.init_home(home)
    vault = Vault.open_home(home)
    vault.create_tenant("acme")
    return _Home(home, vault)


def _throughput(vault: Vault, plan: Plan) -> Iterator[dict[str, Any]]:
    for size in plan.sizes:
        log(f"throughput {fmt_size(size)}")
        yield bench_size(vault, size, plan)


_SECTIONS_IN_TMP: tuple[tuple[str, str, Callable[..., dict[str, Any]]], ...] = (
    ("api", "API over HTTPS: encrypted vs plaintext-baseline servers (child processes)", bench_api),
    ("rewrap", "rewrap rate after a rotation (DEKs/s, local provider)", bench_rewrap),
    ("erasure", "tenant erasure: key destruction and total, few vs many objects", bench_erasure),
    ("audit", "audit log: durable append rate, checkpoint and proof time", bench_audit),
    ("providers", "KMS providers: latency, cached vs cold unwrap, rewrap rate", bench_providers),
    ("keyd", "keyd over mTLS: handshake, remote vs in-process unwrap", bench_keyd),
)
"""Sections that run in their own temporary directory: (name, progress line, bench(tmp, quick))."""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.stream_size:
        plan = Plan(**{**plan.__dict__, "stream_size": args.stream_size})
    started = time.perf_counter()
    settle_allocator()
    results: dict[str, Any] = {
        "meta": {
            "plan": plan.name,
            "machine": machine_info(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "timing": "median of N interleaved samples, time.perf_counter, gc paused",
        }
    }
    with tempfile.TemporaryDirectory(prefix="callvault-bench-", dir=args.tmpdir) as tmpname:
        tmp = Path(tmpname)
        home = _temporary_home(tmp)
        if "throughput" in args.sections:
            results["throughput"] = list(_throughput(home.vault, plan))
        if "range" in args.sections:
            log(f"range reads in a {fmt_size(plan.range_object)} object")
            results["range"] = bench_range(home.vault, tmp, plan, args.seed)
        if "keys" in args.sections:
            log("per-object key overhead")
            results["keys"] = bench_keys(home.vault, plan)
        if "memory" in args.sections:
            log(f"peak RSS streaming {fmt_size(plan.stream_size)} (child processes)")
            results["memory"] = bench_memory(home.path, tmp, plan)
        for name, message, bench in _SECTIONS_IN_TMP:
            if name in args.sections:
                log(message)
                results[name] = bench(tmp, quick=args.quick)
    results["targets"] = evaluate_targets(results)
    results["meta"]["seconds"] = time.perf_counter() - started
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        log(f"results written to {args.json}")
    failed = [t for t in results["targets"] if not t["passed"]]
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
