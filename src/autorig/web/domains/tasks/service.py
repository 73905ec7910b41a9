"""The life of a task: creation, the FBX step, jobs, progress, retries, completion, restart.

Every state change of a task happens here; endpoints and background services call these
methods inside their own session and commit afterwards. Methods ``flush()``, never commit.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from sqlalchemy.ext.asyncio import AsyncSession

from autorig import netcheck, protocol
from autorig.config import WebSettings
from autorig.web.db import on_commit, utcnow
from autorig.web.domains.notifications import service as notifications
from autorig.web.domains.tasks import repository
from autorig.web.domains.tasks.formats import format_from_name
from autorig.web.domains.tasks.report import warnings_from_report
from autorig.web.domains.tasks.upload import ReceivedForm
from autorig.web.errors import BadRequest, Forbidden, NotFound, RestartNotAllowed
from autorig.web.models import FbxStatus, Task, TaskStatus, User
from autorig.web.models.task import new_task_id
from autorig.web.storage import Storage
from autorig.web.storage.keys import input_key, output_key

log = logging.getLogger(__name__)

MAX_EMAIL_LEN = 320
MAX_ERROR_LEN = 4000
REPORT_NAME = protocol.REPORT_NAME
MAX_REPORT_BYTES = 8 * 1024 * 1024  # rig.json is a few hundred kB at most

# Codes the backend gives failures it observes itself (the worker's codes come in JobStatus).
WORKER_LOST = protocol.WORKER_LOST  # the worker stopped answering, or forgot the job
INTERNAL = protocol.INTERNAL


def output_name_for(stem: str) -> str:
    """The base name of a task's outputs: the upload's name made safe, and never one whose files
    would take a free preview's name (an upload called ``viewer.glb`` would otherwise have its
    rigged model stored, and handed out free, as ``viewer.glb``)."""
    return protocol.safe_name(stem)  # safe_name already steers clear of the previews' names


def public_text(text: str | None, addresses: list[str]) -> str | None:
    """``text`` with every worker address in ``addresses`` replaced by "a worker": people see why
    something failed, never where the workers are."""
    if not text:
        return text
    # The URL first, then its bare host:port (as a connection error names it).
    forms = {a for a in addresses if a} | {urlparse(a).netloc for a in addresses if a and urlparse(a).netloc}
    for a in sorted(forms, key=len, reverse=True):
        text = text.replace(a, "a worker")
    # Any other http(s) address of a worker's file or page (e.g. one the worker named itself).
    return re.sub(r"https?://[^\s'\"]+/(?:files|jobs)/[^\s'\"]*", "a worker's URL", text)


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
        task = Task(source_name=form.filename[:255], source_format=form.format, output_name=output_name_for(stem))
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
        self._options(fields)  # refuse bad fields before the name lookup
        problem = await asyncio.to_thread(netcheck.url_problem, url, self.own_hosts())
        if problem:
            raise BadRequest(f"input_url refused: {problem}", code="refused_url")
        task = Task(
            source_name=name[:255],
            source_format=fmt,
            output_name=output_name_for(Path(name).stem),
            input_url=url,
        )
        return await self._add(session, task, fields, owner_id=owner_id, anon_id=anon_id)

    def own_hosts(self) -> list[str]:
        """Hosts an input URL may name although private or loopback: this backend's own address
        (``PUBLIC_BASE_URL``), from which workers fetch uploads, as they do with ``ALLOWED_HOSTS``."""
        parsed = urlparse(self.settings.base_url)
        host = (parsed.hostname or "").lower()
        if not host:
            return []
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        bare = f"[{host}]" if ":" in host else host
        return [f"{bare}:{port}"]

    @staticmethod
    def _options(fields: dict[str, str]) -> tuple[protocol.JobOptions, str | None]:
        """The job options and notification address from the form, or ``BadRequest``."""
        try:
            options = protocol.JobOptions(
                skeleton=protocol.Skeleton(fields.get("skeleton") or protocol.Skeleton.mixamo),
                mixamo_prefix=(fields.get("mixamo_prefix", "").lower() in ("1", "true", "yes", "on")),
                fingers=protocol.Fingers(fields.get("fingers") or protocol.Fingers.auto),
            )
        except ValueError:
            raise BadRequest(
                "skeleton must be one of: "
                + ", ".join(s.value for s in protocol.Skeleton)
                + "; fingers one of: "
                + ", ".join(f.value for f in protocol.Fingers)
            ) from None
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

    @staticmethod
    def may_restart(task: Task, *, user_id: str | None, anon_id: str | None, is_admin: bool) -> bool:
        """Only the task's owner (its account, or the anonymous browser that made it) and admins
        may restart it."""
        if is_admin:
            return True
        if task.owner_id is not None:
            return task.owner_id == user_id
        return task.anon_id is not None and task.anon_id == anon_id

    def check_may_restart(self, task: Task, *, user_id: str | None, anon_id: str | None, is_admin: bool) -> None:
        if not self.may_restart(task, user_id=user_id, anon_id=anon_id, is_admin=is_admin):
            raise Forbidden("only the person who created this task can restart it")

    async def restart(self, session: AsyncSession, task: Task, *, force: bool = False) -> Task:
        """Run the task again under the same id; ``force`` (admins) skips the wait for the offer."""
        now = utcnow()
        if not force and not self.restart_allowed(task, now):
            at = self.restart_available_at(task)
            when = f"; offered from {at.isoformat()}" if at else ""
            raise RestartNotAllowed(f"restart is not offered for this task now (status {task.status}{when})")
        self._clear_job(task)
        task.status = TaskStatus.created.value
        task.error = task.error_code = None
        task.last_error = None
        task.warnings = None
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
        task.fbx_error = None
        task.fbx_finished_at = utcnow()

    async def keep_converted(self, task_id: str, output_name: str, path: Path) -> str:
        """Store the FBX step's ``.glb`` (downloaded from the worker into ``path``) next to the
        upload; returns the URL the rig job reads it from: the backend's, never a worker's."""
        key = input_key(task_id, output_name, "glb")
        await self.storage.put_file(key, path, "model/gltf-binary")
        return self.storage.public_url(key)

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

    def attempt_failed(
        self, task: Task, worker: str | None, reason: str, *, counts: bool = True, code: str | None = None
    ) -> None:
        """A job (or the FBX step) failed on ``worker``. When ``code`` says the input is at fault
        (``protocol.is_input_error``) the task ends in ``error`` at once, with the engine's
        sentence: another attempt cannot help. Otherwise (the worker died, was killed, ran out of
        time) back to the queue, or ``error`` when the attempts are used up. ``counts=False`` when
        the attempt was already counted at submission."""
        reason = reason[:MAX_ERROR_LEN]
        code = (code or "")[:32] or None
        if counts:
            task.attempts += 1
        if task.fbx_status == FbxStatus.running.value:
            task.fbx_status = FbxStatus.pending.value
            task.fbx_error = reason
        if worker and worker not in task.failed_workers:
            task.failed_workers = [*task.failed_workers, worker]
        task.last_error = reason
        self._clear_job(task)
        final = protocol.is_input_error(code)
        if final or task.attempts >= self.settings.max_attempts:
            task.status = TaskStatus.error.value
            task.error = reason if final else f"failed after {task.attempts} attempts: {reason}"
            task.error_code = code or INTERNAL
            if task.fbx_status == FbxStatus.pending.value and task.fbx_error:
                task.fbx_status = FbxStatus.error.value
            task.finished_at = utcnow()
        else:
            task.status = TaskStatus.created.value  # keeps its queued_at: first in line again
        log.info("task %s attempt %d failed on %s (%s): %s", task.id, task.attempts, worker, code, reason)

    def progressed(self, task: Task, *, ready_urls: list[str], progress: float, stage: str) -> bool:
        """Record what the worker reports; True when anything moved."""
        ready = [u for u in task.output_urls if u in set(ready_urls)]
        by_files = protocol.job_progress(protocol.files_fraction(ready, task.output_urls))
        progress = max(task.progress, min(1.0, progress), by_files)
        moved = len(ready) != task.ready_count or progress > task.progress + 1e-9 or (stage and stage != task.stage)
        if moved:
            task.ready_urls = ready
            task.ready_count = len(ready)
            task.progress = progress
            task.stage = stage or task.stage
            task.last_progress_at = utcnow()
        return bool(moved)

    async def completed(self, session: AsyncSession, task: Task, missing: list[str], base_url: str) -> None:
        """All outputs the job produced are in storage: done (no error of an earlier attempt
        left showing), the warnings of its ``rig.json`` kept, and email the owner."""
        task.status = TaskStatus.done.value
        task.error = task.error_code = None
        task.warnings = await self.report_warnings(task)
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

    async def report_warnings(self, task: Task) -> list[dict[str, Any]]:
        """The warnings of the task's ``rig.json`` in storage ([] when it has none)."""
        if REPORT_NAME not in self.ready_files(task):
            return []
        scratch = self.storage.scratch_dir()
        scratch.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="report-", dir=scratch))
        try:
            dest = work / REPORT_NAME
            await self.storage.fetch(output_key(task.id, REPORT_NAME), dest)
            if dest.stat().st_size > MAX_REPORT_BYTES:
                return []
            return warnings_from_report(dest.read_bytes())
        except Exception as exc:  # a report that cannot be read costs its warnings, never the task
            log.warning("task %s: could not read %s: %s", task.id, REPORT_NAME, exc)
            return []
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def ready_files(self, task: Task) -> list[str]:
        """Names of the outputs already copied to storage, in production order."""
        return [file_name(u) for u in task.ready_urls]
