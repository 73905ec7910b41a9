"""What emails say, and putting them in the outbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from autorig.web.models import OutboxEmail, Task


def task_page_url(base_url: str, task_id: str) -> str:
    return f"{base_url}/task/{task_id}"


async def enqueue(session: AsyncSession, to: str, subject: str, body: str, task_id: str | None = None) -> OutboxEmail:
    email = OutboxEmail(to_addr=to, subject=subject, body=body, task_id=task_id)
    session.add(email)
    await session.flush()
    return email


async def task_done(session: AsyncSession, task: Task, to: str, base_url: str) -> OutboxEmail:
    url = task_page_url(base_url, task.id)
    body = f"Your character {task.source_name} is rigged.\n\nSee the preview and download the files here:\n{url}\n\n-- autorig\n"
    return await enqueue(session, to, f"Your rigged model is ready: {task.source_name}", body, task.id)
