"""The worker's background loops, on the shared ``autorig.loops.LoopService`` base: each
implements only ``run_once()``; file-system work runs in a thread so requests keep flowing."""

from __future__ import annotations

import asyncio
import logging

from autorig.loops import LoopService
from autorig.worker.jobs import JobManager

log = logging.getLogger("autorig.worker.loops")


class CleanupLoop(LoopService):
    """Deletes finished jobs, records and files, after ``keep_outputs_hours``."""

    name = "cleanup"

    def __init__(self, manager: JobManager) -> None:
        super().__init__(manager.settings.cleanup_interval_s)
        self.manager = manager

    async def run_once(self) -> None:
        removed = await asyncio.to_thread(self.manager.remove_expired)
        if removed:
            log.info("cleanup: removed %d expired job(s)", len(removed))
