"""``/api/admin/*``: every route here needs an admin (router-level dependency; a test walks the
app's routes to make sure none is forgotten).

    GET    /api/admin/users?q=              people and balances (search by email or id)
    GET    /api/admin/users/{id}            one person: ledger, API keys, payments
    GET    /api/admin/users/{id}/tasks      their tasks
    POST   /api/admin/users/{id}/credits    add or take credits (ledger row names the admin)
    GET    /api/admin/payments              recent Gumroad pings and what they did
    POST   /api/admin/task/{id}/restart     run a task again now
    DELETE /api/admin/task/{id}             the task row and its stored files
    GET    /api/admin/workers               workers with health, and the queue
    GET    /api/admin/service               this process (pid, start time)
    POST   /api/admin/service/restart       202, then restart (RESTART_COMMAND or re-execute)
"""

from __future__ import annotations

import os

from fastapi import APIRouter, BackgroundTasks, Depends

from autorig.web.db import utcnow
from autorig.web.deps import (
    AdminDep,
    AdminServiceDep,
    ApiKeyServiceDep,
    QueueServiceDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    TaskServiceDep,
    UserServiceDep,
    require_admin,
)
from autorig.web.domains.admin import repository
from autorig.web.domains.admin.schemas import (
    AdminUser,
    AdminWorker,
    AdminWorkers,
    BalanceChange,
    BalanceChanged,
    RestartAccepted,
    ServiceInfo,
    TaskDeleted,
    UserDetail,
    UserList,
    UserTasks,
)
from autorig.web.domains.apikeys.endpoints import info as key_info
from autorig.web.domains.credits import repository as credits_repo
from autorig.web.domains.credits.endpoints import entry_view
from autorig.web.domains.payments import repository as payments_repo
from autorig.web.domains.payments.schemas import GumroadEventView
from autorig.web.domains.tasks.schemas import QueueInfo, TaskView, task_view
from autorig.web.domains.users.endpoints import summary
from autorig.web.domains.users.service import UserService
from autorig.web.domains.workers import repository as workers_repo
from autorig.web.models import User

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)])

MAX_PAGE = 500


def admin_user(user: User, tasks: int, users: UserService) -> AdminUser:
    return AdminUser(
        id=user.id,
        email=user.email,
        name=user.name,
        balance_credits=user.balance_credits,
        gumroad_email=user.gumroad_email,
        is_admin=users.is_admin(user.email),
        tasks=tasks,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


@router.get("/users", response_model=UserList)
async def list_users(
    session: ReadSessionDep, users: UserServiceDep, q: str | None = None, limit: int = 100, offset: int = 0
) -> UserList:
    found, total = await repository.search_users(session, q, min(max(limit, 1), MAX_PAGE), max(offset, 0))
    counts = await repository.task_counts(session, [u.id for u in found])
    return UserList(total=total, users=[admin_user(u, counts.get(u.id, 0), users) for u in found])


@router.get("/users/{user_id}", response_model=UserDetail)
async def user_detail(
    user_id: str, session: ReadSessionDep, admin: AdminServiceDep, users: UserServiceDep, keys: ApiKeyServiceDep
) -> UserDetail:
    user = await admin.get_user(session, user_id)
    counts = await repository.task_counts(session, [user.id])
    return UserDetail(
        user=admin_user(user, counts.get(user.id, 0), users),
        ledger=[entry_view(e) for e in await credits_repo.ledger(session, user.id, 1000)],
        ledger_sum=await credits_repo.ledger_sum(session, user.id),
        api_keys=[key_info(k) for k in await keys.list(session, user.id, include_revoked=True)],
        payments=[GumroadEventView.model_validate(e, from_attributes=True) for e in await payments_repo.recent(session, 100, user.email)],
    )


@router.get("/users/{user_id}/tasks", response_model=UserTasks)
async def user_tasks(
    user_id: str, session: ReadSessionDep, admin: AdminServiceDep, users: UserServiceDep, settings: SettingsDep,
    limit: int = 100, offset: int = 0,
) -> UserTasks:
    user = await admin.get_user(session, user_id)
    tasks = await users.tasks_of(session, user.id, min(max(limit, 1), MAX_PAGE), max(offset, 0))
    return UserTasks(user_id=user.id, tasks=[summary(t, settings.base_url) for t in tasks])


@router.post("/users/{user_id}/credits", response_model=BalanceChanged)
async def change_balance(
    user_id: str, body: BalanceChange, viewer: AdminDep, session: SessionDep, admin: AdminServiceDep
) -> BalanceChanged:
    entry = await admin.adjust(session, user_id, body.amount, viewer.email or "", body.note)
    return BalanceChanged(user_id=user_id, balance_credits=entry.balance_after, entry=entry_view(entry))


@router.get("/payments", response_model=list[GumroadEventView])
async def payments(session: ReadSessionDep, email: str | None = None, limit: int = 100) -> list[GumroadEventView]:
    events = await payments_repo.recent(session, min(max(limit, 1), MAX_PAGE), email.strip().lower() if email else None)
    return [GumroadEventView.model_validate(e, from_attributes=True) for e in events]


@router.post("/task/{task_id}/restart", response_model=TaskView)
async def restart_task(
    task_id: str, session: SessionDep, tasks: TaskServiceDep, queue: QueueServiceDep, settings: SettingsDep
) -> TaskView:
    """Run the task again now, whatever its state (the user's restart waits for the offer)."""
    task = await tasks.restart(session, await tasks.get(session, task_id), force=True)
    est = await queue.task_estimate(session, task)
    return task_view(task, tasks, settings.base_url, QueueInfo(**est.model_dump()), internal=True, workers=settings.workers)


@router.delete("/task/{task_id}", response_model=TaskDeleted)
async def delete_task(task_id: str, session: SessionDep, tasks: TaskServiceDep, admin: AdminServiceDep) -> TaskDeleted:
    """Delete the task row (and its purchases) now, its stored files right after the commit."""
    task = await tasks.get(session, task_id)
    await admin.delete_task(session, task)
    return TaskDeleted(task_id=task_id, files_deleted=0)


@router.get("/workers", response_model=AdminWorkers)
async def workers(session: ReadSessionDep, queue: QueueServiceDep, settings: SettingsDep) -> AdminWorkers:
    now = utcnow()
    rows = await workers_repo.list_configured(session, settings.workers)
    out = []
    for w in rows:
        out.append(
            AdminWorker(
                url=w.url,
                online=bool(w.online),
                answering=queue.answering(w, now),
                accepting=bool(w.accepting),
                capacity=w.capacity or 0,
                free_slots=w.free_slots or 0,
                active_jobs=w.active_jobs or 0,
                avg_job_seconds=w.avg_job_seconds,
                version=w.version,
                last_seen_at=w.last_seen_at,
                last_checked_at=w.last_checked_at,
                last_error=w.last_error,
                tasks=await repository.tasks_on(session, w.url),
            )
        )
    return AdminWorkers(workers=out, queue=await queue.status(session))


@router.get("/service", response_model=ServiceInfo)
async def service_info(admin: AdminServiceDep, settings: SettingsDep) -> ServiceInfo:
    return ServiceInfo(pid=os.getpid(), started_at=admin.started_at, instance_id=settings.instance_id, restart=admin.restart_how)


@router.post("/service/restart", response_model=RestartAccepted, status_code=202)
async def restart_service(admin: AdminServiceDep, background: BackgroundTasks) -> RestartAccepted:
    """Answer 202, then restart; the background services pick up from the database."""
    background.add_task(admin.restart_service)
    return RestartAccepted(how=admin.restart_how, pid=os.getpid())
