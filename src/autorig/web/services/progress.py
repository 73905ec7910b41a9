"""Follow every ``processing`` task: which outputs exist, the job's state, collect results.

One run: read the processing tasks; for each (in parallel, at most ``PROGRESS_CONCURRENCY``
requests in flight) ask the worker for the job's state and HEAD the output URLs that are not
ready yet, in production order, stopping at the first missing one (plus any the worker lists as
ready). Each newly present output is copied into storage before it counts as ready: downloads
are served by the backend, and outlive the worker's clean-up. When the job is ``done`` every
file it will ever produce exists: the rest are recorded as missing and the task is done. A job
that failed, or one on a worker silent for ``WORKER_DEAD_AFTER_S``, goes back to the queue.
Changes are written in one short transaction at the end of the run.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from autorig import protocol
from autorig.web.db import utcnow
from autorig.web.domains.tasks import repository as tasks_repo
from autorig.web.domains.tasks.service import INTERNAL, WORKER_LOST, file_name, output_key
from autorig.web.domains.workers import repository as workers_repo
from autorig.web.domains.workers.client import WorkerRejected, WorkerUnreachable
from autorig.web.models import TaskStatus, WorkerNode
from autorig.web.services.base import LoopService

log = logging.getLogger(__name__)

WRITE_BATCH = 500  # tasks updated per statement batch


@dataclass
class _Job:
    id: str
    worker: str
    worker_task_id: str
    output_urls: list[str]
    ready_urls: list[str]
    attempt: int


@dataclass
class _Seen:
    job: _Job
    reachable: bool = False
    state: protocol.JobState | None = None
    progress: float = 0.0
    stage: str = ""
    ready: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: str | None = None
    failed_code: str | None = None  # protocol.INPUT_ERROR_CODES end the task; others retry
    complete: bool = False


class ProgressService(LoopService):
    name = "progress"

    def __init__(self, ctx: object) -> None:
        from autorig.web.context import AppContext

        assert isinstance(ctx, AppContext)
        super().__init__(ctx.settings.progress_interval_s)
        self.ctx = ctx
        self.settings = ctx.settings
        self._sem = asyncio.Semaphore(ctx.settings.progress_concurrency)

    async def run_once(self) -> None:
        async with self.ctx.db.read_session() as s:
            jobs = [
                _Job(t.id, t.worker or "", t.worker_task_id or "", list(t.output_urls), list(t.ready_urls), t.attempts)
                for t in await tasks_repo.processing(s)
            ]
        if not jobs:
            return
        self._sem = asyncio.Semaphore(self.settings.progress_concurrency)
        seen = await asyncio.gather(*(self._check(j) for j in jobs))
        await self._record(seen)

    # --- asking the workers --------------------------------------------------------------

    async def _call(self, coro):  # type: ignore[no-untyped-def]
        async with self._sem:
            return await coro

    async def _check(self, job: _Job) -> _Seen:
        seen = _Seen(job, ready=list(job.ready_urls))
        client = self.ctx.client
        try:
            status = await self._call(client.job(job.worker, job.worker_task_id))
        except WorkerRejected as exc:
            seen.reachable = True
            if exc.status_code == 404:
                seen.failed = f"the worker no longer knows job {job.worker_task_id} (restarted or cleaned up)"
                seen.failed_code = WORKER_LOST
            return seen
        except WorkerUnreachable:
            return seen
        seen.reachable = True
        seen.state, seen.progress, seen.stage = status.state, status.progress, status.stage
        if status.state == protocol.JobState.failed:
            seen.failed = status.error or "the job failed on the worker"
            seen.failed_code = status.error_code
            return seen
        ready_before = set(job.ready_urls)
        pending = [(u, file_name(u)) for u in job.output_urls if u not in ready_before]
        listed = set(status.outputs_ready)
        out_of_order = any(name in listed for _, name in pending)
        done = status.state == protocol.JobState.done
        try:
            for url, name in pending:
                # Outputs appear in order: the first missing one ends the look, unless the worker
                # lists a later file as ready, or the job is done and every file gets settled.
                if await self._call(client.exists(url)) and await self._copy(job, url):
                    seen.ready.append(url)
                elif done:
                    seen.missing.append(name)
                elif not out_of_order:
                    break
        except WorkerUnreachable as exc:
            log.info("task %s: %s", job.id, exc)
            return seen  # try the rest next time
        if done:
            if not job.output_urls or job.output_urls[0] not in seen.ready:
                first = file_name(job.output_urls[0]) if job.output_urls else "the rigged model"
                seen.failed = f"the job finished without producing {first}"
                seen.failed_code = INTERNAL
            else:
                seen.complete = True
        return seen

    async def _copy(self, job: _Job, url: str) -> bool:
        """Download one output into storage; False when it vanished (404)."""
        name = file_name(url)
        dest = self.ctx.storage.scratch_dir() / f"{job.id}-{name}"
        size = await self._call(self.ctx.client.download(url, dest))
        if size is None:
            return False
        await self.ctx.storage.put_file(output_key(job.id, name), dest)
        return True

    # --- writing down what was seen ---------------------------------------------------------

    async def _record(self, seen: list[_Seen]) -> None:
        now = utcnow()
        svc = self.ctx.tasks
        dead_after = timedelta(seconds=self.settings.worker_dead_after_s)
        answered = {s.job.worker for s in seen if s.reachable}
        silent = {s.job.worker for s in seen if not s.reachable} - answered
        changed = [s for s in seen if s.reachable or s.job.worker in silent]
        async with self.ctx.db.session() as session:
            if answered:
                await workers_repo.touch_seen(session, answered, now)
            dead: set[str] = set()
            if silent:
                rows = await workers_repo.get_all(session, silent)
                for url, row in rows.items():
                    row.last_checked_at = now
                    if _silent_for(row, now) > dead_after:
                        dead.add(url)
            by_id = {s.job.id: s for s in changed}
            ids = list(by_id)
            for i in range(0, len(ids), WRITE_BATCH):
                for task in await tasks_repo.get_many(session, ids[i : i + WRITE_BATCH]):
                    s = by_id[task.id]
                    # The task may have moved on (restarted, retried) since it was read.
                    if task.status != TaskStatus.processing.value or task.worker_task_id != s.job.worker_task_id:
                        continue
                    if not s.reachable:
                        if s.job.worker in dead:
                            svc.attempt_failed(
                                task,
                                s.job.worker,
                                f"the worker stopped answering for more than "
                                f"{self.settings.worker_dead_after_s:.0f} s",
                                counts=False,
                                code=WORKER_LOST,
                            )
                        continue
                    if s.failed:
                        svc.attempt_failed(task, s.job.worker, s.failed, counts=False, code=s.failed_code)
                        continue
                    svc.progressed(task, ready_urls=s.ready, progress=s.progress, stage=s.stage)
                    if s.complete:
                        await svc.completed(session, task, s.missing, self.settings.base_url)
        if any(s.complete for s in seen):
            self.ctx.mailer.wake()
        if any(s.failed for s in seen) or dead:
            self.ctx.dispatch.wake()


def _silent_for(row: WorkerNode, now) -> timedelta:  # type: ignore[no-untyped-def]
    if row.last_seen_at is None:
        return timedelta.max
    return now - row.last_seen_at
