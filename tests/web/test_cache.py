"""The view cache of polled pages (web/cache.py): reuse, a commit makes entries stale at once,
one load for concurrent misses, a stale answer while one reload runs, errors never cached."""

from __future__ import annotations

import asyncio

import pytest

from autorig.web.cache import Generation, ViewCache

pytestmark = pytest.mark.asyncio


class Loader:
    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.fail = False

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise LookupError("gone")
        return self.calls


async def test_reused_until_a_commit() -> None:
    gen = Generation()
    cache: ViewCache[int] = ViewCache(60.0, gen)
    load = Loader()
    assert [await cache.get("t", load) for _ in range(5)] == [1] * 5
    gen.bump()  # a commit in this process: the next read loads again
    assert await cache.get("t", load) == 2 and load.calls == 2


async def test_concurrent_misses_share_one_load_and_errors_are_not_kept() -> None:
    cache: ViewCache[int] = ViewCache(60.0, Generation())
    load = Loader(delay=0.05)
    assert await asyncio.gather(*(cache.get("t", load) for _ in range(50))) == [1] * 50
    assert load.calls == 1
    other = Loader()
    other.fail = True
    for _ in range(2):
        with pytest.raises(LookupError):
            await cache.get("u", other)
    assert other.calls == 2


async def test_expired_entry_answers_at_once_while_one_reload_runs() -> None:
    cache: ViewCache[int] = ViewCache(0.05, Generation())
    load = Loader(delay=0.05)
    assert await cache.get("t", load) == 1
    await asyncio.sleep(0.06)  # expired, within the stale window
    answers = [await cache.get("t", load) for _ in range(10)]
    assert answers == [1] * 10  # nobody waited for the reload
    await asyncio.sleep(0.07)
    assert load.calls == 2  # one reload for the ten reads
    await asyncio.sleep(0.5)  # far past the stale window: the next read waits for a fresh load
    calls = load.calls
    assert await cache.get("t", load) == calls + 1 == load.calls
