"""``/api/task/...``: create, read, restart, download."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import Response

from autorig.web.db import Database
from autorig.web.db.database import rollback
from autorig.web.deps import (
    ContextDep,
    CreditServiceDep,
    QueueServiceDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    TaskServiceDep,
    UserServiceDep,
    ViewerDep,
    poll_viewer,
)
from autorig.web.domains.credits.schemas import PAID_DOWNLOAD_RESPONSES
from autorig.web.domains.notifications.service import task_page_url
from autorig.web.domains.queue.service import QueueService
from autorig.web.domains.tasks import files
from autorig.web.domains.tasks.schemas import (
    CreateFromUrl,
    QueueInfo,
    TaskCreated,
    TaskView,
    task_view,
)
from autorig.web.domains.tasks.service import TaskService
from autorig.web.domains.tasks.upload import MAX_PARTS, receive_multipart, receive_small_body
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
    read: ReadSessionDep,
    viewer: ViewerDep,
    users: UserServiceDep,
) -> TaskCreated:
    """A model as a multipart ``file`` (plus optional ``email``, ``skeleton``, ``mixamo_prefix``, ``fingers``),
    or an ``input_url`` (form field or JSON body). Free; anonymous browsers may create
    ``ANON_FREE_LIMIT`` tasks (401 with ``sign_in_url`` after that)."""
    # Refuse an anonymous browser over its limit before receiving a file (a read, no lock; then
    # the read ends, so no connection is held while the file arrives). The request's writing
    # session checks again under a lock, just before it adds the task.
    await users.admit_task(read, viewer, lock=False)
    await rollback(read)
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
    that carries a session cookie or an API key (``deps.poll_viewer``)."""
    task, queue_info = await ctx.task_views.get(task_id, lambda: _load_task(ctx.db, ctx.tasks, ctx.queue, task_id))
    viewer = await poll_viewer(ctx, request)
    may = ctx.tasks.may_restart(task, user_id=viewer.user_id, anon_id=viewer.anon_id, is_admin=viewer.is_admin)
    return task_view(
        task,
        ctx.tasks,
        ctx.settings.base_url,
        queue_info,
        internal=viewer.is_admin,
        workers=ctx.settings.workers,
        may_restart=may,
    )


async def _load_task(db: Database, tasks: TaskService, queue: QueueService, task_id: str) -> tuple[Task, QueueInfo | None]:
    """The cached view's row and queue place. Its own short read, not the request's: one load
    serves every poll of the task for ``VIEW_CACHE_S``, whichever request asked first."""
    async with db.read_session() as session:
        task = await tasks.get(session, task_id)
        queue_info = None
        if task.status == TaskStatus.created.value:
            est = await queue.task_estimate(session, task)
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
    return task_view(
        task, tasks, settings.base_url, QueueInfo(**est.model_dump()), internal=viewer.is_admin, workers=settings.workers
    )


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
    task_id: str,
    read: ReadSessionDep,
    session: SessionDep,
    tasks: TaskServiceDep,
    viewer: ViewerDep,
    credits: CreditServiceDep,
    settings: SettingsDep,
) -> Response:
    """Every downloadable file of a finished task as one ZIP, for ``PRICE_ALL_CREDITS`` once
    (free when each file was already bought). No database connection is held while the ZIP is
    made (once per job, then reused from storage) or sent: a short read, then a short charge
    that the request commits before the file goes out."""
    task = await tasks.get(read, task_id)
    covered = await files.precheck_all(read, tasks, task, credits, user_id=viewer.user_id, is_admin=viewer.is_admin)
    read.expunge(task)
    await rollback(read)
    key = await files.build_archive(tasks, task)  # before the charge: the write transaction stays short
    await files.charge(
        session,
        credits,
        task,
        ALL_FILES,
        settings.price_all_credits,
        covered=covered,
        user_id=viewer.user_id,
        is_admin=viewer.is_admin,
    )
    return await tasks.storage.download_response(key, f"{task.output_name}{files.ARCHIVE_SUFFIX}")
