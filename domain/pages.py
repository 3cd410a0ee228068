"""A page of a cursor-paginated list, as every store returns it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Items with one opaque cursor each; `has_next_page` is exact (the store reads one item ahead)."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page(
            items=[convert(item) for item in self.items],
            cursors=self.cursors,
            has_next_page=self.has_next_page,
        )
