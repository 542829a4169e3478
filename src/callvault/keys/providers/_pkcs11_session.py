"""One logged-in PKCS#11 session per token, shared by the process and used under a lock.

Why a lock and not a pool of sessions: python-pkcs11 initialises a module with
``C_Initialize(NULL)``, which tells the module that the application will not call it from
several threads at once (PKCS#11 v2.40, section 5.4), and SoftHSM then switches its own
mutexes off. So every call into one module is serialised under one process-wide lock per
module path; a pool could not run in parallel anyway. Login state belongs to the
application, not to a session (a second ``C_Login`` answers
``CKR_USER_ALREADY_LOGGED_IN``), so the session is per (module, token) and shared by every
provider of the process.

Failures: a missing token, a removed device or a dead session is ``ProviderUnreachable``
(a ``KeyUnavailable`` worth retrying: the session is dropped and the next call
reconnects); any other refusal is a plain ``KeyUnavailable``. A refused PIN is
``ConfigError`` and is remembered, because retrying it counts against the token's
failed-login limit and can lock the token until its security officer unlocks it. The PIN
is never part of a message.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
from collections.abc import Callable
from typing import ClassVar, TypeVar

import pkcs11
from pkcs11 import exceptions as p11

from callvault.errors import ConfigError, KeyUnavailable, ProviderUnreachable
from callvault.keys.providers._pkcs11_config import Pin, Pkcs11Location
from callvault.keys.providers._pkcs11_objects import HandleCache

__all__ = ["GONE", "TokenLink"]

T = TypeVar("T")

GONE: tuple[type[p11.PKCS11Error], ...] = (
    p11.TokenNotPresent,
    p11.TokenNotRecognised,
    p11.NoSuchToken,
    p11.DeviceRemoved,
    p11.DeviceError,
    p11.DeviceMemory,
    p11.SessionClosed,
    p11.SessionHandleInvalid,
    p11.UserNotLoggedIn,
)
_PIN_REFUSED: tuple[type[p11.PKCS11Error], ...] = (
    p11.PinIncorrect,
    p11.PinInvalid,
    p11.PinLenRange,
    p11.PinLocked,
    p11.PinExpired,
)


class TokenLink:
    """The process's session on one token; ``run`` executes one operation on it."""

    _links: ClassVar[dict[Pkcs11Location, TokenLink]] = {}
    _module_locks: ClassVar[dict[str, threading.RLock]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, location: Pkcs11Location, lock: threading.RLock) -> None:
        self.location = location
        self._lock = lock
        self._session: pkcs11.Session | None = None
        self._pin_digest = b""
        self._refused: dict[bytes, str] = {}
        self.cache = HandleCache()
        """Key objects found on this token: object handles belong to the application, so
        they are shared like the session and dropped with it."""

    @classmethod
    def for_location(cls, location: Pkcs11Location) -> TokenLink:
        with cls._registry_lock:
            link = cls._links.get(location)
            if link is None:
                module = str(location.module)
                lock = cls._module_locks.setdefault(module, threading.RLock())
                link = cls._links[location] = TokenLink(location, lock)
            return link

    def run(self, pin: Pin, operation: Callable[[pkcs11.Session], T]) -> T:
        """``operation(session)`` under the module lock; connection failures become
        ``KeyUnavailable``, callvault errors raised by ``operation`` pass through."""
        with self._lock:
            session = self._session_for(pin)
            try:
                return operation(session)
            except GONE as exc:
                self._drop()
                raise ProviderUnreachable(
                    f"PKCS#11 token {self.location.token!r} is unavailable "
                    f"({type(exc).__name__}); will reconnect on the next call"
                ) from None
            except p11.PKCS11Error as exc:
                raise KeyUnavailable(
                    f"PKCS#11 token {self.location.token!r} refused the call "
                    f"({type(exc).__name__}: {exc})"
                ) from None

    def _session_for(self, pin: Pin) -> pkcs11.Session:
        digest = hashlib.sha256(pin.reveal().encode()).digest()
        if self._session is not None:
            if not hmac.compare_digest(digest, self._pin_digest):
                raise ConfigError(
                    f"PKCS#11 token {self.location.token!r} is already logged in by this "
                    "process with a different PIN"
                )
            return self._session
        if digest in self._refused:
            raise ConfigError(self._refused[digest])
        token = self._token()
        try:
            session = token.open(rw=True, user_pin=pin.reveal())
        except p11.UserAlreadyLoggedIn:  # logged in by another user of the module
            session = token.open(rw=True)
        except _PIN_REFUSED as exc:
            message = (
                f"PKCS#11 login to token {self.location.token!r} refused "
                f"({type(exc).__name__}); check CALLVAULT_PKCS11_PIN / _PIN_FILE. This PIN "
                "is not tried again by this process, so retries cannot lock the token"
            )
            self._refused[digest] = message
            raise ConfigError(message) from None
        except GONE as exc:
            raise ProviderUnreachable(
                f"PKCS#11 token {self.location.token!r} is unavailable ({type(exc).__name__})"
            ) from None
        except p11.PKCS11Error as exc:
            raise ProviderUnreachable(
                f"cannot open a session on PKCS#11 token {self.location.token!r} "
                f"({type(exc).__name__})"
            ) from None
        self._session, self._pin_digest = session, digest
        return session

    def _token(self) -> pkcs11.Token:
        module = str(self.location.module)
        try:
            library = pkcs11.lib(module)
        except p11.PKCS11Error as exc:  # network HSM clients connect in C_Initialize
            raise ProviderUnreachable(
                f"cannot load PKCS#11 module {module} ({type(exc).__name__})"
            ) from None
        try:
            return library.get_token(token_label=self.location.token)
        except GONE:
            raise ProviderUnreachable(
                f"PKCS#11 token {self.location.token!r} is not present in {module}"
            ) from None
        except p11.MultipleTokensReturned:
            raise ConfigError(
                f"several tokens are labelled {self.location.token!r}; labels must be unique"
            ) from None
        except p11.PKCS11Error as exc:
            raise ProviderUnreachable(
                f"cannot list the tokens of PKCS#11 module {module} ({type(exc).__name__})"
            ) from None

    def _drop(self) -> None:
        session, self._session = self._session, None
        self.cache.clear()
        if session is not None:
            with contextlib.suppress(p11.PKCS11Error):  # gone already: nothing to release
                session.close()
