"""The life of a task: creation, the FBX step, jobs, progress, retries, completion, restart.

Every state change of a task happens here; endpoints and background services call these
methods inside their own session and commit afterwards. Methods ``flush()``, never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from sqlalchemy.ext.asyncio import AsyncSession

from autorig import protocol
from autorig.config import WebSettings
from autorig.web.db import on_commit, utcnow
from autorig.web.domains.notifications import service as notifications
from autorig.web.domains.tasks import repository
from autorig.web.domains.tasks.formats import format_from_name
from autorig.web.domains.tasks.upload import ReceivedForm
from autorig.web.errors import BadRequest, NotFound, RestartNotAllowed
from autorig.web.models import FbxStatus, Task, TaskStatus, User
from autorig.web.models.task import new_task_id
from autorig.web.storage import Storage

log = logging.getLogger(__name__)

MAX_EMAIL_LEN = 320
MAX_ERROR_LEN = 4000


def output_key(task_id: str, filename: str) -> str:
    return f"tasks/{task_id}/out/{filename}"


def input_key(task_id: str, stem: str, fmt: str) -> str:
    return f"tasks/{task_id}/input/{protocol.safe_name(stem)}.{fmt}"


def file_name(url: str) -> str:
    """The file name at the end of an output URL."""
    return unquote(urlparse(url).path.rsplit("/", 1)[-1])


def _clean_email(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > MAX_EMAIL_LEN or "@" not in email or any(c.isspace() for c in email):
        raise BadRequest(f"not an email address: {email[:80]!r}")
    return email


class TaskService:
    def __init__(self, settings: WebSettings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.on_created: list[Callable[[], object]] = []  # callbacks run after the creating transaction commits (wake dispatch)

    # --- creation --------------------------------------------------------------------------

    async def create_from_upload(
        self, session: AsyncSession, form: ReceivedForm, *, owner_id: str | None = None, anon_id: str | None = None
    ) -> Task:
        assert form.file_path is not None and form.format is not None and form.filename
        self._options(form.fields)  # refuse bad fields before anything is stored
        stem = Path(form.filename).stem
        task = Task(source_name=form.filename[:255], source_format=form.format, output_name=protocol.safe_name(stem))
        task.id = new_task_id()
        key = input_key(task.id, stem, form.format)
        await self.storage.put_file(key, form.file_path)
        task.upload_key = key
        task.input_url = self.storage.public_url(key)
        try:
            return await self._add(session, task, form.fields, owner_id=owner_id, anon_id=anon_id)
        except BaseException:
            await self.storage.delete(key)
            raise

    async def create_from_url(
        self,
        session: AsyncSession,
        input_url: str,
        fields: dict[str, str],
        *,
        owner_id: str | None = None,
        anon_id: str | None = None,
    ) -> Task:
        url = input_url.strip()
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 4096 or not url.isprintable() or " " in url:
            raise BadRequest("input_url must be an http(s) URL")
        name = unquote(parsed.path.rsplit("/", 1)[-1]) or "model"
        fmt = format_from_name(name)
        if fmt is None:
            raise BadRequest("input_url must end in .glb, .gltf, .fbx, .obj or .zip")
        task = Task(
            source_name=name[:255],
            source_format=fmt,
            output_name=protocol.safe_name(Path(name).stem),
            input_url=url,
        )
        return await self._add(session, task, fields, owner_id=owner_id, anon_id=anon_id)

    @staticmethod
    def _options(fields: dict[str, str]) -> tuple[protocol.JobOptions, str | None]:
        """The job options and notification address from the form, or ``BadRequest``."""
        try:
            options = protocol.JobOptions(
                skeleton=fields.get("skeleton") or protocol.Skeleton.mixamo,
                mixamo_prefix=(fields.get("mixamo_prefix", "").lower() in ("1", "true", "yes", "on")),
            )
        except ValueError:
            raise BadRequest("skeleton must be one of: " + ", ".join(s.value for s in protocol.Skeleton)) from None
        return options, _clean_email(fields.get("email"))

    async def _add(
        self, session: AsyncSession, task: Task, fields: dict[str, str], *, owner_id: str | None, anon_id: str | None
    ) -> Task:
        options, email = self._options(fields)
        now = utcnow()
        task.status = TaskStatus.created.value
        task.options = options.model_dump(mode="json", exclude={"name"})
        task.owner_id = owner_id
        anon = anon_id or fields.get("anon_id") or None
        task.anon_id = anon[:64] if anon else None
        task.notify_email = email
        task.fbx_status = FbxStatus.pending.value if task.source_format == "fbx" else None
        task.created_at = task.queued_at = task.updated_at = now
        task.output_urls, task.ready_urls, task.missing_files, task.failed_workers = [], [], [], []
        session.add(task)
        await session.flush()
        for fn in self.on_created:
            on_commit(session, fn)
        return task

    # --- reads -----------------------------------------------------------------------------

    async def get(self, session: AsyncSession, task_id: str) -> Task:
        task = await repository.get(session, task_id)
        if task is None:
            raise NotFound(f"no task {task_id!r}")
        return task

    def restart_available_at(self, task: Task) -> datetime | None:
        """When the restart button appears (``None``: not for this state)."""
        if task.status == TaskStatus.error.value:
            since = task.finished_at or task.updated_at
            return since + timedelta(seconds=self.settings.restart_after_error_s)
        if task.status == TaskStatus.processing.value:
            since = task.last_progress_at or task.started_at or task.updated_at
            return since + timedelta(seconds=self.settings.stall_restart_s)
        return None

    def restart_allowed(self, task: Task, now: datetime | None = None) -> bool:
        at = self.restart_available_at(task)
        return at is not None and (now or utcnow()) >= at

    # --- the user's restart ----------------------------------------------------------------

    async def restart(self, session: AsyncSession, task: Task, *, force: bool = False) -> Task:
        """Run the task again under the same id; ``force`` (admins) skips the wait for the offer."""
        now = utcnow()
        if not force and not self.restart_allowed(task, now):
            at = self.restart_available_at(task)
            when = f"; offered from {at.isoformat()}" if at else ""
            raise RestartNotAllowed(f"restart is not offered for this task now (status {task.status}{when})")
        self._clear_job(task)
        task.status = TaskStatus.created.value
        task.error = None
        task.last_error = None
        task.attempts = 0
        task.failed_workers = []
        task.restarts += 1
        task.fbx_status = FbxStatus.pending.value if task.source_format == "fbx" else None
        task.fbx_glb_url = task.fbx_worker = task.fbx_error = None
        task.fbx_started_at = task.fbx_finished_at = None
        task.missing_files = []
        task.finished_at = None
        task.queued_at = now
        await session.flush()
        for fn in self.on_created:
            on_commit(session, fn)
        return task

    # --- transitions used by the background services ----------------------------------------

    def _clear_job(self, task: Task) -> None:
        task.worker = task.worker_task_id = task.guid = task.progress_page = None
        task.output_urls, task.ready_urls = [], []
        task.ready_count = 0
        task.progress = 0.0
        task.stage = ""
        task.started_at = task.last_progress_at = None
        task.claimed_by = task.claim_until = None

    def fbx_started(self, task: Task, worker: str, lease_until: datetime) -> None:
        task.fbx_status = FbxStatus.running.value
        task.fbx_worker = worker
        task.fbx_started_at = utcnow()
        task.fbx_error = None
        task.claim_until = lease_until

    def fbx_done(self, task: Task, glb_url: str) -> None:
        task.fbx_status = FbxStatus.done.value
        task.fbx_glb_url = glb_url
        task.fbx_finished_at = utcnow()

    def release(self, task: Task) -> None:
        """Give the task back to the queue untouched (the worker had no free slot after all)."""
        if task.fbx_status == FbxStatus.running.value:
            task.fbx_status = FbxStatus.pending.value
        task.claimed_by = task.claim_until = None

    def job_started(self, task: Task, worker: str, accepted: protocol.JobAccepted) -> None:
        now = utcnow()
        task.status = TaskStatus.processing.value
        task.attempts += 1
        task.worker = worker
        task.worker_task_id = accepted.worker_task_id
        task.guid = accepted.guid
        task.output_urls = list(accepted.output_urls)
        task.progress_page = accepted.progress_page
        task.ready_urls, task.missing_files = [], []
        task.ready_count = 0
        task.progress = 0.0
        task.stage = "queued"
        task.started_at = task.last_progress_at = now
        task.claimed_by = task.claim_until = None

    def attempt_failed(self, task: Task, worker: str | None, reason: str, *, counts: bool = True) -> None:
        """A job (or the FBX step) failed on ``worker``: back to the queue, or ``error`` when the
        attempts are used up. ``counts=False`` when the attempt was already counted at submission."""
        reason = reason[:MAX_ERROR_LEN]
        if counts:
            task.attempts += 1
        if task.fbx_status == FbxStatus.running.value:
            task.fbx_status = FbxStatus.pending.value
            task.fbx_error = reason
        if worker and worker not in task.failed_workers:
            task.failed_workers = [*task.failed_workers, worker]
        task.last_error = reason
        self._clear_job(task)
        if task.attempts >= self.settings.max_attempts:
            task.status = TaskStatus.error.value
            task.error = f"failed after {task.attempts} attempts: {reason}"
            if task.fbx_status == FbxStatus.pending.value and task.fbx_error:
                task.fbx_status = FbxStatus.error.value
            task.finished_at = utcnow()
        else:
            task.status = TaskStatus.created.value  # keeps its queued_at: first in line again
        log.info("task %s attempt %d failed on %s: %s", task.id, task.attempts, worker, reason)

    def progressed(self, task: Task, *, ready_urls: list[str], progress: float, stage: str) -> bool:
        """Record what the worker reports; True when anything moved."""
        ready = [u for u in task.output_urls if u in set(ready_urls)]
        progress = max(task.progress, min(1.0, progress), len(ready) / max(1, len(task.output_urls)))
        moved = len(ready) != task.ready_count or progress > task.progress + 1e-9 or (stage and stage != task.stage)
        if moved:
            task.ready_urls = ready
            task.ready_count = len(ready)
            task.progress = progress
            task.stage = stage or task.stage
            task.last_progress_at = utcnow()
        return bool(moved)

    async def completed(self, session: AsyncSession, task: Task, missing: list[str], base_url: str) -> None:
        """All outputs the job produced are in storage: done, and email the owner."""
        task.status = TaskStatus.done.value
        task.missing_files = missing
        task.progress = 1.0
        task.stage = "done"
        task.finished_at = utcnow()
        task.claimed_by = task.claim_until = None
        to = await self.owner_email(session, task)
        if to:
            await notifications.task_done(session, task, to, base_url)
        await session.flush()

    async def owner_email(self, session: AsyncSession, task: Task) -> str | None:
        if task.owner_id:
            user = await session.get(User, task.owner_id)
            if user is not None:
                return user.email
        return task.notify_email

    # --- files -----------------------------------------------------------------------------

    def ready_files(self, task: Task) -> list[str]:
        """Names of the outputs already copied to storage, in production order."""
        return [file_name(u) for u in task.ready_urls]
