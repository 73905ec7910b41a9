"""The composition root: ``AppContext.build`` makes everything one running backend holds
(settings, database, storage, worker client, the domain services, the three loops) and wires
them together, each with only what it uses. Nothing in ``web/`` imports this module but the
app (``app.py``) and the request dependencies (``deps.py``), which hand its parts to endpoints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from autorig.config import WebSettings
from autorig.web.cache import ViewCache
from autorig.web.db import Database
from autorig.web.domains.admin.service import AdminService
from autorig.web.domains.apikeys.service import ApiKeyService
from autorig.web.domains.credits.service import CreditService
from autorig.web.domains.notifications.sender import EmailSender
from autorig.web.domains.payments.service import PaymentService
from autorig.web.domains.queue.service import QueueService
from autorig.web.domains.tasks import repository as tasks_repo
from autorig.web.domains.tasks.schemas import QueueInfo
from autorig.web.domains.tasks.service import TaskService
from autorig.web.domains.users.service import UserService
from autorig.web.domains.workers.client import WorkerClient
from autorig.web.models import Task
from autorig.web.services.base import LoopService
from autorig.web.services.dispatch import DispatchService
from autorig.web.services.mailer import MailerService
from autorig.web.services.progress import ProgressService
from autorig.web.storage import Storage, make_storage

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: WebSettings
    db: Database
    storage: Storage
    client: WorkerClient
    tasks: TaskService
    queue: QueueService
    credits: CreditService
    users: UserService
    apikeys: ApiKeyService
    payments: PaymentService
    admin: AdminService
    dispatch: DispatchService
    progress: ProgressService
    mailer: MailerService
    # What pages poll, reused briefly (issue 11): task views and queue figures.
    task_views: ViewCache[tuple[Task, QueueInfo | None]] = field(init=False)
    queue_views: ViewCache[bytes] = field(init=False)
    health_cache: tuple[float, dict[str, object]] | None = None  # (monotonic time, /api/health answer)

    def __post_init__(self) -> None:
        self.task_views = ViewCache(self.settings.view_cache_s, self.db.generation)
        self.queue_views = ViewCache(self.settings.view_cache_s, self.db.generation)

    @classmethod
    def build(cls, settings: WebSettings) -> AppContext:
        db = Database(settings.database_url_resolved)
        storage = make_storage(settings)
        client = WorkerClient(
            settings.worker_token.get_secret_value(), settings.worker_http_timeout_s, settings.progress_concurrency + 16
        )
        tasks = TaskService(settings, storage)
        queue = QueueService(settings)
        apikeys = ApiKeyService()
        credits = CreditService(settings)
        users = UserService(settings, credits)
        payments = PaymentService(settings, credits)
        dispatch = DispatchService(db, client, tasks, settings)
        mailer = MailerService(db, EmailSender(settings), settings)
        progress = ProgressService(db, client, tasks, settings, on_completed=mailer.wake, on_freed=dispatch.wake)
        tasks.on_created.append(dispatch.wake)
        users.on_email_queued.append(mailer.wake)  # sign-in links go out at once
        users.on_account_created.append(payments.apply_pending)  # pings that waited for this email
        return cls(
            settings=settings,
            db=db,
            storage=storage,
            client=client,
            tasks=tasks,
            queue=queue,
            credits=credits,
            users=users,
            apikeys=apikeys,
            payments=payments,
            admin=AdminService(
                settings, storage, tasks=tasks, queue=queue, users=users, credits=credits, apikeys=apikeys, payments=payments
            ),
            dispatch=dispatch,
            progress=progress,
            mailer=mailer,
        )

    @property
    def services(self) -> dict[str, LoopService]:
        """The background loops by name."""
        return {"dispatch": self.dispatch, "progress": self.progress, "mailer": self.mailer}

    async def start(self, *, run_services: bool = True) -> None:
        await self.db.migrate()
        if not run_services:  # another process of this instance runs them (WEB_PROCESSES > 1), or a test
            return
        async with self.db.session() as s:
            released = await tasks_repo.release_claims_of(s, self.settings.instance_id)
        if released:
            log.info("resumed %d tasks this backend was handling before it stopped", released)
        for svc in self.services.values():
            svc.start()

    async def stop(self) -> None:
        for svc in self.services.values():
            await svc.stop()
        await self.client.aclose()
        await self.payments.aclose()
        await self.db.dispose()
