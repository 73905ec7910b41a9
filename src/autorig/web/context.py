"""Everything one running backend holds: settings, database, storage, worker client, services."""

from __future__ import annotations

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
from autorig.web.domains.tasks.service import TaskService
from autorig.web.domains.users.service import UserService
from autorig.web.domains.workers.client import WorkerClient
from autorig.web.services.base import LoopService
from autorig.web.storage import Storage, make_storage


@dataclass
class AppContext:
    settings: WebSettings
    db: Database
    storage: Storage
    client: WorkerClient
    tasks: TaskService
    queue: QueueService
    sender: EmailSender
    # Accounts, credits, payments, admin (issue 6).
    credits: CreditService
    users: UserService
    apikeys: ApiKeyService
    payments: PaymentService
    admin: AdminService
    services: dict[str, LoopService] = field(default_factory=dict)
    # What pages poll, reused briefly (issue 11): task views and queue figures.
    task_views: ViewCache = field(init=False)
    queue_views: ViewCache = field(init=False)
    health_cache: tuple[float, dict[str, object]] | None = None  # (monotonic time, /api/health answer)

    def __post_init__(self) -> None:
        self.task_views = ViewCache(self.settings.view_cache_s, self.db.generation)
        self.queue_views = ViewCache(self.settings.view_cache_s, self.db.generation)

    @classmethod
    def build(cls, settings: WebSettings) -> AppContext:
        from autorig.web.services.dispatch import DispatchService
        from autorig.web.services.mailer import MailerService
        from autorig.web.services.progress import ProgressService

        storage = make_storage(settings)
        credits = CreditService(settings)
        ctx = cls(
            settings=settings,
            db=Database(settings.database_url_resolved),
            storage=storage,
            client=WorkerClient(settings.worker_token.get_secret_value(), settings.worker_http_timeout_s, settings.progress_concurrency + 16),
            tasks=TaskService(settings, storage),
            queue=QueueService(settings),
            sender=EmailSender(settings),
            credits=credits,
            users=UserService(settings, credits),
            apikeys=ApiKeyService(),
            payments=PaymentService(settings, credits),
            admin=AdminService(settings, credits, storage),
        )
        ctx.services = {
            "dispatch": DispatchService(ctx),
            "progress": ProgressService(ctx),
            "mailer": MailerService(ctx),
        }
        ctx.tasks.on_created.append(ctx.services["dispatch"].wake)
        ctx.users.on_email_queued.append(ctx.services["mailer"].wake)  # sign-in links go out at once
        ctx.users.on_account_created.append(ctx.payments.apply_pending)  # pings that waited for this email
        return ctx

    @property
    def dispatch(self) -> LoopService:
        return self.services["dispatch"]

    @property
    def progress(self) -> LoopService:
        return self.services["progress"]

    @property
    def mailer(self) -> LoopService:
        return self.services["mailer"]

    async def start(self, *, run_services: bool = True) -> None:
        await self.db.migrate()
        from autorig.web.domains.tasks import repository as tasks_repo

        if not run_services:  # another process of this instance runs them (WEB_PROCESSES > 1), or a test
            return
        async with self.db.session() as s:
            released = await tasks_repo.release_claims_of(s, self.settings.instance_id)
        if released:
            import logging

            logging.getLogger(__name__).info("resumed %d tasks this backend was handling before it stopped", released)
        if run_services:
            for svc in self.services.values():
                svc.start()

    async def stop(self) -> None:
        for svc in self.services.values():
            await svc.stop()
        await self.client.aclose()
        await self.payments.aclose()
        await self.db.dispose()
