"""A short-lived cache for what pages poll (issue 11: ``GET /api/task/{id}`` and
``GET /api/queue/status`` at hundreds of requests a second).

An entry is reused while it is younger than ``ttl_s`` *and* nothing was committed to the
database through this process since it was loaded (``Database`` bumps ``generation`` on every
commit), so in one process a poll never sees data older than the last write, and a burst of
polls between two writes costs one query. Writes by other processes (several backends) show
within ``ttl_s`` and one load. Concurrent misses of one key share one load.

An entry that is only older than ``ttl_s`` (no commit here since), but younger than
``STALE_FACTOR * ttl_s``, is answered at once while one reload runs in the background: under a
steady stream of polls nobody waits for the database; after a pause the first poll does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MAX_ENTRIES = 10_000  # distinct keys kept (tasks being polled); the oldest half goes past it
STALE_FACTOR = 3.0  # how old (in ttl_s) an entry may be to be answered while it reloads


class Generation:
    """A counter bumped on every commit (read without locking: an int swap is atomic)."""

    def __init__(self) -> None:
        self.value = 0

    def bump(self, *_args: Any) -> None:
        self.value += 1


class ViewCache(Generic[T]):
    def __init__(self, ttl_s: float, generation: Generation) -> None:
        self.ttl_s = ttl_s
        self.generation = generation
        self._entries: dict[Hashable, tuple[float, int, T]] = {}
        self._loading: dict[Hashable, asyncio.Future[T]] = {}
        self._background: set[asyncio.Future[None]] = set()
        self._refreshing: set[Hashable] = set()

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        if self.ttl_s <= 0:
            return await load()
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[1] == self.generation.value:
            age = now - hit[0]
            if age < self.ttl_s:
                return hit[2]
            if age < STALE_FACTOR * self.ttl_s:
                if key not in self._loading and key not in self._refreshing:
                    self._refreshing.add(key)
                    task = asyncio.ensure_future(self._reload(key, load))
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
                return hit[2]
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        return await self._load(key, load)

    async def _reload(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> None:
        try:
            await self._load(key, load)
        except Exception:  # e.g. the task was deleted: forget it, the next poll loads and says so
            self._entries.pop(key, None)
        finally:
            self._refreshing.discard(key)

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._loading[key] = fut
        gen = self.generation.value  # before the load: a commit during it makes the entry stale
        try:
            value = await load()
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            self._loading.pop(key, None)
        fut.set_result(value)
        if len(self._entries) >= MAX_ENTRIES:
            for k in sorted(self._entries, key=lambda k: self._entries[k][0])[: MAX_ENTRIES // 2]:
                del self._entries[k]
        self._entries[key] = (now, gen, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
