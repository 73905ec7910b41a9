"""``LoopService``, the one idea of a background loop, for the backend's services and the worker's
clean-up alike: run ``run_once()`` every ``interval_s`` seconds, or sooner when woken.

The base logs errors and keeps going, and warns when a run takes longer than its interval.
Tests call ``run_once()`` directly for one iteration (it is a coroutine: work that blocks, such
as the worker's file clean-up, goes through ``asyncio.to_thread`` inside it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

log = logging.getLogger("autorig.loops")


class LoopService:
    """Subclasses set ``name`` and implement ``run_once``; ``start()`` and ``stop()`` inside a
    running event loop."""

    name = "service"

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.runs = 0
        self.last_duration_s: float | None = None

    async def run_once(self) -> None:
        raise NotImplementedError

    def wake(self) -> None:
        """Run again now instead of at the end of the interval."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"autorig-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            t0 = time.monotonic()
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: run failed; trying again next interval", self.name)
            took = time.monotonic() - t0
            self.runs += 1
            self.last_duration_s = took
            if took > self.interval_s:
                log.warning("%s: run took %.1f s, longer than its %.1f s interval", self.name, took, self.interval_s)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, self.interval_s - took))
