"""Background loops as small classes that implement only ``run_once()``.

The base runs it every ``interval_s`` in a thread (the work is file-system bound), logs an error
and keeps going, and warns when a run takes longer than its interval. Tests call ``run_once()``.
"""

from __future__ import annotations

import asyncio
import logging
import time

from autorig.worker.jobs import JobManager

log = logging.getLogger("autorig.worker.loops")


class LoopService:
    name = "loop"

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def run_once(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("%s: run failed; trying again in %g s", self.name, self.interval_s)
            took = time.monotonic() - started
            if took > self.interval_s:
                log.warning("%s: a run took %.1f s, longer than its interval of %g s", self.name, took, self.interval_s)
            await asyncio.sleep(max(0.0, self.interval_s - took))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None


class CleanupLoop(LoopService):
    """Deletes finished jobs, records and files, after ``keep_outputs_hours``."""

    name = "cleanup"

    def __init__(self, manager: JobManager) -> None:
        super().__init__(manager.settings.cleanup_interval_s)
        self.manager = manager

    def run_once(self) -> None:
        removed = self.manager.remove_expired()
        if removed:
            log.info("cleanup: removed %d expired job(s)", len(removed))
