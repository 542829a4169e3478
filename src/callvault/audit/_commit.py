"""Group commit: threads that append while an ``fsync`` is in flight share the next one.

A durable append costs one ``fsync``, and the disk does only so many per second. When
several threads of one process append at once, the first becomes the **leader**: it takes
every pending item, hands the batch to ``run`` (which writes all frames and ``fsync``s
once), then publishes each item's outcome and wakes exactly those callers. Items that
arrived while the batch was in flight wait in the queue; the finished leader hands the
lead to the oldest of them, which runs the next batch. Each ``submit`` returns only once
*its* batch has run, so an item is durable when its call returns, never before.

Why a lock, a list and one condition per waiting caller, not a writer thread: no thread to
start, stop or leak; the appending thread does the work (so thread-local state such as a
crash test's fault point follows it); and only the threads that have something to do are
woken (a ``notify_all`` would wake the whole queue per batch, which on a small VM costs
more than the batching saves). The invariant to check by eye: every slot not done is in
the queue or in the batch being run; a batch or exclusive block that ends either hands the
lead to the queue's head (``_busy`` stays true) or clears ``_busy``, after which the next
caller (or exclusive block) takes the whole queue, or hands it on in turn.

``exclusive()`` lets a caller run with no batch in flight and none starting (recovery,
opening the log) without a second lock to order against.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("done", "item", "lead", "outcome", "wake")

    def __init__(self, item: T, lock: threading.Lock) -> None:
        self.item = item
        self.outcome: R | BaseException | None = None
        self.done = False
        self.lead = False
        self.wake = threading.Condition(lock)


class GroupCommit(Generic[T, R]):
    """Batches concurrent ``submit`` calls into calls of ``run`` (one at a time).

    ``run(items)`` returns one outcome per item, in order: a result, or the exception that
    item failed with. If ``run`` itself raises, every item of the batch gets that exception.
    """

    def __init__(self, run: Callable[[list[T]], list[R | BaseException]]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # exclusive() waits on it
        self._queue: list[_Slot[T, R]] = []
        self._busy = False  # a batch (or an exclusive block) is running
        self._exclusive_waiting = 0

    def submit(self, item: T) -> R | BaseException:
        """Run ``item`` in the next batch; its outcome (an exception is returned, not raised,
        so each caller raises its own error, chained to it)."""
        slot: _Slot[T, R] = _Slot(item, self._lock)
        with self._lock:
            self._queue.append(slot)
            if self._busy:
                while not (slot.done or slot.lead):
                    slot.wake.wait()
                if slot.done:
                    return slot.outcome  # type: ignore[return-value]
            self._busy = True  # ours already, if the lead was handed to us
            batch, self._queue = self._queue, []
        outcomes: list[R | BaseException]
        try:
            outcomes = self._run([s.item for s in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError("group commit: one outcome per item expected")
        except BaseException as exc:  # published to every waiter, then raised by each
            outcomes = [exc] * len(batch)
        with self._lock:
            for s, outcome in zip(batch, outcomes, strict=True):
                s.outcome, s.done = outcome, True
                if s is not slot:
                    s.wake.notify()
            self._release()
        mine = slot.outcome
        if isinstance(mine, BaseException) and not isinstance(mine, Exception):
            raise mine  # KeyboardInterrupt, SystemExit: the leader's own, not an outcome
        return mine  # type: ignore[return-value]

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """No batch in flight or starting while the block runs."""
        with self._lock:
            self._exclusive_waiting += 1
            try:
                while self._busy:
                    self._idle.wait()
            finally:
                self._exclusive_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._lock:
                self._release()

    def _release(self) -> None:
        """End a batch or exclusive block (lock held): let a waiting ``exclusive`` in first,
        else hand the lead to the oldest queued caller, else go idle."""
        if self._exclusive_waiting:
            self._busy = False
            self._idle.notify()  # it hands the lead on to the queue when it is done
        elif self._queue:
            head = self._queue[0]
            head.lead = True  # _busy stays true: the lead passes without a gap
            head.wake.notify()
        else:
            self._busy = False
