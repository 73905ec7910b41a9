"""``/api/credits``: the balance and the ledger that explains it, and what a person has paid for
in a task. Paying happens where files are served (``domains/tasks/files.py``)."""

from __future__ import annotations

from fastapi import APIRouter

from autorig.web.deps import CreditServiceDep, CurrentUserDep, ReadSessionDep, SettingsDep, TaskServiceDep, ViewerDep
from autorig.web.domains.credits.schemas import CreditsView, Prices, TaskPurchases, ledger_entry
from autorig.web.models.purchase import ALL_FILES

router = APIRouter(prefix="/api/credits", tags=["credits"])


@router.get("", response_model=CreditsView)
async def my_credits(
    viewer: CurrentUserDep,
    session: ReadSessionDep,
    credits: CreditServiceDep,
    settings: SettingsDep,
    limit: int = 100,
    offset: int = 0,
) -> CreditsView:
    """The balance and its ledger, newest first."""
    uid = viewer.user_id or ""
    rows = await credits.ledger(session, uid, min(max(limit, 1), 1000), max(offset, 0))
    return CreditsView(
        balance_credits=await credits.balance(session, uid),
        prices=Prices(file=settings.price_file_credits, all=settings.price_all_credits),
        buy_url=credits.buy_url,
        ledger=[ledger_entry(e) for e in rows],
    )


@router.get("/task/{task_id}", response_model=TaskPurchases)
async def task_purchases(
    task_id: str,
    viewer: ViewerDep,
    session: ReadSessionDep,
    tasks: TaskServiceDep,
    credits: CreditServiceDep,
    settings: SettingsDep,
) -> TaskPurchases:
    """What the person asking has paid for in this task (nothing when anonymous)."""
    task = await tasks.get(session, task_id)
    paid: set[str] = set()
    balance = None
    if viewer.signed_in:
        paid = await credits.paid_items(session, viewer.user_id or "", task.id)
        balance = await credits.balance(session, viewer.user_id or "")
    return TaskPurchases(
        task_id=task.id,
        balance_credits=balance,
        is_admin=viewer.is_admin,
        paid=sorted(p for p in paid if p != ALL_FILES),
        all_paid=ALL_FILES in paid,
        prices=Prices(file=settings.price_file_credits, all=settings.price_all_credits),
        buy_url=credits.buy_url,
    )
