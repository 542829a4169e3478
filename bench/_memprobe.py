"""Child process of the memory benchmark: streams a large object and reports its own peak RSS.

Run by ``bench.run`` as ``python bench/_memprobe.py MODE HOME [SIZE WORKDIR]``; prints one
JSON line on stdout. Modes:

``baseline``
    import callvault, open the vault, build a context; nothing else. Its peak RSS is the
    floor every callvault process pays (interpreter + cryptography + pydantic + callvault).
``stream``
    ``seal_stream`` SIZE bytes from ``PatternSource`` (a file-like that *generates* its bytes
    into the caller's buffer, never holding the object) into ``WORKDIR/stream.cv``, then
    ``open_stream`` that file into ``VerifyingSink`` (checks every byte against the pattern,
    keeps nothing). Reports VmHWM after each phase.

Peak RSS is read from ``/proc/self/status`` (VmHWM) where available, else from
``getrusage(RUSAGE_SELF).ru_maxrss`` (which, on Linux, also counts the spawning parent's
image from before exec, so it is only a fallback).
The sealed file goes through the page cache, which is not part of a process's RSS.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

__all__ = ["NullSink", "PatternSource", "VerifyingSink", "peak_rss_bytes"]

_BLOCK = 1 << 20


def _pattern(seed: int) -> bytes:
    return random.Random(seed).randbytes(_BLOCK)


class PatternSource:
    """``total`` pseudo-random bytes (a 1 MiB random block repeated), produced on demand."""

    def __init__(self, total: int, seed: int = 1) -> None:
        self._block = _pattern(seed)
        self._view = memoryview(self._block)
        self._total = total
        self._pos = 0

    @property
    def block(self) -> bytes:
        return self._block

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:
        out = memoryview(buf).cast("B")
        n = min(len(out), self._total - self._pos)
        done = 0
        while done < n:
            offset = (self._pos + done) % _BLOCK
            step = min(n - done, _BLOCK - offset)
            out[done : done + step] = self._view[offset : offset + step]
            done += step
        self._pos += n
        return n

    def read(self, size: int = -1) -> bytes:
        remaining = self._total - self._pos
        data = self.expected(self._pos, remaining if size < 0 else min(size, remaining))
        self._pos += len(data)
        return data

    def expected(self, start: int, size: int) -> bytes:
        """The bytes this source produces at ``start..start+size`` (for verification)."""
        parts, done = [], 0
        while done < size:
            offset = (start + done) % _BLOCK
            parts.append(self._view[offset : offset + size - done])
            done += len(parts[-1])
        return b"".join(parts)


class ViewSource:
    """An in-memory source whose reads are views of its bytes, never copies (what reading
    an mmap'd file or a buffer already received gives a stream): with a ``NullSink`` it
    times a stream with no I/O cost at all, to compare with an in-memory one-shot."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> memoryview:
        start = self._pos
        end = len(self._view) if size < 0 else min(len(self._view), start + size)
        self._pos = end
        return self._view[start:end]


class NullSink:
    """A write-only file-like that discards everything (counts the bytes)."""

    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0  # nothing is kept, so there is nowhere to move

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = memoryview(data).nbytes
        self.count += n
        return n


class VerifyingSink(NullSink):
    """Discards what it is given after checking it against a ``PatternSource``'s bytes
    (``bytes.startswith`` at an offset: a memcmp, no copies)."""

    def __init__(self, source: PatternSource) -> None:
        super().__init__()
        self._block = source.block
        self.ok = True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            offset = (self.count + done) % _BLOCK
            step = min(len(view) - done, _BLOCK - offset)
            if not self._block.startswith(view[done : done + step], offset):
                self.ok = False
            done += step
        self.count += len(view)
        return len(view)


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far, in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def _current_rss_bytes() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _main(argv: list[str]) -> int:
    mode, home = argv[0], Path(argv[1])
    from callvault import DataClass, Vault  # the import is part of what is measured

    vault = Vault.open_home(home)
    ctx = vault.context("acme", DataClass.RECORDING, "memprobe-1")
    result: dict[str, object] = {"mode": mode, "after_open_peak": peak_rss_bytes()}
    if mode == "stream":
        size, workdir = int(argv[2]), Path(argv[3])
        sealed_path = workdir / "stream.cv"
        try:
            t0 = time.perf_counter()
            with sealed_path.open("wb") as dst:
                sealed = vault.seal_stream(ctx, PatternSource(size), dst)  # type: ignore[arg-type]
            t1 = time.perf_counter()
            result["after_seal_peak"] = peak_rss_bytes()
            sink = VerifyingSink(PatternSource(size))  # checks against the same pattern
            with sealed_path.open("rb") as src:
                opened = vault.open_stream(ctx, src, sink)  # type: ignore[arg-type]
            t2 = time.perf_counter()
            result["after_open_peak"] = peak_rss_bytes()
            result.update(
                size=size,
                sealed_plaintext=sealed,
                opened_plaintext=opened,
                sealed_file_bytes=sealed_path.stat().st_size,
                verified=sink.ok and sink.count == size == sealed == opened,
                seal_seconds=t1 - t0,
                open_seconds=t2 - t1,
            )
        finally:
            sealed_path.unlink(missing_ok=True)
    elif mode != "baseline":
        raise SystemExit(f"unknown mode {mode!r}")
    result["peak_rss"] = peak_rss_bytes()
    result["rss_now"] = _current_rss_bytes()
    import resource

    # For the record only: ru_maxrss also counts the parent's image from before exec.
    result["ru_maxrss_self_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    import importlib.util

    if importlib.util.find_spec("callvault") is None:  # not installed: use the source tree
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    raise SystemExit(_main(sys.argv[1:]))
