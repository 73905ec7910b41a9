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

from autorig.web.deps import AdminDep, AdminServiceDep, ReadSessionDep, SessionDep, SettingsDep, require_admin
from autorig.web.domains.admin.schemas import (
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
from autorig.web.domains.credits.schemas import ledger_entry
from autorig.web.domains.payments.schemas import GumroadEventView
from autorig.web.domains.tasks.schemas import TaskView

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)])


@router.get("/users", response_model=UserList)
async def list_users(
    session: ReadSessionDep, admin: AdminServiceDep, q: str | None = None, limit: int = 100, offset: int = 0
) -> UserList:
    return await admin.list_users(session, q, limit, offset)


@router.get("/users/{user_id}", response_model=UserDetail)
async def user_detail(user_id: str, session: ReadSessionDep, admin: AdminServiceDep) -> UserDetail:
    return await admin.user_detail(session, user_id)


@router.get("/users/{user_id}/tasks", response_model=UserTasks)
async def user_tasks(
    user_id: str, session: ReadSessionDep, admin: AdminServiceDep, limit: int = 100, offset: int = 0
) -> UserTasks:
    return await admin.user_tasks(session, user_id, limit, offset)


@router.post("/users/{user_id}/credits", response_model=BalanceChanged)
async def change_balance(
    user_id: str, body: BalanceChange, viewer: AdminDep, session: SessionDep, admin: AdminServiceDep
) -> BalanceChanged:
    entry = await admin.adjust(session, user_id, body.amount, viewer.email or "", body.note)
    return BalanceChanged(user_id=user_id, balance_credits=entry.balance_after, entry=ledger_entry(entry))


@router.get("/payments", response_model=list[GumroadEventView])
async def payments(
    session: ReadSessionDep, admin: AdminServiceDep, email: str | None = None, limit: int = 100
) -> list[GumroadEventView]:
    return await admin.recent_payments(session, email, limit)


@router.post("/task/{task_id}/restart", response_model=TaskView)
async def restart_task(task_id: str, session: SessionDep, admin: AdminServiceDep) -> TaskView:
    """Run the task again now, whatever its state (the user's restart waits for the offer)."""
    return await admin.restart_task(session, task_id)


@router.delete("/task/{task_id}", response_model=TaskDeleted)
async def delete_task(task_id: str, session: SessionDep, admin: AdminServiceDep) -> TaskDeleted:
    """Delete the task row (and its purchases) now, its stored files right after the commit."""
    await admin.delete_task(session, task_id)
    return TaskDeleted(task_id=task_id, files_deleted=0)


@router.get("/workers", response_model=AdminWorkers)
async def workers(session: ReadSessionDep, admin: AdminServiceDep) -> AdminWorkers:
    return await admin.workers(session)


@router.get("/service", response_model=ServiceInfo)
async def service_info(admin: AdminServiceDep, settings: SettingsDep) -> ServiceInfo:
    return ServiceInfo(pid=os.getpid(), started_at=admin.started_at, instance_id=settings.instance_id, restart=admin.restart_how)


@router.post("/service/restart", response_model=RestartAccepted, status_code=202)
async def restart_service(admin: AdminServiceDep, background: BackgroundTasks) -> RestartAccepted:
    """Answer 202, then restart; the background services pick up from the database."""
    background.add_task(admin.restart_service)
    return RestartAccepted(how=admin.restart_how, pid=os.getpid())
