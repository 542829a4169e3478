"""The bundle's container: a deterministic zip writer and a zip reader that refuses tricks.

Writing: members sorted by name, fixed timestamps (1980-01-01, the zip epoch), fixed
permissions (0644), deflate; the same members give the same bytes, so two exports of an
unchanged system differ only where the system changed (and in ``created_at``).

Reading: a bundle comes from elsewhere and is hostile until verified. Before any content is
trusted, every name is checked: no absolute path, drive letter, backslash, ``..`` or empty
segment, no control character, no directory or symlink entry, no encrypted member, no
duplicate (also none differing only in case: on a case-insensitive disk one would overwrite
the other). Sizes are capped and enforced while reading (a header can lie about them).
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path

from callvault._atomic import atomic_file
from callvault.errors import InvalidRequest

__all__ = ["MAX_MEMBER", "MAX_MEMBERS", "MAX_TOTAL", "check_name", "read_bundle", "write_bundle"]

MAX_MEMBERS = 10_000
MAX_MEMBER = 256 * 1024 * 1024
MAX_TOTAL = 1024 * 1024 * 1024
_EPOCH = (1980, 1, 1, 0, 0, 0)


def check_name(name: str) -> None:
    """Raise ``InvalidRequest`` naming the problem if ``name`` is not a safe member path."""
    if not name or len(name) > 512:
        raise InvalidRequest(f"member name of {len(name)} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InvalidRequest(f"member name {name!r} has a control character")
    if "\\" in name:
        raise InvalidRequest(f"member name {name!r} has a backslash")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InvalidRequest(f"member name {name!r} is an absolute path")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise InvalidRequest(f"member name {name!r} escapes the bundle or has an empty segment")


def write_bundle(path: Path, members: Iterable[tuple[str, bytes]]) -> None:
    """Write ``members`` (name, content) as a deterministic zip, atomically."""
    items = sorted(members)
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        raise InvalidRequest("duplicate member in the evidence bundle")
    with (
        atomic_file(path, mode=0o644) as handle,
        zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for name, data in items:
            check_name(name)
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the permission bits below are meaningful
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)


def read_bundle(path: Path) -> dict[str, bytes]:
    """Every member of the zip at ``path`` after the name and size checks; else raises
    ``InvalidRequest`` with the reason (``OSError`` if the file cannot be read)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InvalidRequest(f"not a zip file: {exc}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InvalidRequest(f"more than {MAX_MEMBERS} members")
        seen: set[str] = set()
        for info in infos:
            _check_info(info, seen)
        members: dict[str, bytes] = {}
        total = 0
        for info in infos:
            members[info.filename] = _read(archive, info, MAX_TOTAL - total)
            total += len(members[info.filename])
        return members


def _check_info(info: zipfile.ZipInfo, seen: set[str]) -> None:
    name = info.filename
    check_name(name)
    if info.is_dir():
        raise InvalidRequest(f"member {name!r} is a directory entry")
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no type recorded (plain writers)
    if info.create_system == 3 and kind not in (0, stat.S_IFREG):
        raise InvalidRequest(f"member {name!r} is not a regular file (symlink or device)")
    if info.flag_bits & 0x1:
        raise InvalidRequest(f"member {name!r} is encrypted")
    if name.casefold() in seen:
        raise InvalidRequest(f"duplicate member name {name!r}")
    seen.add(name.casefold())
    if info.file_size > MAX_MEMBER:
        raise InvalidRequest(f"member {name!r} is larger than {MAX_MEMBER} bytes")


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    limit = min(MAX_MEMBER, budget)
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
        raise InvalidRequest(f"member {info.filename!r} cannot be read: {exc}") from None
    if len(data) > limit:
        raise InvalidRequest(f"member {info.filename!r} exceeds the size limit")
    return data
