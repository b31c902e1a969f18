"""Page iterators shared by vendors.

Each helper takes a ``fetch`` callable that performs one request and returns one page, so paging
logic is written once and the request itself stays with the vendor's hook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
