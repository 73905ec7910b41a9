"""What admins do: find people and change balances (a ledger row naming the admin), restart or
delete any task (its row and its stored files), look at workers and the queue, restart the
service. Everything goes through the other domains' services; the answers are the admin views
(``schemas``)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.config import WebSettings
from autorig.web.db import on_commit, utcnow
from autorig.web.domains.admin import repository
from autorig.web.domains.admin.schemas import AdminWorkers, UserDetail, UserList, UserTasks, admin_user, admin_worker
from autorig.web.domains.apikeys.schemas import key_info
from autorig.web.domains.apikeys.service import ApiKeyService
from autorig.web.domains.credits.schemas import ledger_entry
from autorig.web.domains.credits.service import CreditService, Reason
from autorig.web.domains.payments.schemas import GumroadEventView, event_view
from autorig.web.domains.payments.service import PaymentService
from autorig.web.domains.queue.service import QueueService
from autorig.web.domains.tasks.schemas import QueueInfo, TaskView, task_view
from autorig.web.domains.tasks.service import TaskService
from autorig.web.domains.users.schemas import task_summary
from autorig.web.domains.users.service import UserService
from autorig.web.errors import BadRequest, NotFound
from autorig.web.models import CreditEntry, Task, User
from autorig.web.storage import Storage
from autorig.web.storage.keys import task_prefix

log = logging.getLogger(__name__)

RESTART_DELAY_S = 0.5  # lets the 202 reach the admin before the process goes away
# Exit status that asks systemd for a fresh start (the units say RestartForceExitStatus=75).
RESTART_EXIT_STATUS = 75


def systemd_unit() -> str | None:
    """The unit this process runs as, named by ``AUTORIG_SYSTEMD_UNIT`` (deploy's unit files set
    it). Not guessed from ``INVOCATION_ID``: any unit sets that, and one without
    ``RestartForceExitStatus=75`` (or ``Restart=no``) would not start the process again."""
    return os.environ.get("AUTORIG_SYSTEMD_UNIT") or None


MAX_ADJUST = 1_000_000
MAX_PAGE = 500  # rows in one listing


def _page(limit: int, offset: int) -> tuple[int, int]:
    return min(max(limit, 1), MAX_PAGE), max(offset, 0)


class AdminService:
    def __init__(
        self,
        settings: WebSettings,
        storage: Storage,
        *,
        tasks: TaskService,
        queue: QueueService,
        users: UserService,
        credits: CreditService,
        apikeys: ApiKeyService,
        payments: PaymentService,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.tasks = tasks
        self.queue = queue
        self.users = users
        self.credits = credits
        self.apikeys = apikeys
        self.payments = payments
        self.started_at = utcnow()
        self.restart_requested = False

    # --- people --------------------------------------------------------------------------------

    async def list_users(self, session: AsyncSession, q: str | None, limit: int, offset: int) -> UserList:
        """People and balances, newest first; ``q`` finds an email, a Gumroad email or an id."""
        found, total = await repository.search_users(session, q, *_page(limit, offset))
        counts = await repository.task_counts(session, [u.id for u in found])
        return UserList(total=total, users=[admin_user(u, counts.get(u.id, 0), self.users.is_admin(u.email)) for u in found])

    async def user_detail(self, session: AsyncSession, user_id: str) -> UserDetail:
        """One person: the ledger (and its sum), API keys (revoked too), Gumroad pings."""
        user = await self.get_user(session, user_id)
        counts = await repository.task_counts(session, [user.id])
        return UserDetail(
            user=admin_user(user, counts.get(user.id, 0), self.users.is_admin(user.email)),
            ledger=[ledger_entry(e) for e in await self.credits.ledger(session, user.id, 1000)],
            ledger_sum=await self.credits.ledger_sum(session, user.id),
            api_keys=[key_info(k) for k in await self.apikeys.list(session, user.id, include_revoked=True)],
            payments=[event_view(e) for e in await self.payments.recent(session, 100, user.email)],
        )

    async def user_tasks(self, session: AsyncSession, user_id: str, limit: int, offset: int) -> UserTasks:
        user = await self.get_user(session, user_id)
        tasks = await self.users.tasks_of(session, user.id, *_page(limit, offset))
        return UserTasks(user_id=user.id, tasks=[task_summary(t, self.settings.base_url) for t in tasks])

    async def recent_payments(self, session: AsyncSession, email: str | None, limit: int) -> list[GumroadEventView]:
        return [event_view(e) for e in await self.payments.recent(session, _page(limit, 0)[0], email)]

    async def get_user(self, session: AsyncSession, user_id: str) -> User:
        user = await session.get(User, user_id) if user_id and len(user_id) <= 64 else None
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        return user

    async def adjust(self, session: AsyncSession, user_id: str, amount: int, admin_email: str, note: str | None) -> CreditEntry:
        """Add or take credits; the ledger row names the admin. Taking more than the balance is refused."""
        await self.get_user(session, user_id)
        if amount == 0 or abs(amount) > MAX_ADJUST:
            raise BadRequest(f"amount must be a non-zero number of credits up to {MAX_ADJUST}")
        if amount > 0:
            return await self.credits.add(session, user_id, amount, Reason.admin, actor=admin_email, note=note)
        entry = await self.credits.take(session, user_id, -amount, Reason.admin, actor=admin_email, note=note)
        if entry is None:
            have = await self.credits.balance(session, user_id)
            raise BadRequest(f"cannot take {-amount} credits: the balance is {have}")
        return entry

    # --- tasks ---------------------------------------------------------------------------------

    async def restart_task(self, session: AsyncSession, task_id: str) -> TaskView:
        """Run the task again now, whatever its state (the user's restart waits for the offer)."""
        task = await self.tasks.restart(session, await self.tasks.get(session, task_id), force=True)
        est = await self.queue.task_estimate(session, task)
        return task_view(
            task, self.tasks, self.settings.base_url, QueueInfo(**est.model_dump()), internal=True, workers=self.settings.workers
        )

    async def delete_task(self, session: AsyncSession, task_id: str) -> None:
        """Delete the row now and the stored files (upload, outputs, ZIP) once that is committed."""
        task = await self.tasks.get(session, task_id)
        prefix = task_prefix(task.id)
        await session.execute(delete(Task).where(Task.id == task.id))
        await session.flush()

        async def _files() -> None:
            n = await self.storage.delete_prefix(prefix)
            log.info("deleted task %s and %d stored files", task.id, n)

        on_commit(session, _files)

    # --- workers --------------------------------------------------------------------------------

    async def workers(self, session: AsyncSession) -> AdminWorkers:
        """Each configured worker with its health and the tasks processing on it, and the queue."""
        now = utcnow()
        out = [
            admin_worker(w, self.queue.answering(w, now), await repository.tasks_on(session, w.url))
            for w in await self.queue.configured_workers(session)
        ]
        return AdminWorkers(workers=out, queue=await self.queue.status(session))

    # --- the service ---------------------------------------------------------------------------

    @property
    def restart_how(self) -> str:
        if self.settings.restart_command:
            return " ".join(self.settings.restart_command)
        if unit := systemd_unit():
            return f"systemd: graceful stop, exit {RESTART_EXIT_STATUS}, {unit} starts again"
        return "re-execute"

    async def restart_service(self) -> None:
        """Run after the 202 went out. With ``RESTART_COMMAND``, run it (it restarts the service,
        e.g. ``systemctl restart autorig``); otherwise shut down gracefully (SIGTERM to this
        process: uvicorn finishes the requests in flight, the lifespan stops the services), then
        under systemd exit with ``RESTART_EXIT_STATUS`` so the unit starts afresh (its env file
        read again, no privileges needed), elsewhere re-execute the same command line
        (``reexec_if_requested``). Tasks resume from the database."""
        await asyncio.sleep(RESTART_DELAY_S)
        if self.settings.restart_command:
            log.warning("restarting the service with: %s", self.restart_how)
            await asyncio.to_thread(subprocess.Popen, self.settings.restart_command, start_new_session=True)
            return
        supervisor = os.environ.get("AUTORIG_WEB_SUPERVISOR_PID")  # WEB_PROCESSES > 1 (web/processes.py)
        if supervisor:
            log.warning("restarting the service: asking uvicorn's supervisor (pid %s) to replace every process", supervisor)
            os.kill(int(supervisor), signal.SIGHUP)
            return
        log.warning("restarting the service: shutting down, then re-executing %s", sys.orig_argv)
        self.restart_requested = True
        signal.raise_signal(signal.SIGTERM)

    def reexec_if_requested(self) -> None:
        """Called last in the app's shutdown: under systemd, exit for the unit to restart us;
        elsewhere replace this process with a fresh one (same pid, command line and environment)."""
        if not self.restart_requested:
            return
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        if systemd_unit():
            os._exit(RESTART_EXIT_STATUS)
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
