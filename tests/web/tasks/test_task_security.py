"""Issue 11, the backend's side: paid files only through the backend, error codes that end a
task at once when the input is at fault, input URLs refused at create, who may restart, cross-site
requests refused, and the warnings of a finished rig. Real backend, real (fake) worker processes
that require the token on their files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from accountkit import account_settings, api_key, client, sign_in
from webkit import TINY_FBX, TINY_GLB, FakeWorker, free_port, running_backend, web_settings

from autorig import protocol

pytestmark = pytest.mark.asyncio

TOKEN = "test-token"


def _urls(value: Any) -> list[str]:
    """Every http(s) URL anywhere in a JSON value."""
    if isinstance(value, str):
        return [value] if value.startswith(("http://", "https://")) else []
    if isinstance(value, dict):
        return [u for v in value.values() for u in _urls(v)]
    if isinstance(value, list):
        return [u for v in value for u in _urls(v)]
    return []


async def test_an_anonymous_visitor_reaches_no_paid_file(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.6, token=TOKEN, convert_seconds=0.1).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port())) as b:
        glb = (await b.create(TINY_GLB, "hero.glb")).json()["task_id"]
        fbx = (await b.create(TINY_FBX, "guy.fbx")).json()["task_id"]
        # An upload named like the free viewer model must not make its rigged model free.
        viewer = (await b.create(TINY_GLB, "viewer.glb")).json()["task_id"]
        seen: list[dict[str, Any]] = []
        for tid in (glb, fbx, viewer):
            seen.append(await b.task(tid))  # while it waits
            t = await b.until(tid, {"done", "error"})
            assert t["status"] == "done", t
        anon = httpx.AsyncClient(base_url=b.url, timeout=30)
        try:
            paths = [f"/api/task/{tid}" for tid in (glb, fbx, viewer)]
            paths += [f"/api/queue/status?task_id={tid}" for tid in (glb, fbx, viewer)] + ["/api/site"]
            reads = [await anon.get(p) for p in paths]
            for r in reads:
                assert r.status_code == 200, r.text
                seen.append(r.json())
            text = json.dumps(seen)
            assert w.url not in text and "127.0.0.1:" + str(w.port) not in text
            for key in ("output_urls", "ready_urls", "guid", "progress_page", "worker", "worker_task_id", "internal"):
                assert all(not v.get(key) for v in seen), key
            v = (await anon.get(f"/api/task/{viewer}")).json()
            assert [f["name"] for f in v["files"]][:2] == ["viewer_model.glb", "viewer_model.fbx"]
            assert [f for f in v["files"] if f["name"] == "viewer.glb"][0]["kind"] == "preview"

            paid = {
                b.stored(tid, f["name"])
                for tid in (glb, fbx, viewer)
                for f in (await b.task(tid))["files"]
                if f["kind"] == "download"
            }
            assert len(paid) >= 27
            urls = sorted(set(_urls(seen)))
            assert urls
            for url in urls:
                r = await anon.get(url)
                assert not (r.status_code == 200 and r.content in paid), url
            # The free previews do play anonymously, from the backend.
            t = (await anon.get(f"/api/task/{glb}")).json()
            for f in t["files"]:
                r = await anon.get(f["url"])
                if f["kind"] == "preview":
                    assert r.status_code == 200 and r.content == b.stored(glb, f["name"])
                else:
                    assert r.status_code == 401
            # The FBX step's .glb is the backend's, and what the rig job read.
            t = (await anon.get(f"/api/task/{fbx}")).json()
            assert t["fbx"]["glb_url"].startswith(f"{b.url}/storage/tasks/{fbx}/input/")
            assert w.stats()["inputs"][1] == t["fbx"]["glb_url"]
            # The worker's own files need the token: nothing reaches them without it.
            row = await _row(b, glb)
            bare = await anon.get(row.output_urls[0])
            assert bare.status_code == 401
            assert w.stats()["unauthorized"] >= 1
        finally:
            await anon.aclose()


async def test_admins_see_where_a_task_runs(tmp_path: Path, db_url: str, fake_workers, smtp_server) -> None:
    w = FakeWorker(job_seconds=0.4, token=TOKEN).start()
    fake_workers.append(w)
    settings = account_settings(tmp_path, db_url, [w.url], free_port(), smtp_server, admin_emails="boss@example.com")
    async with running_backend(settings) as b:
        tid = (await b.create()).json()["task_id"]
        await b.until(tid, {"done", "error"})
        boss = await sign_in(b, smtp_server, "boss@example.com")
        try:
            t = (await boss.get(f"/api/task/{tid}")).json()
            assert t["internal"]["worker"] == w.url and t["internal"]["output_urls"][0].startswith(f"{w.url}/files/")
            assert (await b.http.get(f"/api/task/{tid}")).json()["internal"] is None
        finally:
            await boss.aclose()


async def test_an_input_error_ends_the_task_after_one_attempt(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.4, fail_jobs=99, fail_code="not_a_biped", token=TOKEN).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port())) as b:
        tid = (await b.create(TINY_GLB, "cube.glb")).json()["task_id"]
        t = await b.until(tid, {"error"})
        assert t["attempts"] == 1 and w.stats()["submitted"] == 1
        assert t["error_code"] == "not_a_biped"
        assert t["error"].startswith("not a biped:") and "attempts" not in t["error"]
        assert t["warnings"] == [] and w.url not in json.dumps(t)
        # Nothing is queued again later.
        await b.cycle()
        assert (await b.task(tid))["status"] == "error" and w.stats()["submitted"] == 1


async def test_an_infrastructure_failure_is_retried(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.4, fail_jobs=1, fail_code="crashed", token=TOKEN).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port())) as b:
        tid = (await b.create()).json()["task_id"]
        t = await b.until(tid, {"done", "error"})
        # The first job was killed; the second went through, and the done task shows no old error.
        assert t["status"] == "done" and t["attempts"] == 2 and w.stats()["submitted"] == 2
        assert t["error"] is None and t["error_code"] is None
        assert "signal 9" in (await _row(b, tid)).last_error


async def test_an_fbx_step_input_error_shows_its_reason_once(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(convert_fail="corrupt_file", token=TOKEN).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port())) as b:
        tid = (await b.create(TINY_FBX, "ascii.fbx")).json()["task_id"]
        t = await b.until(tid, {"error"})
        assert w.stats()["convert_calls"] == 1 and t["attempts"] == 1
        assert t["error_code"] == "corrupt_file" and t["fbx"]["status"] == "error"
        assert "ASCII FBX" in t["error"] and "ASCII FBX" in t["fbx"]["error"]
        assert w.url not in json.dumps(t)


REFUSED_URLS = [
    "http://127.0.0.1:9/model.glb",
    "http://localhost/model.glb",
    "http://169.254.169.254/latest/model.glb",
    "http://10.0.0.7/model.glb",
    "http://[::1]/model.glb",
    "http://[::ffff:127.0.0.1]/model.glb",
    "http://2130706433/model.glb",  # 127.0.0.1 as a decimal number
    "http://0x7f000001/model.glb",  # as hex
    "http://0177.0.0.1/model.glb",  # as octal
    "http://127.1/model.glb",
    "http://user:pw@example.com/model.glb",
    "http://example.com@127.0.0.1/model.glb",
    "ftp://example.com/model.glb",
    "file:///etc/passwd.glb",
    "http://no-such-host.invalid/model.glb",
]


async def test_create_refuses_urls_the_worker_would_refuse(tmp_path: Path, db_url: str) -> None:
    async with running_backend(web_settings(tmp_path, db_url, [], free_port())) as b:
        for url in REFUSED_URLS:
            r = await b.http.post("/api/task/create", json={"input_url": url})
            assert r.status_code == 400, (url, r.text)
            body = r.json()
            assert body["error"] == "BadRequest" and body["detail"], url
            r = await b.http.post("/api/task/create", data={"input_url": url})
            assert r.status_code == 400, (url, r.text)
        assert (await b.http.get("/api/queue/status")).json()["tasks_waiting"] == 0
        # This backend's own address is allowed (workers fetch uploads from it).
        first = (await b.create(TINY_GLB, "source.glb")).json()["task_id"]
        r = await b.http.post("/api/task/create", json={"input_url": (await b.task(first))["input_url"]})
        assert r.status_code == 201, r.text


async def test_only_the_owner_or_an_admin_restarts(tmp_path: Path, db_url: str, fake_workers, smtp_server) -> None:
    w = FakeWorker(job_seconds=0.3, fail_jobs=99, fail_code="crashed", token=TOKEN).start()
    fake_workers.append(w)
    settings = account_settings(
        tmp_path,
        db_url,
        [w.url],
        free_port(),
        smtp_server,
        admin_emails="boss@example.com",
        restart_after_error_s=0.1,
        max_attempts=1,
        anon_free_limit=100,
    )
    async with running_backend(settings) as b:
        owner, stranger = client(b), client(b)
        ann = await sign_in(b, smtp_server, "ann@example.com")
        boss = await sign_in(b, smtp_server, "boss@example.com")
        try:
            anon_task = (await owner.post("/api/task/create", files={"file": ("a.glb", TINY_GLB)})).json()["task_id"]
            ann_task = (await ann.post("/api/task/create", files={"file": ("b.glb", TINY_GLB)})).json()["task_id"]
            for tid in (anon_task, ann_task):
                await b.until(tid, {"error"})
            await asyncio.sleep(0.2)
            for who, tid in ((stranger, anon_task), (ann, anon_task), (stranger, ann_task), (owner, ann_task)):
                r = await who.post(f"/api/task/{tid}/restart")
                assert r.status_code == 403 and set(r.json()) == {"error", "detail"}, r.text
            assert (await owner.post(f"/api/task/{anon_task}/restart")).status_code == 200
            assert (await ann.post(f"/api/task/{ann_task}/restart")).status_code == 200
            for tid in (anon_task, ann_task):
                await b.until(tid, {"error"})
            await asyncio.sleep(0.2)
            assert (await boss.post(f"/api/task/{anon_task}/restart")).status_code == 200
        finally:
            for c in (owner, stranger, ann, boss):
                await c.aclose()


async def test_cross_site_requests_with_the_session_cookie_are_refused(tmp_path: Path, db_url: str, smtp_server) -> None:
    settings = account_settings(tmp_path, db_url, [], free_port(), smtp_server, anon_free_limit=100)
    async with running_backend(settings) as b:
        ann = await sign_in(b, smtp_server, "ann@example.com")
        key = await api_key(ann)
        other_port = f"http://127.0.0.1:{free_port()}"  # another port of the same host: same site, not same origin
        foreign = [
            {"Origin": "https://evil.example"},
            {"Origin": other_port},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
            {"Sec-Fetch-Site": "same-site", "Origin": other_port},
        ]
        try:
            before = len((await ann.get("/api/me/tasks")).json()["tasks"])
            for headers in foreign:
                r = await ann.post("/api/task/create", files={"file": ("x.glb", TINY_GLB)}, headers=headers)
                assert r.status_code == 403, (headers, r.text)
                assert set(r.json()) == {"error", "detail"} and r.json()["error"] == "Forbidden"
                r = await ann.post("/api/keys", json={"name": "stolen"}, headers=headers)
                assert r.status_code == 403
                r = await ann.post("/api/auth/logout", headers=headers)
                assert r.status_code == 403
            assert len((await ann.get("/api/me/tasks")).json()["tasks"]) == before
            assert (await ann.get("/api/me")).json().get("email") == "ann@example.com"  # still signed in
            # The site's own pages, a typed URL, and non-browser clients pass.
            for headers in (
                {"Origin": b.url},
                {"Sec-Fetch-Site": "same-origin", "Origin": b.url},
                {"Sec-Fetch-Site": "none"},
                {},
            ):
                r = await ann.post("/api/task/create", files={"file": ("x.glb", TINY_GLB)}, headers=headers)
                assert r.status_code == 201, (headers, r.text)
            # An API key is no ambient credential: exempt.
            r = await client(b).post(
                "/api/task/create",
                files={"file": ("x.glb", TINY_GLB)},
                headers={"Authorization": f"Bearer {key}", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
            )
            assert r.status_code == 201, r.text
            # The Gumroad ping comes from Gumroad: not refused as cross-site (404: not configured here).
            r = await b.http.post("/api-gumroad?token=x", data={"sale_id": "1"}, headers={"Origin": "https://gumroad.com"})
            assert r.status_code != 403
        finally:
            await ann.aclose()


async def test_a_finished_task_shows_what_to_check(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(
        job_seconds=0.4,
        token=TOKEN,
        weak_cue="facing direction",
        failed_output="{name}.usdz",
        produce=8,
        engine_warning="dropped Camera: not a mesh",
    ).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port())) as b:
        tid = (await b.create()).json()["task_id"]
        t = await b.until(tid, {"done", "error"})
        assert t["status"] == "done"
        kinds = {x["kind"]: x for x in t["warnings"]}
        assert (
            kinds["low_confidence"]["cue"] == "facing direction"
            and "the facing direction was unclear" in kinds["low_confidence"]["text"]
        )
        assert kinds["output_failed"]["file"] == "hero.usdz"
        assert kinds["engine"]["text"] == "dropped Camera: not a mesh"
        assert len(t["warnings"]) == 3 and protocol.output_files("hero")[8] in t["missing_files"]


async def _row(b, task_id: str):  # type: ignore[no-untyped-def]
    async with b.ctx.db.read_session() as s:
        task = await b.ctx.tasks.get(s, task_id)
        s.expunge(task)
        return task
