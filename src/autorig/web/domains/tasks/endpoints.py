"""``/api/task/...``: create, read, restart, download."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import Response

from autorig import protocol
from autorig.web.context import AppContext
from autorig.web.deps import ContextDep, QueueServiceDep, SessionDep, SettingsDep, TaskServiceDep
from autorig.web.domains.credits.schemas import PAID_DOWNLOAD_RESPONSES
from autorig.web.domains.notifications.service import task_page_url
from autorig.web.domains.tasks import files
from autorig.web.domains.tasks.schemas import (
    CreateFromUrl,
    FbxStep,
    QueueInfo,
    RestartOffer,
    TaskCreated,
    TaskFile,
    TaskInternals,
    TaskView,
    warning_views,
)
from autorig.web.domains.tasks.service import TaskService, file_name, output_key, public_text
from autorig.web.domains.tasks.upload import MAX_PARTS, receive_multipart, receive_small_body
from autorig.web.domains.users.deps import CreditServiceDep, UserServiceDep, ViewerDep
from autorig.web.errors import BadRequest
from autorig.web.models import Task, TaskStatus
from autorig.web.models.purchase import ALL_FILES

router = APIRouter(prefix="/api/task", tags=["tasks"])


@router.post("/create", response_model=TaskCreated, status_code=201)
async def create_task(
    request: Request,
    response: Response,
    session: SessionDep,
    tasks: TaskServiceDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    users: UserServiceDep,
    ctx: ContextDep,
) -> TaskCreated:
    """A model as a multipart ``file`` (plus optional ``email``, ``skeleton``, ``mixamo_prefix``, ``fingers``),
    or an ``input_url`` (form field or JSON body). Free; anonymous browsers may create
    ``ANON_FREE_LIMIT`` tasks (401 with ``sign_in_url`` after that)."""
    # Refuse an anonymous browser over its limit before receiving a file (a read, no lock); the
    # creating transaction checks again under a lock, just before it adds the task.
    async with ctx.db.read_session() as s:
        await users.admit_task(s, viewer, lock=False)
    anon_id = None if viewer.signed_in else users.anon_id_for(viewer, response)
    who = dict(owner_id=viewer.user_id, anon_id=anon_id)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await receive_multipart(
            ctype,
            request.headers.get("content-length"),
            request.stream(),
            tasks.storage.scratch_dir(),
            settings.max_upload_bytes,
        )
        try:
            await users.admit_task(session, viewer, lock=True)
            if form.file_path is not None:
                task = await tasks.create_from_upload(session, form, **who)
            elif form.fields.get("input_url"):
                task = await tasks.create_from_url(session, form.fields["input_url"], form.fields, **who)
            else:
                raise BadRequest("send a 'file' or an 'input_url'")
        finally:
            form.discard()
    elif ctype.startswith("application/json"):
        raw = await receive_small_body(request.headers.get("content-length"), request.stream())
        try:
            body = CreateFromUrl.model_validate_json(raw)
        except ValueError as exc:
            raise BadRequest(f"bad JSON body: {exc}") from None
        fields = {k: str(v) for k, v in body.model_dump(exclude_none=True).items()}
        await users.admit_task(session, viewer, lock=True)
        task = await tasks.create_from_url(session, body.input_url, fields, **who)
    elif ctype.startswith("application/x-www-form-urlencoded"):
        raw = await receive_small_body(request.headers.get("content-length"), request.stream())
        try:
            fields = dict(parse_qsl(raw.decode("utf-8", "replace"), max_num_fields=MAX_PARTS))
        except ValueError:
            raise BadRequest(f"the form has more than {MAX_PARTS} fields") from None
        if not fields.get("input_url"):
            raise BadRequest("send a 'file' or an 'input_url'")
        await users.admit_task(session, viewer, lock=True)
        task = await tasks.create_from_url(session, fields["input_url"], fields, **who)
    else:
        raise BadRequest("send multipart/form-data with a 'file', or an 'input_url'")
    users.stamp_task(task, viewer, anon_id)
    await session.flush()
    return TaskCreated(task_id=task.id, task_url=task_page_url(settings.base_url, task.id), status=task.status)


@router.get("/{task_id}", response_model=TaskView)
async def get_task(task_id: str, request: Request, ctx: ContextDep) -> TaskView:
    """The task as anyone with its link sees it: file names, sizes and this backend's URLs (never
    a worker's); admins also get ``internal`` (the worker, its job and file URLs). Pages poll
    this: the task row and its queue place are reused briefly (``VIEW_CACHE_S``, and only until
    the next commit in this process), so no database connection is held per poll (one dependency
    only: each costs CPU on every poll); who is asking costs a database read only for a request
    that carries a session cookie or an API key."""
    task, queue_info = await ctx.task_views.get(task_id, lambda: _load_task(ctx, task_id))
    viewer = await ctx.users.identify(ctx.db, request)
    may = ctx.tasks.may_restart(task, user_id=viewer.user_id, anon_id=viewer.anon_id, is_admin=viewer.is_admin)
    return view(
        task, ctx.tasks, ctx.settings.base_url, queue_info, internal=viewer.is_admin, workers=ctx.settings.workers, may_restart=may
    )


async def _load_task(ctx: AppContext, task_id: str) -> tuple[Task, QueueInfo | None]:
    async with ctx.db.read_session() as session:
        task = await ctx.tasks.get(session, task_id)
        queue_info = None
        if task.status == TaskStatus.created.value:
            est = await ctx.queue.task_estimate(session, task)
            queue_info = QueueInfo(**est.model_dump())
        session.expunge(task)  # keeps its loaded columns after the session ends
    return task, queue_info


@router.post("/{task_id}/restart", response_model=TaskView)
async def restart_task(
    task_id: str, session: SessionDep, tasks: TaskServiceDep, queue: QueueServiceDep, settings: SettingsDep, viewer: ViewerDep
) -> TaskView:
    """Run the task again under the same id: its owner (account or anonymous browser) and
    admins only (403 for others; 409 before the restart is offered)."""
    task = await tasks.get(session, task_id)
    tasks.check_may_restart(task, user_id=viewer.user_id, anon_id=viewer.anon_id, is_admin=viewer.is_admin)
    task = await tasks.restart(session, task)
    est = await queue.task_estimate(session, task)
    return view(task, tasks, settings.base_url, QueueInfo(**est.model_dump()), internal=viewer.is_admin, workers=settings.workers)


@router.get("/{task_id}/files/{name}", responses=PAID_DOWNLOAD_RESPONSES)
async def get_file(
    task_id: str, name: str, session: SessionDep, tasks: TaskServiceDep, viewer: ViewerDep, credits: CreditServiceDep
) -> Response:
    """One result file. Previews are free; a downloadable file costs credits once per person
    (401 when anonymous, 402 with ``buy_url`` when the balance is too small)."""
    task = await tasks.get(session, task_id)
    return await files.serve_file(session, tasks, task, name, credits=credits, user_id=viewer.user_id, is_admin=viewer.is_admin)


@router.get("/{task_id}/download-all", responses=PAID_DOWNLOAD_RESPONSES)
async def download_all(
    task_id: str, tasks: TaskServiceDep, viewer: ViewerDep, credits: CreditServiceDep, ctx: ContextDep
) -> Response:
    """Every downloadable file of a finished task as one ZIP, for ``PRICE_ALL_CREDITS`` once
    (free when each file was already bought). No database connection is held while the ZIP is
    made (once per job, then reused from storage) or sent: a short read, then a short charge."""
    who = dict(user_id=viewer.user_id, is_admin=viewer.is_admin)
    async with ctx.db.read_session() as read:
        task = await tasks.get(read, task_id)
        covered = await files.precheck_all(read, tasks, task, credits, **who)
        read.expunge(task)
    key = await files.build_archive(tasks, task)  # before the charge: the write transaction stays short
    async with ctx.db.session() as session:
        await files.charge(session, credits, task, ALL_FILES, ctx.settings.price_all_credits, covered=covered, **who)
    return await tasks.storage.download_response(key, f"{task.output_name}{files.ARCHIVE_SUFFIX}")


def view(
    task: Task,
    tasks: TaskService,
    base_url: str,
    queue_info: QueueInfo | None,
    *,
    internal: bool = False,
    workers: list[str] | None = None,
    may_restart: bool = True,
) -> TaskView:
    """The task's public view; ``internal`` adds where it runs (admins); ``may_restart``: the
    viewer is its owner or an admin (others are never offered the restart)."""
    ready = tasks.ready_files(task)
    preview = "preview.mp4"
    hidden = [*(workers or []), task.worker or "", task.fbx_worker or "", *task.failed_workers]
    glb_url = task.fbx_glb_url
    if glb_url and any(w and glb_url.startswith(w) for w in hidden):
        glb_url = None  # a task converted before the .glb was kept in storage: the worker's URL
    failed = task.status == TaskStatus.error.value
    return TaskView(
        task_id=task.id,
        task_url=task_page_url(base_url, task.id),
        status=task.status,
        source_name=task.source_name,
        source_format=task.source_format,
        input_url=task.input_url,
        progress=round(task.progress, 4),
        stage=task.stage,
        queue=queue_info,
        fbx=None
        if task.fbx_status is None
        else FbxStep(
            status=task.fbx_status,
            glb_url=glb_url,
            error=public_text(task.fbx_error, hidden),
            started_at=task.fbx_started_at,
            finished_at=task.fbx_finished_at,
        ),
        expected_files=[file_name(u) for u in task.output_urls],
        ready_count=task.ready_count,
        total_count=len(task.output_urls),
        files=[
            TaskFile(
                name=n,
                url=files.file_url(base_url, task.id, n),
                kind="download" if protocol.is_download(n) else "preview",
                size=tasks.storage.known_size(output_key(task.id, n)),
            )
            for n in ready
        ],
        missing_files=task.missing_files,
        preview_video_url=files.file_url(base_url, task.id, preview) if preview in ready else None,
        download_all_url=files.download_all_url(base_url, task.id)
        if task.status == TaskStatus.done.value and any(protocol.is_download(n) for n in ready)
        else None,
        error=public_text(task.error, hidden) if failed else None,
        error_code=task.error_code if failed else None,
        warnings=warning_views(task.warnings) if task.status == TaskStatus.done.value else [],
        attempts=task.attempts,
        restarts=task.restarts,
        restart=RestartOffer(
            allowed=may_restart and tasks.restart_allowed(task),
            available_at=tasks.restart_available_at(task) if may_restart else None,
        ),
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        updated_at=task.updated_at,
        internal=TaskInternals(
            worker=task.worker,
            worker_task_id=task.worker_task_id,
            guid=task.guid,
            progress_page=task.progress_page,
            output_urls=list(task.output_urls),
            ready_urls=list(task.ready_urls),
            fbx_worker=task.fbx_worker,
            failed_workers=list(task.failed_workers),
            last_error=task.last_error,
            claimed_by=task.claimed_by,
        )
        if internal
        else None,
    )
