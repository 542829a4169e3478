"""``AuditLog``: append entries durably, read them back, sign checkpoints, serve proofs.

The Merkle leaves are the **sealed** entry payloads (sequence number, nonce, ciphertext),
not the plaintext: a witness or auditor can then recompute the tree, check inclusion and
consistency proofs and checkpoint signatures from the files alone, with no decryption key,
and nobody learns entry contents from a proof. What the tree cannot see without keys —
that entry *k* really is the *k*-th thing the service logged — is bound by the encryption:
each entry's AES-GCM key and associated data include its sequence number, so an entry that
is moved, replayed at another position or altered does not open (``verify`` uses this).
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from callvault._atomic import atomic_write
from callvault.audit._entry import AuditEntry
from callvault.audit._frames import read_frames
from callvault.audit._keys import AuditKeys
from callvault.audit._merkle import consistency_proof, inclusion_proof, root_hash
from callvault.audit._note import Checkpoint, NoteVerifier, checkpoint_body, sign_note
from callvault.audit._store import AuditStore
from callvault.errors import AuditUnavailable, ConfigError, InvalidRequest
from callvault.keys.providers import KmsProvider

if TYPE_CHECKING:
    from callvault._vault import Vault

__all__ = ["AUDIT_DIR", "DEFAULT_AUDIT_POLICY", "AuditLog", "AuditPolicy", "SubjectHasher"]

AUDIT_DIR = Path("audit")

SubjectHasher = Callable[[str, str], bytes]
"""``(tenant, subject) -> blind id``: ``KeyHierarchy.subject_key_id``, an HMAC-SHA256 under
the tenant's index key, so an auditor who knows a number can find its entries."""

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_APPENDING: ContextVar[bool] = ContextVar("callvault_audit_appending", default=False)


@dataclass(frozen=True, slots=True)
class AuditPolicy:
    checkpoint_every: int = 1000
    """Sign a checkpoint after every this many entries (0: only on demand)."""


DEFAULT_AUDIT_POLICY = AuditPolicy()


