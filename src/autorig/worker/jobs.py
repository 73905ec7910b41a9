"""The job manager: intake, capacity, one thread (and one engine process) per job, restarts.

No local queue: the backend keeps the real queue, so a submission beyond ``capacity`` gets 503
with Retry-After. A job takes its slot from submission on: ``queued`` while its input downloads,
``running`` while the engine works, then ``done`` (the engine exited 0; any listed output it did
not produce is simply absent) or ``failed`` with a reason a person can read.

On start-up every job left ``queued`` or ``running`` by a previous worker process is marked
``failed`` (its engine process, if still alive, is killed first); nothing stays running forever.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from autorig import protocol
from autorig.config import WorkerSettings
from autorig.protocol import (
    ConvertRequest,
    ConvertResponse,
    JobAccepted,
    JobRequest,
    JobState,
    JobStatus,
    WorkerStatus,
    files_fraction,
    is_input_error,
    job_progress,
    output_files,
    safe_name,
)
from autorig.worker import download, runner
from autorig.worker.errors import (
    ApiError,
    Busy,
    ConversionFailed,
    InputRefused,
    InputUnavailable,
    NotAccepting,
    NotFound,
    TimeLimit,
)
from autorig.worker.status import JobTimes, disk_problem, worker_status
from autorig.worker.store import JobRecord, JobStore, utcnow

log = logging.getLogger("autorig.worker")

# How often a job's thread looks at its engine process and output folder.
POLL_INTERVAL_S = 0.2
# How long shutdown waits for job threads to record their end.
SHUTDOWN_WAIT_S = 15.0

WORKER_RESTARTED = protocol.WORKER_RESTARTED  # a job the worker ended by restarting or shutting down
RESTARTED = "the worker restarted while the job was {state}; submit it again"
SHUT_DOWN = "the worker shut down while the job was {state}; submit it again"


def name_from_url(url: str) -> str:
    """Output base name from the URL's last path segment (without extension), made safe."""
    stem = PurePosixPath(unquote(urlsplit(url).path)).stem
    return safe_name(stem)


