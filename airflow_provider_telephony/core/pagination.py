"""Page iterators shared by vendors.

Each helper takes a ``fetch`` callable that performs one request and returns one page, so paging
logic is written once and the request itself stays with the vendor's hook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

P = TypeVar("P")


def offset_pages(
    fetch: Callable[[int, int], P],
    size_of: Callable[[P], int],
    *,
    limit: int,
    start: int = 0,
) -> Iterator[P]:
    """Offset/limit paging: request ``limit`` items from growing offsets until an empty page.

    A short page does *not* end paging: a server may cap a page below the requested ``limit``
    (documents promise a maximum, never full pages), and stopping early would lose data silently.
    The price is one extra, empty request per window.
    """
    offset = start
    while True:
        page = fetch(offset, limit)
        count = size_of(page)
        if not count:
            return
        yield page
        offset += count


def numbered_pages(
    fetch: Callable[[int], P],
    *,
    first: int = 0,
    last_page: Callable[[P, int], bool],
) -> Iterator[P]:
    """Page-number paging: ``fetch(n)`` for n = first, first+1, … until ``last_page(page, n)`` is true.

    ``last_page`` sees each page after it is yielded-to-be, so a vendor can stop on a page count
    (``ofPages``), an empty page or a ``next_page_url`` of ``None``.
    """
    number = first
    while True:
        page = fetch(number)
        yield page
        if last_page(page, number):
            return
        number += 1


def chunked(items: Sequence[P], size: int) -> Iterator[Sequence[P]]:
    """Consecutive slices of at most ``size`` items."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
