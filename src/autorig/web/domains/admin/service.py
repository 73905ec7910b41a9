"""What admins do: find people and change balances (a ledger row naming the admin), restart or
delete any task (its row and its stored files), look at workers and the queue, restart the
service."""

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
from autorig.web.domains.credits.service import CreditService, Reason
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


class AdminService:
    def __init__(self, settings: WebSettings, credits: CreditService, storage: Storage) -> None:
        self.settings = settings
        self.credits = credits
        self.storage = storage
        self.started_at = utcnow()
        self.restart_requested = False

    # --- people --------------------------------------------------------------------------------

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

    async def delete_task(self, session: AsyncSession, task: Task) -> None:
        """Delete the row now and the stored files (upload, outputs, ZIP) once that is committed."""
        prefix = task_prefix(task.id)
        await session.execute(delete(Task).where(Task.id == task.id))
        await session.flush()

        async def _files() -> None:
            n = await self.storage.delete_prefix(prefix)
            log.info("deleted task %s and %d stored files", task.id, n)

        on_commit(session, _files)

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
