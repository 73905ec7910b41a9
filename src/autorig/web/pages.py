"""The web pages: static HTML, CSS and JavaScript under ``static/``, talking only to the API.

Each page is one HTML file served at a clean path (``PAGES``); its script and styles come from
``/static/``. In production nginx may serve the same folder (``autorig.web.pages.STATIC``) at the
same paths; the backend serving them is the embedded default. ``GET /api/site`` gives a page
what it needs before it draws anything (limits, prices, who is looking) and always answers 200,
so an anonymous visitor's page makes no failing request.

    GET /, /task, /task/{id}, /tasks, /login, /account, /buy-credits, /payment/success, /admin
    GET /static/...        files of the pages (three.js under static/vendor, copied at set-up)
    GET /api/site          SiteInfo
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.responses import FileResponse, Response

from autorig.web.deps import CreditServiceDep, ReadSessionDep, SettingsDep, UserServiceDep, ViewerDep
from autorig.web.domains.tasks.formats import FORMATS

STATIC = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/static"

# Clean path -> HTML file in STATIC.
PAGES: dict[str, str] = {
    "/": "index.html",
    "/task": "task.html",  # /task?id=...
    "/task/{task_id}": "task.html",
    "/tasks": "tasks.html",
    "/login": "login.html",
    "/account": "buy-credits.html",  # where the emailed sign-in link lands by default
    "/buy-credits": "buy-credits.html",
    "/payment/success": "payment-success.html",
    "/admin": "admin.html",
}
# Pages change with each release and are small: the browser asks again each time (ETag makes
# that a 304); the scripts and styles they load are revalidated the same way.
PAGE_HEADERS = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)  # the page files
api = APIRouter(prefix="/api", tags=["site"])  # what the pages ask first


class SiteViewer(BaseModel):
    signed_in: bool
    email: str | None
    is_admin: bool
    balance_credits: int | None = Field(description="None when anonymous")


class SiteInfo(BaseModel):
    max_upload_mb: int
    formats: list[str] = Field(description="accepted input formats (file extensions)")
    anon_free_limit: int = Field(description="tasks an anonymous browser may create")
    anon_tasks_left: int | None = Field(description="of those, left for this browser (None when signed in)")
    user_free_limit: int = Field(description="credits a new account starts with")
    price_file_credits: int
    price_all_credits: int
    google_sign_in: bool
    viewer: SiteViewer


def _page(filename: str) -> Callable[[], Awaitable[FileResponse]]:
    path = STATIC / filename

    async def page() -> FileResponse:
        return FileResponse(path, media_type="text/html", headers=PAGE_HEADERS)

    page.__name__ = f"page_{path.stem.replace('-', '_')}"
    return page


for _path, _file in PAGES.items():
    router.add_api_route(_path, _page(_file), methods=["GET"])


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(STATIC / "img" / "favicon.svg", media_type="image/svg+xml")


@api.get("/site", response_model=SiteInfo)
async def site(
    viewer: ViewerDep, session: ReadSessionDep, settings: SettingsDep, credits: CreditServiceDep, users: UserServiceDep
) -> SiteInfo:
    """What every page needs first: limits, prices, sign-in methods, and who is looking."""
    balance = await credits.balance(session, viewer.user_id) if viewer.user_id else None
    left = await users.anonymous_tasks_left(session, viewer)
    return SiteInfo(
        max_upload_mb=settings.max_upload_mb,
        formats=list(FORMATS),
        anon_free_limit=settings.anon_free_limit,
        anon_tasks_left=left,
        user_free_limit=settings.user_free_limit,
        price_file_credits=settings.price_file_credits,
        price_all_credits=settings.price_all_credits,
        google_sign_in=users.google.enabled,
        viewer=SiteViewer(signed_in=viewer.signed_in, email=viewer.email, is_admin=viewer.is_admin, balance_credits=balance),
    )


class _StaticFiles(StaticFiles):
    """The pages' scripts and styles, revalidated on each load like the pages themselves, so a
    release never mixes a new page with an old script (a 304 when nothing changed)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("Cache-Control", PAGE_HEADERS["Cache-Control"])
        return response


def install_pages(app: FastAPI) -> None:
    """The page routes and the static folder (``check_dir=False``: the app starts even from a
    checkout where ``scripts/build_static.sh`` has not run yet; the viewer then says so)."""
    app.include_router(api)
    app.include_router(router)
    app.mount(STATIC_PREFIX, _StaticFiles(directory=STATIC, check_dir=False), name="static")
