"""Browser fixtures for the page tests (helpers in ``pagekit``): Chromium, pages that fail the
test on any JavaScript error, and the sites to browse."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pagekit import (
    ADMIN_EMAIL,
    CHROMIUM,
    CHROMIUM_ARGS,
    GUMROAD_PRODUCTS,
    REPO,
    Browse,
    Console,
    Inbox,
    Site,
    free_port,
    stick_figure_glb,
)
from servekit import running_serve

sys.path.insert(0, str(REPO / "tests" / "web"))  # webkit: FakeWorker, BackendProcess


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (`./dev test` apt-installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def browse(browser: Any) -> Iterator[Browse]:
    """Pages for one test; after it, any JavaScript error on any of them fails the test."""
    console = Console()
    b = Browse(browser, console)
    try:
        yield b
    finally:
        b.close()
    assert not console.unexpected(), "JavaScript errors on the pages:\n" + "\n".join(console.unexpected())


# --- a site with a fake worker ------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The backend with a fake worker (jobs of a few seconds; the first job fails) and SMTP.
    Prepared: a failed task (``failed``) and a finished one (``done``, its viewer.glb a real
    rigged stick figure)."""
    from aiosmtpd.controller import Controller
    from webkit import BackendProcess, FakeWorker

    tmp = tmp_path_factory.mktemp("pages")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    # rig.json of every job calls the facing weak: the done task shows what to check.
    worker = FakeWorker(job_seconds=3.0, capacity=2, fail_jobs=1, weak_cue="facing direction").start()
    port = free_port()
    env = {
        "AUTORIG_DATA_DIR": str(tmp / "var"),
        "HOST": "127.0.0.1",
        "PORT": str(port),  # the base of the upload URLs the worker fetches
        "DATABASE_URL": "",
        "WORKERS": worker.url,
        "WORKER_TOKEN": "pages-test",
        "DISPATCH_INTERVAL_S": "0.5",
        "PROGRESS_INTERVAL_S": "0.5",
        "MAILER_INTERVAL_S": "0.5",
        "WORKER_DEAD_AFTER_S": "30",
        "MAX_ATTEMPTS": "1",
        "RESTART_AFTER_ERROR_S": "3",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_TLS": "none",
        "ADMIN_EMAILS": ADMIN_EMAIL,
        "ANON_FREE_LIMIT": "1000",  # every page test browses from 127.0.0.1: one IP
        "MAX_UPLOAD_MB": "5",
        "GUMROAD_PRODUCTS": json.dumps(GUMROAD_PRODUCTS),
        "INSTANCE_ID": "pages-test",
        "ENVIRONMENT": "local",
    }
    backend = BackendProcess(env, port, tmp).start()
    site = Site(backend.url, tmp / "var", inbox)
    try:
        # The fake worker fails its first job: that task ends in error (one attempt allowed).
        site.tasks["failed"] = site.create(stick_figure_glb(), "broken_robot.glb")
        site.until(site.tasks["failed"], {"error"})
        site.tasks["done"] = site.create(stick_figure_glb(), "stick_figure.glb")
        site.until(site.tasks["done"], {"done"})
        site.put_output(site.tasks["done"], "viewer.glb", stick_figure_glb())
        yield site
    finally:
        site.close()
        backend.stop()
        worker.kill()
        smtp.stop()


# --- autorig serve with its real worker ---------------------------------------------------


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``autorig serve``: the backend plus its local worker running the real engine."""
    tmp = tmp_path_factory.mktemp("serve")
    env = {"DISPATCH_INTERVAL_S": "1", "PROGRESS_INTERVAL_S": "1", "MAILER_INTERVAL_S": "5", "ANON_FREE_LIMIT": "1000"}
    with running_serve(tmp, env) as served:
        site = Site(served.url, served.data_dir, None)
        site.log_path = served.log_path  # type: ignore[attr-defined]
        yield site
        site.close()
