"""Fetch the next page while the current one is validated and written.

Paging is a sequence of requests whose answers arrive one server round-trip apart.  A plain loop
waits for each answer and only then validates and writes the page, so the client idles while the
server works and the server idles while the client works.  :func:`prefetched` runs the paging
(requests, decoding, the decision which page comes next) in a worker thread one page ahead of the
consumer, which validates and writes: the server's time and the client's overlap.  Nothing is
requested that a plain loop would not request: the worker decides the next page from the answer
to the previous one, exactly as the loop would.

The worker holds at most ``depth`` finished pages, so memory stays flat.  An error in the worker
is raised in the consumer, in order, after the pages before it.  When the consumer stops early (an
error while writing, or it simply stops iterating) the worker stops after the request it is in (each
request is bounded by its deadline).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_END = object()
#: how often a worker blocked on a full queue checks whether the consumer went away
_POLL = 0.1


def prefetched(produce: Callable[[], Iterator[T]], *, name: str, depth: int = 1) -> Iterator[T]:
    """Iterate ``produce()`` in a worker thread, up to ``depth`` items ahead of the caller."""
    handoff: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                handoff.put((item, error), timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in produce():
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(None, exc)

    worker = threading.Thread(target=work, name=f"prefetch {name}", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
