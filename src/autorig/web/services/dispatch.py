"""Give the oldest waiting tasks to workers that have a free slot.

One run: ask every worker in ``WORKERS`` for ``/api/status`` (in parallel) and record the
answers; claim as many waiting tasks as there are free slots (a lease, so the HTTP calls that
follow happen outside any database transaction); for each task run the FBX->GLB step when the
input is FBX (its ``.glb`` is copied into storage: the rig job reads it from the backend), then
submit the rig job. A worker that turns out to be full (503) gets the task released untouched; a
job refused or a conversion failed counts as an attempt, and ends the task at once when the
worker's error code blames the input (``protocol.is_input_error``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from autorig import protocol
from autorig.config import WebSettings
from autorig.web.db import Database, utcnow
from autorig.web.domains.tasks import repository as tasks_repo
from autorig.web.domains.tasks.service import TaskService
from autorig.web.domains.workers import repository as workers_repo
from autorig.web.domains.workers.client import WorkerBusy, WorkerClient, WorkerError, WorkerRejected, WorkerUnreachable
from autorig.web.models import FbxStatus, Task, TaskStatus
from autorig.web.services.base import LoopService

log = logging.getLogger(__name__)


@dataclass
class _Claimed:
    id: str
    needs_fbx: bool
    input_url: str
    failed_workers: list[str]
    output_name: str = "model"


class DispatchService(LoopService):
    name = "dispatch"

    def __init__(self, db: Database, client: WorkerClient, tasks: TaskService, settings: WebSettings) -> None:
        super().__init__(settings.dispatch_interval_s)
        self.db = db
        self.client = client
        self.tasks = tasks
        self.settings = settings

    async def poll_workers(self) -> dict[str, int]:
        """Ask every worker for its status; returns the free slots of those accepting jobs."""
        urls = self.settings.workers
        answers = await asyncio.gather(*(self.client.status(u) for u in urls), return_exceptions=True)
        now = utcnow()
        free: dict[str, int] = {}
        async with self.db.session() as s:
            rows = await workers_repo.get_all(s, urls)
            for url, answer in zip(urls, answers, strict=False):
                if isinstance(answer, protocol.WorkerStatus):
                    workers_repo.record_status(rows[url], answer, now)
                    if answer.online and answer.accepting and answer.free_slots > 0:
                        free[url] = answer.free_slots
                else:
                    workers_repo.record_failure(rows[url], str(answer) or type(answer).__name__, now)
        return free

    async def run_once(self) -> None:
        if not self.settings.workers:
            return
        free = await self.poll_workers()
        total = sum(free.values())
        if total <= 0:
            return
        now = utcnow()
        async with self.db.session() as s:
            tasks = await tasks_repo.claim_queued(
                s, total, self.settings.instance_id, tasks_repo.lease(now, self.settings.claim_lease_s), now
            )
            claimed = [_Claimed(t.id, t.needs_fbx_step, t.input_url, list(t.failed_workers), t.output_name) for t in tasks]
        if not claimed:
            return
        plan: list[tuple[_Claimed, str]] = []
        for c in claimed:
            worker = self._pick(free, c.failed_workers)
            free[worker] -= 1
            plan.append((c, worker))
        await asyncio.gather(*(self._start(c, w) for c, w in plan))

    @staticmethod
    def _pick(free: dict[str, int], avoid: list[str]) -> str:
        """The worker with the most free slots, preferring one this task has not failed on."""
        candidates = [w for w, n in free.items() if n > 0]
        fresh = [w for w in candidates if w not in avoid] or candidates
        return max(fresh, key=lambda w: free[w])

    async def _mine(self, s: AsyncSession, task_id: str) -> Task | None:
        """The task, if this instance still holds its claim (a lease can expire)."""
        task = await tasks_repo.get(s, task_id)
        if task is None or task.status != TaskStatus.created.value or task.claimed_by != self.settings.instance_id:
            log.warning("task %s: lost the claim while talking to a worker", task_id)
            return None
        return task

    async def _refused(self, c: _Claimed, worker: str, exc: WorkerError, reason: str) -> None:
        """A worker turned the task down: busy puts it back in the queue as it was; any other
        failure counts as an attempt."""
        log.info("task %s: %s turned it down: %s", c.id, worker, exc)
        async with self.db.session() as s:
            if (task := await self._mine(s, c.id)) is None:
                return
            if isinstance(exc, WorkerBusy):
                self.tasks.release(task)
            else:
                code = exc.code if isinstance(exc, WorkerRejected) else None
                self.tasks.attempt_failed(task, worker, reason, code=code)

    async def _start(self, c: _Claimed, worker: str) -> None:
        try:
            await self._convert_and_submit(c, worker)
        except Exception:
            log.exception("task %s: dispatch to %s failed", c.id, worker)
            async with self.db.session() as s:
                task = await self._mine(s, c.id)
                if task is not None:
                    self.tasks.release(task)

    async def _convert_and_submit(self, c: _Claimed, worker: str) -> None:
        svc = self.tasks
        client = self.client
        if c.needs_fbx:
            lease_s = self.settings.convert_timeout_s + self.settings.claim_lease_s
            async with self.db.session() as s:
                task = await self._mine(s, c.id)
                if task is None:
                    return
                svc.fbx_started(task, worker, tasks_repo.lease(utcnow(), lease_s))
            try:
                worker_glb = await client.convert(worker, c.input_url, self.settings.convert_timeout_s)
                glb_url = await self._store_converted(c, worker_glb)
            except WorkerError as exc:
                await self._refused(c, worker, exc, f"the FBX to GLB conversion failed: {_detail(exc)}")
                return
            async with self.db.session() as s:
                task = await self._mine(s, c.id)
                if task is None:
                    return
                svc.fbx_done(task, glb_url)
                task.claim_until = tasks_repo.lease(utcnow(), self.settings.claim_lease_s)

        async with self.db.session() as s:
            task = await self._mine(s, c.id)
            if task is None:
                return
            if task.fbx_status not in (None, FbxStatus.done.value):
                svc.release(task)
                return
            job = protocol.JobRequest(
                input_url=task.rig_input_url,
                options=protocol.JobOptions(**{**task.options, "name": task.output_name}),
            )
        try:
            accepted = await client.submit(worker, job)
        except WorkerError as exc:
            await self._refused(c, worker, exc, f"the worker did not take the job: {_detail(exc)}")
            return
        async with self.db.session() as s:
            task = await self._mine(s, c.id)
            if task is None:
                log.warning("task %s: job %s on %s is orphaned", c.id, accepted.worker_task_id, worker)
                return
            svc.job_started(task, worker, accepted)
            # Until the next status poll, the queue figures count this slot as taken.
            row = (await workers_repo.get_all(s, [worker]))[worker]
            row.free_slots = max(0, row.free_slots - 1)
            row.active_jobs += 1
        log.info("task %s: job %s on %s", c.id, accepted.worker_task_id, worker)

    async def _store_converted(self, c: _Claimed, worker_glb: str) -> str:
        """Copy the FBX step's ``.glb`` from the worker into storage; its URL there."""
        scratch = self.tasks.storage.scratch_dir()
        scratch.mkdir(parents=True, exist_ok=True)
        dest = scratch / f"{c.id}-converted-{secrets.token_hex(4)}.glb"
        try:
            if await self.client.download(worker_glb, dest) is None:
                raise WorkerUnreachable("the converted .glb vanished from the worker before it was copied")
            return await self.tasks.keep_converted(c.id, c.output_name, dest)
        finally:
            dest.unlink(missing_ok=True)


def _detail(exc: WorkerError) -> str:
    """What the worker said, without its address (people read this on the task page)."""
    return exc.detail if isinstance(exc, WorkerRejected) else "the worker did not answer"
