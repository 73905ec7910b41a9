"""Follow every ``processing`` task: the job's state, which outputs exist, collect results.

One run:

1. Leases: this backend records its heartbeat and takes its share of the workers (a lease on
   each ``workers`` row, renewed every run, ``SKIP LOCKED`` on PostgreSQL; see
   ``workers.repository.lease_for_progress``). Any number of backends on one database split the
   workers between them; each task is followed by the one backend that holds its worker, and
   when a backend dies its leases expire (``CLAIM_LEASE_S``) and the others take its workers.
2. One request per worker (``POST /api/jobs/status`` with every job followed there): each job's
   state, progress, error and the outputs complete so far. A worker from before that route
   (404/405) is asked the old way: a status GET per job and a HEAD per output not yet ready.
3. Each newly complete output is copied into storage before it counts as ready: downloads are
   served by the backend, and outlive the worker's clean-up. When the job is ``done`` every file
   it will ever produce exists: the rest are recorded as missing and the task is done. A job
   that failed, or one on a worker silent for ``WORKER_DEAD_AFTER_S``, goes back to the queue.
4. Only the tasks where something changed are written, in one short transaction at the end;
   their rows are locked (``FOR UPDATE`` on PostgreSQL), and a task that moved on meanwhile
   (done, restarted) is left alone, so a task completes (and emails) once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select

from autorig import protocol
from autorig.config import WebSettings
from autorig.web.db import Database, utcnow
from autorig.web.domains.tasks import repository as tasks_repo
from autorig.web.domains.tasks.service import INTERNAL, WORKER_LOST, TaskService, file_name
from autorig.web.domains.workers import repository as workers_repo
from autorig.web.domains.workers.client import WorkerClient, WorkerRejected, WorkerUnreachable
from autorig.web.models import Task, TaskStatus, WorkerNode
from autorig.web.services.base import LoopService
from autorig.web.storage.base import StorageUnavailable
from autorig.web.storage.keys import output_key

log = logging.getLogger(__name__)
T = TypeVar("T")

WRITE_BATCH = 500  # tasks updated per statement batch
OLD_WORKER = (404, 405)  # POST /api/jobs/status unknown: a worker from before the route


@dataclass
class _Job:
    id: str
    worker: str
    worker_task_id: str
    ready_count: int
    progress: float
    stage: str
    # Read only for the jobs with new outputs (``_load_urls``): decoding 20,000 JSON lists
    # would cost more than the rest of a steady cycle.
    output_urls: list[str] = field(default_factory=list)
    ready_urls: list[str] = field(default_factory=list)


@dataclass
class _Seen:
    job: _Job
    reachable: bool = False
    state: protocol.JobState | None = None
    progress: float = 0.0
    stage: str = ""
    ready: list[str] | None = None  # None: the same as before
    missing: list[str] = field(default_factory=list)
    failed: str | None = None
    failed_code: str | None = None  # protocol.INPUT_ERROR_CODES end the task; others retry
    complete: bool = False

    @property
    def moved(self) -> bool:
        """Anything to write: a result, a new output, more progress, another stage."""
        j = self.job
        return bool(
            self.failed
            or self.complete
            or (self.ready is not None and len(self.ready) != j.ready_count)
            or self.progress > j.progress + 1e-9
            or (self.stage and self.stage != j.stage)
        )


class ProgressService(LoopService):
    name = "progress"

    def __init__(
        self,
        db: Database,
        client: WorkerClient,
        tasks: TaskService,
        settings: WebSettings,
        *,
        on_completed: Callable[[], object],
        on_freed: Callable[[], object],
    ) -> None:
        """``on_completed``: after a run that finished tasks (wake the mailer); ``on_freed``:
        after one that put tasks back in the queue or found a worker dead (wake dispatch)."""
        super().__init__(settings.progress_interval_s)
        self.db = db
        self.client = client
        self.tasks = tasks
        self.storage = tasks.storage
        self.settings = settings
        self.on_completed = on_completed
        self.on_freed = on_freed
        self._sem = asyncio.Semaphore(settings.progress_concurrency)
        self.followed: list[str] = []  # the workers this backend followed in its last run

    async def run_once(self) -> None:
        self.followed = mine = await self._lease()
        if not mine:
            return
        async with self.db.read_session() as s:
            rows = await s.execute(
                select(Task.id, Task.worker, Task.worker_task_id, Task.ready_count, Task.progress, Task.stage).where(
                    Task.status == TaskStatus.processing.value, Task.worker.in_(mine)
                )
            )
            by_worker: dict[str, list[_Job]] = defaultdict(list)
            for r in rows:
                by_worker[r.worker].append(
                    _Job(r.id, r.worker, r.worker_task_id or "", r.ready_count or 0, r.progress or 0.0, r.stage or "")
                )
        if not by_worker:
            return
        self._sem = asyncio.Semaphore(self.settings.progress_concurrency)
        answers = await asyncio.gather(*(self._follow(w, jobs) for w, jobs in by_worker.items()))
        await self._record([s for seen in answers for s in seen])

    async def stop(self) -> None:
        """Stop the loop and hand this backend's workers back (a killed one's leases expire)."""
        await super().stop()
        try:
            async with self.db.session() as s:
                await workers_repo.release_progress_leases(s, self.settings.instance_id)
        except Exception:
            log.exception("progress: could not release the worker leases; they expire in %.0f s", self.settings.claim_lease_s)

    async def _lease(self) -> list[str]:
        """Heartbeat, then this backend's share of the workers (those in ``WORKERS`` and any
        that still runs a task)."""
        now = utcnow()
        lease_s = self.settings.claim_lease_s
        instance = self.settings.instance_id
        async with self.db.session() as s:
            await workers_repo.heartbeat(s, instance, now)
            busy = (await s.scalars(select(Task.worker).where(Task.status == TaskStatus.processing.value).distinct())).all()
            urls = sorted(set(self.settings.workers) | {w for w in busy if w})
            if not urls:
                return []
            live = await workers_repo.live_backends(s, now - timedelta(seconds=lease_s))
            return await workers_repo.lease_for_progress(s, urls, instance, now, tasks_repo.lease(now, lease_s), live)

    # --- asking the workers --------------------------------------------------------------

    async def _call(self, coro: Awaitable[T]) -> T:
        async with self._sem:
            return await coro

    async def _follow(self, worker: str, jobs: list[_Job]) -> list[_Seen]:
        """Every job followed on ``worker``, in one request (or a few for huge batches)."""
        client = self.client
        statuses: dict[str, protocol.JobStatus] = {}
        unknown: set[str] = set()
        ids = [j.worker_task_id for j in jobs]
        try:
            for i in range(0, len(ids), protocol.MAX_STATUS_BATCH):
                answer = await client.jobs(worker, ids[i : i + protocol.MAX_STATUS_BATCH])
                statuses.update({st.worker_task_id: st for st in answer.jobs})
                unknown.update(answer.unknown)
        except WorkerRejected as exc:
            if exc.status_code in OLD_WORKER:
                await self._load_urls(jobs)
                return list(await asyncio.gather(*(self._check_one(j) for j in jobs)))
            log.warning("progress: %s refused the status request: %s", worker, exc)
            return [_Seen(j, reachable=True, progress=j.progress, stage=j.stage) for j in jobs]
        except WorkerUnreachable as exc:
            log.info("progress: %s: %s", worker, exc)
            return [_Seen(j) for j in jobs]
        out: list[_Seen] = []
        busy: list[tuple[_Job, protocol.JobStatus]] = []
        for j in jobs:
            st = statuses.get(j.worker_task_id)
            if st is None:
                out.append(
                    _Seen(
                        j,
                        reachable=True,
                        failed=f"the worker no longer knows job {j.worker_task_id} (restarted or cleaned up)",
                        failed_code=WORKER_LOST,
                    )
                )
            elif st.state == protocol.JobState.failed:
                out.append(
                    _Seen(
                        j,
                        reachable=True,
                        state=st.state,
                        failed=st.error or "the job failed on the worker",
                        failed_code=st.error_code,
                    )
                )
            elif st.state != protocol.JobState.done and len(st.outputs_ready) <= j.ready_count:
                # Nothing new listed: the steady state, settled without any further work.
                out.append(_Seen(j, reachable=True, state=st.state, progress=st.progress, stage=st.stage))
            else:
                busy.append((j, st))
        if busy:
            await self._load_urls([j for j, _ in busy])
            out += await asyncio.gather(*(self._settle(j, st, listed=True) for j, st in busy))
        return out

    async def _load_urls(self, jobs: list[_Job]) -> None:
        """Fill in the output URLs (all, and those already copied) of these jobs."""
        by_id = {j.id: j for j in jobs}
        ids = list(by_id)
        async with self.db.read_session() as s:
            for i in range(0, len(ids), WRITE_BATCH):
                stmt = select(Task.id, Task.output_urls, Task.ready_urls).where(Task.id.in_(ids[i : i + WRITE_BATCH]))
                for r in await s.execute(stmt):
                    by_id[r.id].output_urls = list(r.output_urls or [])
                    by_id[r.id].ready_urls = list(r.ready_urls or [])

    async def _check_one(self, job: _Job) -> _Seen:
        """The way before the batch route: one status GET, then HEADs of the outputs."""
        try:
            status = await self._call(self.client.job(job.worker, job.worker_task_id))
        except WorkerRejected as exc:
            seen = _Seen(job, reachable=True)
            if exc.status_code == 404:
                seen.failed = f"the worker no longer knows job {job.worker_task_id} (restarted or cleaned up)"
                seen.failed_code = WORKER_LOST
            return seen
        except WorkerUnreachable:
            return _Seen(job)
        return await self._settle(job, status, listed=False)

    async def _settle(self, job: _Job, status: protocol.JobStatus, *, listed: bool) -> _Seen:
        """What the job's status means for the task: copy the outputs that became complete.
        ``listed``: the worker's ``outputs_ready`` is the whole truth (the batch route), so no
        HEADs; otherwise HEAD the outputs in production order, stopping at the first missing
        one (plus any the worker lists as ready)."""
        ready: list[str] = list(job.ready_urls)
        seen = _Seen(job, reachable=True, ready=ready)
        seen.state, seen.progress, seen.stage = status.state, status.progress, status.stage
        if status.state == protocol.JobState.failed:
            seen.failed = status.error or "the job failed on the worker"
            seen.failed_code = status.error_code
            return seen
        names = set(status.outputs_ready)
        done = status.state == protocol.JobState.done
        ready_before = set(job.ready_urls)
        pending = [(u, file_name(u)) for u in job.output_urls if u not in ready_before]
        out_of_order = any(name in names for _, name in pending)
        try:
            for url, name in pending:
                if listed:
                    present = name in names and await self._copy(job, url)
                else:
                    present = await self._call(self.client.exists(url)) and await self._copy(job, url)
                if present:
                    ready.append(url)
                elif done:
                    seen.missing.append(name)
                elif not listed and not out_of_order:
                    break  # outputs appear in order: the first missing one ends the look
        except (WorkerUnreachable, StorageUnavailable) as exc:
            # The output stays on the worker: the next cycle copies it.
            log.warning("task %s: %s", job.id, exc)
            return seen
        if done:
            if not job.output_urls or job.output_urls[0] not in ready:
                first = file_name(job.output_urls[0]) if job.output_urls else "the rigged model"
                seen.failed = f"the job finished without producing {first}"
                seen.failed_code = INTERNAL
            else:
                seen.complete = True
        return seen

    async def _copy(self, job: _Job, url: str) -> bool:
        """Download one output into storage; False when it vanished (404)."""
        name = file_name(url)
        dest = self.storage.scratch_dir() / f"{job.id}-{name}"
        size = await self._call(self.client.download(url, dest))
        if size is None:
            return False
        try:
            await self.storage.put_file(output_key(job.id, name), dest)
        finally:
            dest.unlink(missing_ok=True)  # stored (moved) or not: the worker still has it
        return True

    # --- writing down what was seen ---------------------------------------------------------

    async def _record(self, seen: list[_Seen]) -> None:
        now = utcnow()
        svc = self.tasks
        dead_after = timedelta(seconds=self.settings.worker_dead_after_s)
        answered = {s.job.worker for s in seen if s.reachable}
        silent = {s.job.worker for s in seen if not s.reachable} - answered
        changed = [s for s in seen if (s.reachable and s.moved) or s.job.worker in silent]
        async with self.db.session() as session:
            if answered:
                await workers_repo.touch_seen(session, answered, now)
            dead: set[str] = set()
            if silent:
                rows = await workers_repo.get_all(session, silent)
                for url, row in rows.items():
                    row.last_checked_at = now
                    if _silent_for(row, now) > dead_after:
                        dead.add(url)
            changed = [s for s in changed if s.reachable or s.job.worker in dead]
            by_id = {s.job.id: s for s in changed}
            ids = list(by_id)
            lock = session.get_bind().dialect.name == "postgresql"
            for i in range(0, len(ids), WRITE_BATCH):
                stmt = select(Task).where(Task.id.in_(ids[i : i + WRITE_BATCH]))
                # Another backend may hold this worker's lease now: the row lock makes it wait,
                # and it then sees the task done and leaves it.
                for task in (await session.scalars(stmt.with_for_update() if lock else stmt)).all():
                    s = by_id[task.id]
                    # The task may have moved on (restarted, retried, done) since it was read.
                    if task.status != TaskStatus.processing.value or task.worker_task_id != s.job.worker_task_id:
                        continue
                    if not s.reachable:
                        svc.attempt_failed(
                            task,
                            s.job.worker,
                            f"the worker stopped answering for more than {self.settings.worker_dead_after_s:.0f} s",
                            counts=False,
                            code=WORKER_LOST,
                        )
                        continue
                    if s.failed:
                        svc.attempt_failed(task, s.job.worker, s.failed, counts=False, code=s.failed_code)
                        continue
                    ready = task.ready_urls if s.ready is None else s.ready
                    svc.progressed(task, ready_urls=ready, progress=s.progress, stage=s.stage)
                    if s.complete:
                        await svc.completed(session, task, s.missing, self.settings.base_url)
        if any(s.complete for s in changed):
            self.on_completed()
        if any(s.failed for s in changed) or dead:
            self.on_freed()


def _silent_for(row: WorkerNode, now: datetime) -> timedelta:
    if row.last_seen_at is None:
        return timedelta.max
    return now - row.last_seen_at