def without_query(url: str) -> str:
    """The URL for logs: a signed URL's query (its signature) stays out of them."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?..." if parts.query else "")


class JobManager:
    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.store = JobStore(settings.worker_dir)
        self.times = JobTimes()
        self._intake = threading.Lock()
        self._finishing = threading.Lock()  # a job ends once, whichever thread gets there first
        self._threads: dict[str, threading.Thread] = {}
        self._engines: dict[str, runner.EngineProcess] = {}
        self._convert_slots = threading.BoundedSemaphore(settings.convert_capacity)
        self._stopping = threading.Event()

    # --- life cycle ---------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Load records; fail (and kill) what a previous process left unfinished. Returns their ids."""
        records = self.store.load_all()
        failed = []
        for job in records:
            if job.finished:
                continue
            if job.pid and runner.is_our_engine(job.pid, str(self.store.job_dir(job.id))):
                runner.kill_group(job.pid)
                self.store.log(job.id, f"killed the engine process {job.pid} left by the previous worker")
            self._finish(job.id, JobState.failed, error=RESTARTED.format(state=job.state.value), code=WORKER_RESTARTED)
            failed.append(job.id)
        self.times = JobTimes(self.store.all())
        if failed:
            log.warning("marked %d unfinished job(s) failed after a restart: %s", len(failed), ", ".join(failed))
        return failed

    def shutdown(self) -> None:
        """Kill running engines and let their threads record the end; fail anything else unfinished."""
        self._stopping.set()
        engines = list(self._engines.items())
        for _, engine in engines:
            engine.kill()
        deadline = time.monotonic() + SHUTDOWN_WAIT_S
        for job_id, _ in engines:
            thread = self._threads.get(job_id)
            if thread:
                thread.join(max(0.0, deadline - time.monotonic()))
        # Jobs still downloading: their (daemon) threads end with the process.
        for job in self.store.all():
            if not job.finished:
                self._finish(job.id, JobState.failed, error=SHUT_DOWN.format(state=job.state.value), code=WORKER_RESTARTED)

    # --- intake -------------------------------------------------------------------------
    def _check_accepting(self) -> None:
        problem = disk_problem(self.settings)
        if problem:
            raise NotAccepting(problem, retry_after_s=self.settings.retry_after_s)

    def _check_input_url(self, url: str) -> None:
        """Refuse a bad URL at once, before taking a slot (the download checks every hop again)."""
        try:
            download.check_url(url, self.settings.allowed_hosts)
        except InputUnavailable as exc:  # e.g. the host does not resolve
            raise InputRefused(exc.detail) from None

    def _urls(self, job: JobRecord) -> tuple[list[str], str]:
        base = self.settings.base_url
        return [f"{base}/files/{job.guid}/{f}" for f in job.outputs], f"{base}/jobs/{job.id}"

    def submit(self, request: JobRequest) -> JobAccepted:
        self._check_accepting()
        self._check_input_url(request.input_url)
        name = safe_name(request.options.name) if request.options.name else name_from_url(request.input_url)
        with self._intake:
            busy = sum(j.kind == "rig" and not j.finished for j in self.store.all())
            if busy >= self.settings.capacity:
                raise Busy(f"all {self.settings.capacity} job slot(s) are busy", retry_after_s=self.settings.retry_after_s)
            job = JobRecord(
                id=secrets.token_hex(16),
                guid=secrets.token_urlsafe(24),
                input_url=request.input_url,
                name=name,
                options=request.options,
                outputs=output_files(name),
                stage="downloading",
            )
            self.store.add(job)
            thread = threading.Thread(target=self._run_job, args=(job.id,), name=f"job-{job.id[:8]}", daemon=True)
            self._threads[job.id] = thread
            thread.start()
        self.store.log(job.id, f"accepted: {without_query(request.input_url)} -> {name}")
        output_urls, page = self._urls(job)
        return JobAccepted(worker_task_id=job.id, guid=job.guid, output_urls=output_urls, progress_page=page)

    # --- reading ------------------------------------------------------------------------
    def get(self, job_id: str) -> JobRecord:
        job = self.store.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r} on this worker")
        return job

    def job_status(self, job_id: str) -> JobStatus:
        return self.get(job_id).to_status()

    def status(self) -> WorkerStatus:
        return worker_status(self.settings, self.store.all(), self.times)

    def output_path(self, guid: str, filename: str) -> Path:
        """The path of a listed output of the job with this guid (it may not exist yet)."""
        job = self.store.by_guid(guid)
        if job is None or filename not in job.outputs:
            raise NotFound("no such file")
        return self.store.out_dir(job.id) / filename

    # --- running ------------------------------------------------------------------------
    def _limits(self) -> download.FetchLimits:
        s = self.settings
        return download.FetchLimits(
            max_bytes=s.max_input_mb * 1_000_000,
            timeout_s=s.download_timeout_s,
            max_redirects=s.max_redirects,
            allowed_hosts=tuple(s.allowed_hosts),
            token=s.token.get_secret_value(),
        )

    def _download(self, job: JobRecord) -> Path:
        fetched = download.fetch(job.input_url, self.store.input_dir(job.id), self._limits())
        self.store.log(job.id, f"downloaded {fetched.path.name} ({fetched.size} bytes)")
        self.store.update(job.id, input_file=fetched.path.name)
        return fetched.path

    def _run_job(self, job_id: str) -> None:
        job = self.get(job_id)
        try:
            input_path = self._download(job)
            if self._stopping.is_set():
                raise ApiError(SHUT_DOWN.format(state="queued"), code=WORKER_RESTARTED)
            job = self.store.update(
                job_id, state=JobState.running, stage="rigging", progress=job_progress(0.0), started_at=utcnow()
            )
            argv = runner.rig_command(
                self.settings.engine_command,
                input_path,
                self.store.out_dir(job_id),
                job.name,
                job.options,
                self.settings.engine_only,
            )
            engine = runner.EngineProcess(
                argv=argv,
                log_dir=self.store.job_dir(job_id),
                memory_mb=self.settings.job_memory_mb,
                timeout_s=self.settings.job_timeout_s,
            )
            self._engines[job_id] = engine
            pid = engine.start()
            if self._stopping.is_set():  # shutdown began while it started
                engine.kill()
            self.store.update(job_id, pid=pid)
            self.store.log(job_id, f"engine started (pid {pid}): {' '.join(argv)}")
            rc = self._watch(job_id, engine)
            self._scan_outputs(job_id)
            failure = engine.failure(rc)
            if failure and self._stopping.is_set() and not engine.timed_out:
                failure = runner.Failure(WORKER_RESTARTED, SHUT_DOWN.format(state="running"))
            if failure:
                self._finish(job_id, JobState.failed, error=failure.reason, code=failure.code)
            else:
                self._finish(job_id, JobState.done)
        except ApiError as exc:
            self._finish(job_id, JobState.failed, error=exc.detail, code=exc.code)
        except Exception as exc:  # a bug here must fail the job, not leave it running
            log.exception("job %s", job_id)
            self._finish(job_id, JobState.failed, error=f"internal error in the worker: {exc}", code=protocol.INTERNAL)
        finally:
            engine_left = self._engines.pop(job_id, None)
            if engine_left is not None:
                engine_left.kill()  # only does something when this thread failed mid-run
            self._threads.pop(job_id, None)
            shutil.rmtree(self.store.input_dir(job_id), ignore_errors=True)

    def _watch(self, job_id: str, engine: runner.EngineProcess) -> int:
        """Follow the engine until it exits: stage and progress from its lines and its files."""
        while True:
            rc = engine.poll()
            reported = engine.progress_lines()
            if reported:
                stage, fraction = reported[-1]
                job = self.get(job_id)
                progress = max(job.progress, job_progress(fraction))
                self.store.update(job_id, stage=stage, progress=progress)
            self._scan_outputs(job_id)
            if rc is not None:
                return rc
            time.sleep(POLL_INTERVAL_S)

    def _scan_outputs(self, job_id: str) -> None:
        job = self.get(job_id)
        out = self.store.out_dir(job_id)
        ready = [f for f in job.outputs if (out / f).is_file()]
        if ready == job.outputs_ready:
            return
        for f in ready:
            if f not in job.outputs_ready:
                self.store.log(job_id, f"output ready: {f}")
        by_files = job_progress(files_fraction(ready, job.outputs))
        progress = job.progress if job.finished else max(job.progress, by_files)
        self.store.update(job_id, outputs_ready=ready, progress=progress)

    def _finish(self, job_id: str, state: JobState, error: str | None = None, code: str | None = None) -> None:
        with self._finishing:
            job = self.get(job_id)
            if job.finished:
                return
            if state == JobState.failed and code is None:
                code = protocol.INTERNAL
            changes: dict[str, object] = {
                "state": state,
                "finished_at": utcnow(),
                "pid": None,
                "error": error,
                "error_code": code,
            }
            if state == JobState.done:
                changes.update(stage="done", progress=1.0)
            job = self.store.update(job_id, **changes)
        self.store.log(job_id, f"{state.value}" + (f": {error}" if error else ""))
        if job.kind == "rig":
            self.times.add(job)
            level = logging.INFO if state == JobState.done else logging.WARNING
            log.log(level, "job %s %s%s", job_id, state.value, f": {error}" if error else "")

    # --- conversion (synchronous) -------------------------------------------------------
    def convert(self, request: ConvertRequest) -> ConvertResponse:
        """Download, convert to GLB in an engine process, answer when the file is ready."""
        self._check_accepting()
        self._check_input_url(request.input_url)
        if not self._convert_slots.acquire(blocking=False):
            raise Busy(
                f"all {self.settings.convert_capacity} conversion slot(s) are busy",
                retry_after_s=self.settings.retry_after_s,
            )
        try:
            name = name_from_url(request.input_url)
            job = JobRecord(
                id=secrets.token_hex(16),
                guid=secrets.token_urlsafe(24),
                kind="convert",
                input_url=request.input_url,
                name=name,
                outputs=[f"{name}.glb"],
                state=JobState.running,
                stage="downloading",
                started_at=utcnow(),
            )
            self.store.add(job)
            try:
                return self._convert(job)
            except ApiError as exc:
                self._finish(job.id, JobState.failed, error=exc.detail, code=exc.code)
                raise
            except Exception as exc:  # a bug here must fail the record, not leave it running
                log.exception("conversion %s", job.id)
                self._finish(job.id, JobState.failed, error=f"internal error in the worker: {exc}", code=protocol.INTERNAL)
                raise ApiError(f"internal error in the worker: {exc}") from exc
            finally:
                shutil.rmtree(self.store.input_dir(job.id), ignore_errors=True)
        finally:
            self._convert_slots.release()

    def _convert(self, job: JobRecord) -> ConvertResponse:
        input_path = self._download(job)
        self.store.update(job.id, stage="converting", progress=job_progress(0.0))
        output = self.store.out_dir(job.id) / job.outputs[0]
        engine = runner.EngineProcess(
            argv=runner.convert_command(self.settings.engine_command, input_path, output),
            log_dir=self.store.job_dir(job.id),
            memory_mb=self.settings.job_memory_mb,
            timeout_s=self.settings.convert_timeout_s,
            what="conversion",
        )
        self._engines[job.id] = engine
        try:
            self.store.update(job.id, pid=engine.start())
            while (rc := engine.poll()) is None:
                time.sleep(POLL_INTERVAL_S)
        finally:
            self._engines.pop(job.id, None)
            engine.kill()  # only does something when the wait above was cut short
        failure = engine.failure(rc)
        if failure is not None:
            if engine.timed_out:
                raise TimeLimit(failure.reason)
            if is_input_error(failure.code):  # the input's fault: 422 with the engine's code
                raise ConversionFailed(failure.reason, code=failure.code)
            raise ApiError(failure.reason, code=failure.code)  # crashed, internal: 500
        if not output.is_file():
            raise ApiError("the conversion finished without writing a .glb")
        self._scan_outputs(job.id)
        self._finish(job.id, JobState.done)
        return ConvertResponse(output_url=self._urls(job)[0][0])

    # --- clean-up -----------------------------------------------------------------------
    def remove_expired(self) -> list[str]:
        """Delete finished jobs older than keep_outputs_hours (records and files). Returns their ids."""
        cutoff = time.time() - self.settings.keep_outputs_hours * 3600
        removed = []
        for job in self.store.all():
            if job.finished and job.finished_at and job.finished_at.timestamp() < cutoff:
                self.store.delete(job.id)
                removed.append(job.id)
        # Folders without a readable record (a crash between mkdir and the first write).
        known = {j.id for j in self.store.all()}
        for folder in self.store.root.iterdir():
            if folder.is_dir() and folder.name not in known and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed
