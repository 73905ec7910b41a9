"""Serving a task's result files: the one place a download happens, and where it is paid for.

Previews (``protocol.is_download(name)`` is False: video, viewer model, report) are free to
anyone with the task's link. Each downloadable file costs ``PRICE_FILE_CREDITS`` and the whole
set as one ZIP ``PRICE_ALL_CREDITS``, paid once per person (``credits.CreditService.pay_for``:
the charge and the purchase row are one transaction); admins download without paying;
anonymous visitors must sign in first.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import weakref
import zipfile
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from autorig import protocol
from autorig.web.domains.credits.service import CreditService
from autorig.web.domains.tasks.service import TaskService
from autorig.web.errors import BadRequest, NotFound, PaymentRequired, SignInRequired
from autorig.web.models import Task, TaskStatus
from autorig.web.models.purchase import ALL_FILES
from autorig.web.storage import LocalStorage, keys
from autorig.web.storage.keys import output_key

ARCHIVE_SUFFIX = "_all.zip"


def file_url(base_url: str, task_id: str, name: str) -> str:
    return f"{base_url}/api/task/{task_id}/files/{name}"


def download_all_url(base_url: str, task_id: str) -> str:
    return f"{base_url}/api/task/{task_id}/download-all"


def archive_key(task: Task) -> str:
    """Where the ZIP of the current job's files is kept (a restarted task gets a new job id)."""
    return keys.archive_key(task.id, task.guid or "job", task.output_name, ARCHIVE_SUFFIX)


def downloads_of(tasks: TaskService, task: Task) -> list[str]:
    return [n for n in tasks.ready_files(task) if protocol.is_download(n)]


async def charge(
    session: AsyncSession,
    credits: CreditService,
    task: Task,
    item: str,
    cost: int,
    *,
    user_id: str | None,
    is_admin: bool,
    covered: bool = False,
) -> None:
    """Make the person pay for ``item`` (a file name or ``ALL_FILES``) unless already paid; raises
    ``SignInRequired`` (anonymous) or ``PaymentRequired`` (too few credits)."""
    if user_id is None:
        raise SignInRequired(
            f"sign in to download the files (previews are free; a new account gets {credits.settings.user_free_limit} credits)",
            sign_in_url=f"{credits.settings.base_url}/login",
        )
    if is_admin:
        return  # admins download without paying (the task's owner pays like anyone else)
    await credits.pay_for(session, user_id, task.id, item, cost, covered=covered)


async def serve_file(
    session: AsyncSession,
    tasks: TaskService,
    task: Task,
    name: str,
    *,
    credits: CreditService,
    user_id: str | None,
    is_admin: bool,
) -> Response:
    if name not in tasks.ready_files(task):
        raise NotFound(f"{name!r} is not a ready file of task {task.id}")
    if protocol.is_download(name):
        await charge(session, credits, task, name, credits.settings.price_file_credits, user_id=user_id, is_admin=is_admin)
    return await tasks.storage.download_response(output_key(task.id, name), name)


async def precheck_all(
    session: AsyncSession, tasks: TaskService, task: Task, credits: CreditService, *, user_id: str | None, is_admin: bool
) -> bool:
    """Before building the ZIP: refuse early what ``charge`` would refuse. True when the set is
    covered by files bought one by one (then it is free)."""
    names = downloads_of(tasks, task)
    if task.status != TaskStatus.done.value or not names:
        raise BadRequest(f"the files of task {task.id} are not all ready yet (status {task.status})", status_code=409)
    if user_id is None:
        await charge(session, credits, task, ALL_FILES, 0, user_id=None, is_admin=False)
    if is_admin or user_id is None:
        return False
    # The balance first, then the purchases: a parallel request that buys the set between the
    # two reads lowers the balance but is then seen as paid (read committed on PostgreSQL).
    have = await credits.balance(session, user_id)
    paid = await credits.paid_items(session, user_id, task.id)
    covered = set(names) <= paid
    price = credits.settings.price_all_credits
    if ALL_FILES not in paid and not covered and have < price:
        raise PaymentRequired(
            f"the whole set costs {price} credits; your balance is {have}", buy_url=credits.buy_url, balance=have, price=price
        )
    return covered


# One ZIP build per key at a time in this process; an entry lives while someone holds its lock.
_building: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


async def build_archive(tasks: TaskService, task: Task) -> str:
    """The storage key of a ZIP with every downloadable file of the task, made once per job:
    parallel requests wait for the one build (storage writes are atomic, so a second process
    building the same ZIP only repeats work)."""
    key = archive_key(task)
    if await tasks.storage.exists(key):
        return key
    lock = _building.get(key)
    if lock is None:
        lock = _building[key] = asyncio.Lock()
    async with lock:
        if not await tasks.storage.exists(key):
            await _build_archive(tasks, task, key)
    return key


async def _build_archive(tasks: TaskService, task: Task, key: str) -> None:
    storage = tasks.storage
    names = downloads_of(tasks, task)
    scratch = storage.scratch_dir()
    scratch.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="zip-", dir=scratch))
    try:
        sources: list[tuple[str, Path]] = []
        for n in names:
            if isinstance(storage, LocalStorage):
                sources.append((n, storage.path(output_key(task.id, n))))
            else:
                await storage.fetch(output_key(task.id, n), work / n)
                sources.append((n, work / n))
        zip_path = work / "all.zip"

        def _write() -> None:
            with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for n, path in sources:
                    zf.write(path, arcname=n)

        await asyncio.to_thread(_write)
        await storage.put_file(key, zip_path, "application/zip")
    finally:
        shutil.rmtree(work, ignore_errors=True)
