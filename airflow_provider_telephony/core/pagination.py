"""Page iterators shared by vendors, and the guard that keeps a misbehaving server from paging for ever.

Each helper takes a ``fetch`` callable that performs one request and returns one page, so paging
logic is written once and the request itself stays with the vendor's hook.

**Every page must advance.**  A server that ignores the offset or page number answers the same page
again (or cycles A, B, A, B); paging on would never end, or end with every record many times over.
:class:`PageGuard` remembers a signature of every page of one paging sequence (a hash: a few bytes
per page, so memory stays flat) and raises :class:`PagingError` at the first page seen before.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

from airflow_provider_telephony.core.errors import PagingError

P = TypeVar("P")


class PageGuard:
    """Refuses a page whose signature was already seen in this paging sequence.

    :param what: the request being paged, for the error message (``getCalls``).
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._seen: dict[int, str] = {}

    def check(self, signature: Hashable, label: str) -> None:
        """Record the page called ``label`` (``offset 200``, ``page 3``); raise if its content repeats."""
        key = hash(signature)
        earlier = self._seen.get(key)
        if earlier is not None:
            raise PagingError(
                f"{self.what}: {label} repeats the records of {earlier}: the server does not advance "
                "through the pages (it ignores the offset or page number); stopping instead of looping"
            )
        self._seen[key] = label


def offset_pages(
    fetch: Callable[[int, int], P],
    size_of: Callable[[P], int],
    *,
    limit: int,
    signature: Callable[[P], Hashable],
    what: str,
    start: int = 0,
) -> Iterator[P]:
    """Offset/limit paging: request ``limit`` items from growing offsets until an empty page.

    A short page does *not* end paging: a server may cap a page below the requested ``limit``
    (documents promise a maximum, never full pages), and stopping early would lose data silently.
    The price is one extra, empty request per window.  A page larger than ``limit`` or one seen
    before (by ``signature``) raises :class:`PagingError`.
    """
    return _until_empty(
        fetch, size_of, size=limit, signature=signature, what=what, start=start,
        where=lambda offset: f"at offset {offset} for a limit of {limit}",
        label=lambda offset: f"offset {offset}",
        advance=lambda offset, count: offset + count,
    )  # fmt: skip


def numbered_pages(
    fetch: Callable[[int, int], P],
    size_of: Callable[[P], int],
    *,
    size: int,
    signature: Callable[[P], Hashable],
    what: str,
    first: int = 0,
) -> Iterator[P]:
    """Page-number paging without an envelope: pages ``first, first+1, …`` of ``size`` until an empty one.

    For APIs whose answer is a bare array (no total to check against).  Even where a document says
    "until a page comes back shorter than size", a short page does not end paging: a server that
    caps the page size below the one asked for would otherwise end every export after its first
    page, silently.  The price is one extra, empty request per paging sequence.  A page larger than
    ``size`` or one seen before (by ``signature``) raises :class:`PagingError`.
    """
    return _until_empty(
        fetch, size_of, size=size, signature=signature, what=what, start=first,
        where=lambda number: f"on page {number} for a size of {size}",
        label=lambda number: f"page {number}",
        advance=lambda number, count: number + 1,
    )  # fmt: skip


def _until_empty(
    fetch: Callable[[int, int], P],
    size_of: Callable[[P], int],
    *,
    size: int,
    signature: Callable[[P], Hashable],
    what: str,
    start: int,
    where: Callable[[int], str],
    label: Callable[[int], str],
    advance: Callable[[int, int], int],
) -> Iterator[P]:
    """Fetch pages from position ``start`` until an empty one, every page checked to advance."""
    guard = PageGuard(what)
    position = start
    while True:
        page = fetch(position, size)
        count = size_of(page)
        if not count:
            return
        if count > size:
            raise PagingError(f"{what}: the server sent {count} records {where(position)}")
        guard.check(signature(page), label(position))
        yield page
        position = advance(position, count)
