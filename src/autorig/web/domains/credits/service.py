"""Credits: the balance on ``users``, every change a ``credit_ledger`` row, and paying for
downloads.

A balance only ever changes through one conditional statement in the caller's transaction,

    UPDATE users SET balance_credits = balance_credits + :delta
    WHERE id = :id AND balance_credits >= :needed RETURNING balance_credits

together with its ledger row (and, for a download, its ``purchases`` row). The purchase row is
inserted first, with ``ON CONFLICT DO NOTHING`` on (user, task, item): a parallel request for
the same item waits for the first transaction and then finds the row, so it charges nothing;
requests for different items queue on the user's row and each sees the balance the previous one
left. On SQLite the writing session's ``BEGIN IMMEDIATE`` serialises all of it anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.config import WebSettings
from autorig.web.db import utcnow
from autorig.web.db.dialect import insert_ignoring_conflicts
from autorig.web.domains.credits import repository
from autorig.web.errors import PaymentRequired
from autorig.web.models import CreditEntry, Purchase, User
from autorig.web.models.purchase import ALL_FILES

BUY_PATH = "/buy-credits"


class Reason(str, Enum):
    signup = "signup"
    download = "download"
    download_all = "download_all"
    gumroad_sale = "gumroad_sale"
    gumroad_refund = "gumroad_refund"
    admin = "admin"


@dataclass(frozen=True)
class Charge:
    """What paying for one item did: ``credits`` taken now (0 when it was already paid for)."""

    credits: int
    already_paid: bool
    balance: int | None = None


class CreditService:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings

    @property
    def buy_url(self) -> str:
        return f"{self.settings.base_url}{BUY_PATH}"

    # --- changing a balance ------------------------------------------------------------------

    async def _apply(
        self, session: AsyncSession, user_id: str, delta: int, reason: Reason, **ref: str | None
    ) -> CreditEntry | None:
        """Add ``delta`` (may be negative) unless the balance would go below zero; the ledger row,
        or ``None`` when refused (nothing changed)."""
        needed = max(0, -delta)
        stmt = (
            update(User)
            .where(User.id == user_id, User.balance_credits >= needed)
            .values(balance_credits=User.balance_credits + delta)
            .returning(User.balance_credits)
            .execution_options(synchronize_session="fetch")
        )
        after = (await session.execute(stmt)).scalar_one_or_none()
        if after is None:
            return None
        entry = CreditEntry(user_id=user_id, amount=delta, balance_after=after, reason=reason.value, created_at=utcnow(), **ref)
        session.add(entry)
        await session.flush()
        return entry

    async def add(self, session: AsyncSession, user_id: str, amount: int, reason: Reason, **ref: str | None) -> CreditEntry:
        if amount <= 0:
            raise ValueError(f"add() takes a positive amount, not {amount}")
        entry = await self._apply(session, user_id, amount, reason, **ref)
        if entry is None:
            raise LookupError(f"no user {user_id!r}")
        return entry

    async def take(
        self, session: AsyncSession, user_id: str, amount: int, reason: Reason, **ref: str | None
    ) -> CreditEntry | None:
        """Take ``amount`` if the balance has it; ``None`` (and nothing taken) otherwise."""
        if amount <= 0:
            raise ValueError(f"take() takes a positive amount, not {amount}")
        return await self._apply(session, user_id, -amount, reason, **ref)

    async def take_up_to(
        self, session: AsyncSession, user_id: str, amount: int, reason: Reason, **ref: str | None
    ) -> tuple[CreditEntry | None, int]:
        """Take ``amount``, or what there is when the balance is smaller (a refund of credits
        already spent): the ledger row (``None`` if nothing was taken) and the shortfall."""
        if amount <= 0:
            return None, 0
        # Lock the row (PostgreSQL; SQLite's writer already holds the database) so the balance
        # read here is still the balance when the UPDATE runs.
        have = await session.scalar(select(User.balance_credits).where(User.id == user_id).with_for_update())
        if have is None:
            raise LookupError(f"no user {user_id!r}")
        taking = min(have, amount)
        entry = await self._apply(session, user_id, -taking, reason, **ref) if taking > 0 else None
        return entry, amount - taking

    # --- downloads -----------------------------------------------------------------------------

    async def pay_for(
        self, session: AsyncSession, user_id: str, task_id: str, item: str, cost: int, *, covered: bool = False
    ) -> Charge:
        """Charge ``cost`` for ``item`` of a task (a file name, or ``ALL_FILES``) unless this person
        already paid for it or for the whole set. ``covered``: free anyway (the set when every file
        was bought one by one), recorded so later requests see it.

        Raises ``PaymentRequired`` when the balance is too small; the caller's transaction then
        rolls back, purchase row included.
        """
        owned = await repository.paid_items(session, user_id, task_id)
        if item in owned or ALL_FILES in owned:
            return Charge(0, True)
        price = 0 if covered else cost
        stmt = (
            insert_ignoring_conflicts(Purchase, session.get_bind().dialect.name)
            .values(user_id=user_id, task_id=task_id, item=item, credits=price, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["user_id", "task_id", "item"])
            .returning(Purchase.id)
        )
        if (await session.execute(stmt)).scalar_one_or_none() is None:
            return Charge(0, True)  # a parallel request bought it first (and committed)
        if price == 0:
            return Charge(0, False)
        reason = Reason.download_all if item == ALL_FILES else Reason.download
        entry = await self.take(session, user_id, price, reason, task_id=task_id, item=item)
        if entry is None:
            have = await repository.balance(session, user_id) or 0
            what = "the whole set" if item == ALL_FILES else repr(item)
            raise PaymentRequired(
                f"{what} costs {price} credit{'s' if price != 1 else ''}; your balance is {have}",
                buy_url=self.buy_url,
                balance=have,
                price=price,
            )
        return Charge(price, False, entry.balance_after)

    # --- reads ---------------------------------------------------------------------------------

    async def balance(self, session: AsyncSession, user_id: str) -> int:
        return await repository.balance(session, user_id) or 0

    async def paid_items(self, session: AsyncSession, user_id: str, task_id: str) -> set[str]:
        return await repository.paid_items(session, user_id, task_id)

    async def ledger(self, session: AsyncSession, user_id: str, limit: int = 100, offset: int = 0) -> list[CreditEntry]:
        return await repository.ledger(session, user_id, limit, offset)

    async def ledger_sum(self, session: AsyncSession, user_id: str) -> int:
        """The sum of every ledger row: equals the balance (the ledger explains it)."""
        return await repository.ledger_sum(session, user_id)
