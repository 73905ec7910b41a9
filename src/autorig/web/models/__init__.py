"""ORM models, one table per file. Importing this package registers every table on ``Base``.

New domains add ``models/<table>.py`` and a line here, plus an Alembic revision.
"""

from autorig.web.models.api_key import ApiKey
from autorig.web.models.backend_instance import BackendInstance
from autorig.web.models.credit_entry import CreditEntry
from autorig.web.models.email import OutboxEmail
from autorig.web.models.gumroad_event import GumroadEvent
from autorig.web.models.login_link import LoginLink
from autorig.web.models.purchase import Purchase
from autorig.web.models.session import UserSession
from autorig.web.models.task import FbxStatus, Task, TaskStatus
from autorig.web.models.user import User
from autorig.web.models.worker import WorkerNode

__all__ = [
    "ApiKey",
    "BackendInstance",
    "CreditEntry",
    "FbxStatus",
    "GumroadEvent",
    "LoginLink",
    "OutboxEmail",
    "Purchase",
    "Task",
    "TaskStatus",
    "User",
    "UserSession",
    "WorkerNode",
]