class AuditLog:
    def __init__(
        self,
        home: Path,
        provider: KmsProvider,
        subject_hasher: SubjectHasher | None = None,
        policy: AuditPolicy = DEFAULT_AUDIT_POLICY,
    ) -> None:
        self.store = AuditStore(home / AUDIT_DIR)
        self.checkpoint_dir = home / AUDIT_DIR / "checkpoints"
        self.policy = policy
        self._hasher = subject_hasher
        self._deferred: list[AuditEntry] = []
        self._deferred_lock = threading.Lock()
        meta = home / AUDIT_DIR / "log.json"
        # The first process to open the log creates its keys, under the log's lock; key
        # events that creation causes are deferred (the lock is held).
        with _guard(), self.store.locked():
            if not meta.exists() and self.store.read_log():
                raise ConfigError(f"{meta} is missing but the audit log has entries")
            self.keys = AuditKeys(meta, provider)

    @classmethod
    def for_vault(cls, vault: Vault, policy: AuditPolicy = DEFAULT_AUDIT_POLICY) -> AuditLog:
        """The log of a vault's home, hashing subjects with its tenants' index keys."""
        return cls(vault.home, vault.provider, vault.keys.subject_key_id, policy)

    @property
    def origin(self) -> str:
        return self.keys.origin

    def verifier(self) -> NoteVerifier:
        """The checkpoint verifier key, for witnesses (``str()`` is the vkey string)."""
        return NoteVerifier(self.keys.origin, self.keys.public_key)

    # -- writing ----------------------------------------------------------------------

    def append(self, entry: AuditEntry, subject: tuple[str, str] | None = None) -> int | None:
        """Write ``entry`` durably (fsync) and return its sequence number.

        Raises ``AuditUnavailable`` (chained to the cause) if the entry cannot be made
        durable, whatever the reason: the action it records must then not happen.

        ``subject=(tenant, caller value)`` is stored only as the tenant's keyed HMAC. Called
        re-entrantly (the KMS call that unwraps the log key emits a key event into this very
        log), the entry is deferred and written right after the outer one: ``None``.
        """
        if _APPENDING.get():
            with self._deferred_lock:
                self._deferred.append(entry)
            return None
        with _guard():
            if subject is not None:
                entry = self._with_subject(entry, *subject)
            try:
                self.keys.ready()  # unwrap the log key first: may emit (deferred) key events
                seq = self._write(entry)
                last = self._drain(seq)
            except AuditUnavailable:
                raise
            except Exception as exc:  # fail closed, one kind; the message names no content
                raise AuditUnavailable(
                    f"the audit log cannot take an entry: {type(exc).__name__}"
                ) from exc
        every = self.policy.checkpoint_every
        if every and (last + 1) // every > seq // every:
            self.checkpoint()
        return seq

    def _write(self, entry: AuditEntry) -> int:
        return self.store.append(functools.partial(self._seal, entry))[0]

    def _seal(self, entry: AuditEntry, seq: int) -> bytes:
        return self.keys.seal(seq, entry.encode(seq))

    def _drain(self, last: int) -> int:
        """Write the deferred entries; the last sequence number written."""
        while True:
            with self._deferred_lock:
                pending, self._deferred = self._deferred, []
            if not pending:
                return last
            for item in pending:
                last = self._write(item)

    def _flush_deferred(self) -> None:
        if self._deferred:
            with _guard():
                self._drain(-1)

    def _with_subject(self, entry: AuditEntry, tenant: str, value: str) -> AuditEntry:
        if self._hasher is None:
            raise InvalidRequest("this audit log has no subject hasher")
        if entry.tenant != tenant:
            raise InvalidRequest("the subject's tenant must be the entry's tenant")
        return _with_hmac(entry, self._hasher(tenant, value).hex())

    # -- reading ----------------------------------------------------------------------

    def size(self) -> int:
        return self.store.recover()

    def leaf_hashes(self) -> list[bytes]:
        self.store.recover()
        return self.store.leaf_hashes()

    def entries(
        self, since: datetime | None = None, until: datetime | None = None, start: int = 0
    ) -> Iterator[AuditEntry]:
        """Opened entries in log order from sequence number ``start`` with ``since <= time <
        until``; a bad entry raises ``OpenError`` (run ``verify`` to locate every problem)."""
        if start < 0:
            raise InvalidRequest("the first sequence number is 0")
        if start:
            self.store.recover()  # index every complete entry before seeking through it
        frames = read_frames(self.store.read_log(start))
        for position, payload in enumerate(frames.payloads, start):
            entry = AuditEntry.decode(self.keys.open(position, payload))
            if entry.seq != position:
                raise InvalidRequest(f"audit entry {position} carries sequence {entry.seq}")
            if (since is None or entry.time >= since) and (until is None or entry.time < until):
                yield entry

    # -- checkpoints and proofs -------------------------------------------------------

    def checkpoint(self) -> tuple[Checkpoint, str]:
        """Sign and store a checkpoint of the current tree; (checkpoint, note text)."""
        with _guard():
            signer = self.keys.signer()
        self._flush_deferred()
        leaves = self.leaf_hashes()
        point = Checkpoint(self.origin, len(leaves), root_hash(leaves))
        note = sign_note(checkpoint_body(point.origin, point.size, point.root), self.origin, signer)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(self.checkpoint_dir / f"{point.size:016d}.note", note.encode())
        return point, note

    def sign_statement(self, body: str) -> str:
        """Sign ``body`` (lines ending in a newline) with the checkpoint key as a C2SP signed
        note under the log's key name; ``verifier().open(note)`` checks it.

        For statements about the log's own evidence (the evidence bundle's manifest). A
        body shaped like a checkpoint (second line a decimal size) is refused: this key's
        signature on such a text would read as a checkpoint the log never had.
        """
        lines = body.split("\n")
        if len(lines) > 1 and lines[1].isdigit():
            raise InvalidRequest("a signed statement must not have a checkpoint's shape")
        with _guard():
            signer = self.keys.signer()
        self._flush_deferred()
        return sign_note(body, self.origin, signer)

    def checkpoint_notes(self) -> list[tuple[Path, str]]:
        if not self.checkpoint_dir.exists():
            return []
        paths = sorted(self.checkpoint_dir.glob("*.note"))
        return [(p, p.read_text(encoding="utf-8")) for p in paths]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        leaves = self._prefix(size)
        return inclusion_proof(index, leaves)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(old_size, self._prefix(new_size))

    def root(self, size: int | None = None) -> bytes:
        return root_hash(self._prefix(size))

    def _prefix(self, size: int | None) -> list[bytes]:
        leaves = self.leaf_hashes()
        if size is None:
            return leaves
        if not 0 <= size <= len(leaves):
            raise InvalidRequest(f"tree size {size} outside the log (0..{len(leaves)})")
        return leaves[:size]


def _with_hmac(entry: AuditEntry, digest: str) -> AuditEntry:
    """``entry`` with ``subject_hmac=digest``, without ``dataclasses.replace``'s second full
    validation (a sixth of an append's own CPU time): every other field comes from a
    validated entry, and a hex SHA-256 digest is a valid word, which is checked here."""
    if not _HEX_SHA256.fullmatch(digest):
        raise InvalidRequest("a subject hmac is a hex SHA-256 digest")
    copy = object.__new__(AuditEntry)
    for name in AuditEntry.__slots__:
        object.__setattr__(copy, name, getattr(entry, name))
    object.__setattr__(copy, "subject_hmac", digest)
    return copy


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    """Mark this context as writing to the log: key events it causes are deferred."""
    token = _APPENDING.set(True)
    try:
        yield
    finally:
        _APPENDING.reset(token)
