"""Which files a lint reads, and how: the deployment tree as text.

A linter that takes minutes on a monorepo does not run in CI, so the walk skips what
cannot hold a deployment setting: VCS and tool directories (``.git``, ``.venv``,
``node_modules``…), symbolic links (they may point outside the tree or loop), binary files
(a NUL byte in the first 8 KiB) and files over 1 MiB. Text is decoded as UTF-8 with
replacement, so a Latin-1 config file is still read rather than silently skipped.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

__all__ = ["MAX_FILE_BYTES", "SKIP_DIRS", "SourceFile", "walk"]

MAX_FILE_BYTES = 1024 * 1024
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
        ".nox",
        ".idea",
        "site-packages",
    }
)
_BINARY_PROBE = 8192
_DOC_SUFFIXES = frozenset({".md", ".rst", ".txt", ".adoc", ".html", ".htm"})
_COMMENTS = ("#", ";", "//", "<!--")
_ENV_NAMES = frozenset({".env", ".envrc"})


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One text file of the tree: ``rel`` (POSIX, relative to the linted root, or the
    file's own name when a single file is linted) and its lines (without line ends)."""

    path: Path
    rel: str
    text: str
    lines: tuple[str, ...] = field(repr=False)
    code: tuple[tuple[int, str], ...] = field(repr=False)
    """(1-based number, line) of the lines that are not whole-line comments."""

    name: str = field(init=False, repr=False)
    suffix: str = field(init=False, repr=False)
    """The lower-cased extension (``.conf``)."""

    def __post_init__(self) -> None:
        pure = PurePosixPath(self.rel)
        object.__setattr__(self, "name", pure.name)
        object.__setattr__(self, "suffix", pure.suffix.lower())

    @property
    def is_doc(self) -> bool:
        """Prose (Markdown, reST, plain text, HTML): searched for secrets, but not read as
        configuration, since a README explaining ``ssl_protocols TLSv1`` is not a server."""
        return self.suffix in _DOC_SUFFIXES

    @property
    def is_env(self) -> bool:
        """An environment file: ``.env``, ``.env.prod``, ``prod.env``…"""
        name = self.name.lower()
        return name in _ENV_NAMES or name.startswith(".env.") or name.endswith(".env")

    @property
    def is_python(self) -> bool:
        return self.suffix == ".py"


def walk(root: Path, excludes: Sequence[str] = ()) -> Iterator[SourceFile]:
    """The text files under ``root`` (or ``root`` itself when it is a file), in a stable
    order. ``excludes`` are glob patterns matched against the relative path."""
    if root.is_file():
        loaded = _load(root, root.name)
        if loaded is not None:
            yield loaded
        return
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        base = Path(directory)
        for name in sorted(filenames):
            path = base / name
            rel = path.relative_to(root).as_posix()
            if any(fnmatch.fnmatch(rel, pattern) for pattern in excludes):
                continue
            loaded = _load(path, rel)
            if loaded is not None:
                yield loaded


def _load(path: Path, rel: str) -> SourceFile | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    if path.is_symlink() or not path.is_file() or info.st_size > MAX_FILE_BYTES:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None  # unreadable inside a readable tree: skipped, as find(1) would
    if b"\0" in data[:_BINARY_PROBE]:
        return None
    text = data.decode("utf-8", errors="replace")
    lines = tuple(text.splitlines())
    code = tuple(
        (n, line) for n, line in enumerate(lines, 1) if not line.lstrip().startswith(_COMMENTS)
    )
    return SourceFile(path, rel, text, lines, code)
