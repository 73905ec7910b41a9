"""The worker's HTTP contract with a real worker process on loopback (no Blender needed here).

Inputs come from a local HTTP server that the worker is allowed to fetch from; jobs in these
tests never get as far as the engine (their download is held or fails), so they are quick.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from workerkit import REPO, TOKEN, free_port, wait_job

from autorig.protocol import TOKEN_HEADER, output_files

GLB = b"glTF\x02\x00\x00\x00" + b"\x00" * 100


def test_submitting_needs_the_token(worker_factory, input_server):
    w = worker_factory(allowed_hosts=[input_server.host])
    body = {"input_url": f"{input_server.url}/files/m.glb"}
    with w.client() as c:
        missing = c.post("/api/jobs", json=body)
        wrong = c.post("/api/jobs", json=body, headers={TOKEN_HEADER: "not-the-token"})
        convert = c.post("/api-converter-glb-to-fbx", json=body, headers={TOKEN_HEADER: TOKEN + "x"})
    assert missing.status_code == 401 and "missing" in missing.json()["detail"]
    assert wrong.status_code == 401 and wrong.json() == {"error": "unauthorized", "detail": f"wrong {TOKEN_HEADER}"}
    assert convert.status_code == 401


def test_a_malformed_body_gets_422_naming_the_field(worker_factory):
    w = worker_factory()
    with w.client() as c:
        no_url = c.post("/api/jobs", json={"mode": "rig_only"}, headers=w.headers)
        bad_mode = c.post("/api/jobs", json={"input_url": "http://example.com/m.glb", "mode": "x"}, headers=w.headers)
        bad_option = c.post(
            "/api/jobs",
            json={"input_url": "http://example.com/m.glb", "options": {"skeleton": "horse"}},
            headers=w.headers,
        )
        not_json = c.post("/api/jobs", content=b"{nope", headers={**w.headers, "content-type": "application/json"})
    assert no_url.status_code == 422
    assert no_url.json()["fields"] == ["input_url"] and "input_url: Field required" in no_url.json()["detail"]
    assert bad_mode.status_code == 422 and bad_mode.json()["fields"] == ["mode"]
    assert bad_option.status_code == 422 and bad_option.json()["fields"] == ["options.skeleton"]
    assert not_json.status_code == 422 and "JSON" in not_json.json()["detail"]


def test_private_and_loopback_inputs_are_refused_unless_allowed(worker_factory, input_server):
    input_server.add_bytes("m.glb", GLB)
    w = worker_factory(allowed_hosts=[input_server.host])
    with w.client() as c:
        private = c.post("/api/jobs", json={"input_url": "http://10.0.0.1/m.glb"}, headers=w.headers)
        other_port = c.post("/api/jobs", json={"input_url": "http://127.0.0.1:9/m.glb"}, headers=w.headers)
        metadata = c.post("/api-converter-glb-to-fbx", json={"input_url": "http://169.254.169.254/x.fbx"}, headers=w.headers)
        allowed = c.post("/api/jobs", json={"input_url": f"{input_server.url}/status/404"}, headers=w.headers)
    assert private.status_code == 400
    assert private.json() == {
        "error": "refused_url",
        "detail": "10.0.0.1 is a private address; inputs are fetched only from public hosts",
    }
    assert other_port.status_code == 400 and "loopback" in other_port.json()["detail"]
    assert metadata.status_code == 400 and "link-local" in metadata.json()["detail"]
    assert allowed.status_code == 200
    # No job was created for the refused ones: the only record is the allowed job.
    assert [p.name for p in (w.data_dir / "jobs").iterdir()] == [allowed.json()["worker_task_id"]]


def test_accepted_job_lists_every_output_and_fails_with_a_reason(worker_factory, input_server):
    w = worker_factory(allowed_hosts=[input_server.host])
    with w.client(token=True) as c:
        r = c.post(
            "/api/jobs",
            json={"input_url": f"{input_server.url}/status/404", "options": {"name": "My Hero!"}},
            headers=w.headers,
        )
        assert r.status_code == 200
        accepted = r.json()
        names = output_files("My Hero!")
        assert names[0] == "My_Hero.glb" and names[-1] == "rig.json"
        assert accepted["output_urls"] == [f"{w.url}/files/{accepted['guid']}/{n}" for n in names]
        assert accepted["progress_page"] == f"{w.url}/jobs/{accepted['worker_task_id']}"
        assert len(accepted["guid"]) >= 32

        status = wait_job(c, accepted["worker_task_id"], 20)
        assert status["state"] == "failed"
        assert status["error"] == "the input URL answered HTTP 404"
        assert status["error_code"] == "download_failed"
        assert status["outputs_ready"] == [] and status["finished_at"]
        for url in accepted["output_urls"]:
            assert c.head(url).status_code == 404
        page = c.get(accepted["progress_page"])
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "the input URL answered HTTP 404" in page.text and 'http-equiv="refresh"' not in page.text
        assert c.get("/api/jobs/nope").status_code == 404
        assert c.get(f"/files/{accepted['guid']}/job.json").status_code == 404
        assert c.get(f"/files/not-a-guid/{names[0]}").status_code == 404


def test_beyond_capacity_is_503_with_retry_after(worker_factory, input_server):
    input_server.add_bytes("m.glb", GLB)
    w = worker_factory(allowed_hosts=[input_server.host], capacity=1, retry_after_s=7)
    slow = {"input_url": f"{input_server.url}/slow/30/missing.glb"}
    with w.client() as c:
        first = c.post("/api/jobs", json=slow, headers=w.headers)
        assert first.status_code == 200
        job_url = f"/api/jobs/{first.json()['worker_task_id']}"
        queued = c.get(job_url).json()
        assert queued["state"] == "queued" and queued["stage"] == "downloading"
        page = c.get(first.json()["progress_page"]).text
        assert 'http-equiv="refresh"' in page

        second = c.post("/api/jobs", json=slow, headers=w.headers)
        assert second.status_code == 503
        assert second.headers["retry-after"] == "7"
        assert second.json()["error"] == "busy"
        status = c.get("/api/status").json()
        assert status["capacity"] == 1 and status["free_slots"] == 0
        assert status["queued_jobs"] == 1 and status["active_jobs"] == 0

        input_server.stop.set()  # the held download ends (404): the slot frees up
        assert wait_job(c, first.json()["worker_task_id"], 20)["state"] == "failed"
        assert c.get("/api/status").json()["free_slots"] == 1


def test_status_reports_the_worker(worker_factory):
    w = worker_factory(capacity=3)
    with w.client() as c:
        s = c.get("/api/status").json()
    assert s["online"] is True and s["accepting"] is True
    assert s["capacity"] == 3 and s["free_slots"] == 3
    assert s["active_jobs"] == 0 and s["queued_jobs"] == 0
    assert s["avg_job_seconds"] is None
    assert s["version"] and s["free_disk_bytes"] > 0


def test_low_disk_stops_accepting(worker_factory, input_server):
    w = worker_factory(allowed_hosts=[input_server.host], min_free_disk_mb=10**9)
    with w.client() as c:
        s = c.get("/api/status").json()
        r = c.post("/api/jobs", json={"input_url": f"{input_server.url}/files/m.glb"}, headers=w.headers)
    assert s["accepting"] is False
    assert r.status_code == 503 and r.headers["retry-after"]
    assert r.json()["error"] == "not accepting jobs" and "free disk space is low" in r.json()["detail"]


def test_a_restart_fails_unfinished_jobs(tmp_path, worker_factory, input_server):
    w = worker_factory(allowed_hosts=[input_server.host])
    with w.client() as c:
        job_id = c.post("/api/jobs", json={"input_url": f"{input_server.url}/slow/30/m.glb"}, headers=w.headers).json()[
            "worker_task_id"
        ]
    assert w.job_record(job_id)["state"] == "queued"
    w.stop(signal.SIGKILL)  # a crash: nothing gets to record the job's end
    assert w.job_record(job_id)["state"] == "queued"

    again = worker_factory(data_dir=w.data_dir, allowed_hosts=[input_server.host])
    with again.client() as c:
        status = c.get(f"/api/jobs/{job_id}").json()
        assert status["state"] == "failed"
        assert status["error"] == "the worker restarted while the job was queued; submit it again"
        assert c.get("/api/status").json()["free_slots"] == 1


def test_a_clean_shutdown_fails_unfinished_jobs(worker_factory, input_server):
    w = worker_factory(allowed_hosts=[input_server.host])
    with w.client() as c:
        job_id = c.post("/api/jobs", json={"input_url": f"{input_server.url}/slow/30/m.glb"}, headers=w.headers).json()[
            "worker_task_id"
        ]
    assert w.stop(signal.SIGTERM) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal on exit
    record = w.job_record(job_id)
    assert record["state"] == "failed" and "shut down" in record["error"]


def test_an_open_worker_without_token_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTORIG_WORKER_")}
    env.update(AUTORIG_WORKER_DATA_DIR=str(tmp_path / "w"), AUTORIG_WORKER_TOKEN="")
    r = subprocess.run(
        [sys.executable, "-m", "autorig", "worker", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2
    assert "set AUTORIG_WORKER_TOKEN" in r.stderr.strip().splitlines()[-1]


def test_outputs_are_served_the_moment_each_is_whole(worker_factory, input_server, monkeypatch):
    """All twelve outputs, with the engine stand-in that takes its time over each file."""
    monkeypatch.setenv("STANDIN_DELAY_S", "0.25")
    data = GLB * 50
    url = input_server.add_bytes("hero.glb", data)
    w = worker_factory(
        allowed_hosts=[input_server.host],
        engine_command=[sys.executable, str(REPO / "tests" / "worker" / "standin_engine.py")],
    )
    names = output_files("hero")
    with w.client(token=True) as c:
        job = c.post("/api/jobs", json={"input_url": url}, headers=w.headers).json()
        urls = job["output_urls"]
        snapshots: list[list[str]] = []
        stages: list[tuple[str, float]] = []
        while True:
            status = c.get(f"/api/jobs/{job['worker_task_id']}").json()
            ready = [n for n, u in zip(names, urls, strict=True) if c.head(u).status_code == 200]
            snapshots.append(ready)
            stages.append((status["stage"], status["progress"]))
            # Only whole files, and always a prefix of the production order.
            assert ready == names[: len(ready)]
            assert status["outputs_ready"] == names[: len(status["outputs_ready"])]
            for n, u in zip(names, urls, strict=True):
                if n in ready and n != "rig.json":
                    assert c.get(u).content == data
            if status["state"] in ("done", "failed"):
                break
            time.sleep(0.05)
    assert status["state"] == "done" and status["outputs_ready"] == names
    # Each file was seen arriving on its own.
    counts = sorted({len(s) for s in snapshots})
    assert len(counts) >= len(names) // 2, counts
    assert [p for _, p in stages] == sorted(p for _, p in stages)
    assert any(stage == "writing" for stage, _ in stages)
    # Range and ETag on a finished output.
    with w.client(token=True) as c:
        first = urls[0]
        full = c.get(first)
        assert full.headers["content-type"] == "model/gltf-binary"
        assert c.head(first).headers["content-length"] == str(len(data))
        part = c.get(first, headers={"Range": "bytes=0-3"})
        assert part.status_code == 206 and part.content == b"glTF"
        assert part.headers["content-range"] == f"bytes 0-3/{len(data)}"
        assert c.get(first, headers={"Range": "bytes=-5"}).content == data[-5:]
        assert c.get(first, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
        tag = full.headers["etag"]
        assert c.get(first, headers={"If-None-Match": tag}).status_code == 304
        assert c.head(first, headers={"If-None-Match": tag}).status_code == 304
        assert c.get(first, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_output_files_need_the_token(worker_factory, input_server, monkeypatch):
    """Outputs include the paid files: without the shared token, 401 (GET and HEAD), whether
    the file exists or not; the backend reads them with the token."""
    monkeypatch.setenv("STANDIN_DELAY_S", "0")
    url = input_server.add_bytes("hero.glb", GLB)
    w = worker_factory(
        allowed_hosts=[input_server.host],
        engine_command=[sys.executable, str(REPO / "tests" / "worker" / "standin_engine.py")],
    )
    with w.client(token=True) as c:
        job = c.post("/api/jobs", json={"input_url": url}, headers=w.headers).json()
        assert wait_job(c, job["worker_task_id"], 30)["state"] == "done"
        assert all(c.get(u).status_code == 200 for u in job["output_urls"])
    with w.client() as anonymous:
        for u in [*job["output_urls"], job["output_urls"][0].rsplit("/", 1)[0] + "/nothing.glb"]:
            assert anonymous.get(u).status_code == 401
            assert anonymous.head(u).status_code == 401
            assert anonymous.get(u, headers={TOKEN_HEADER: "wrong"}).status_code == 401
        assert anonymous.get(job["output_urls"][0], headers=w.headers).status_code == 200


def test_an_upload_named_like_a_preview_never_becomes_one(worker_factory, input_server, monkeypatch):
    """A model uploaded as viewer.glb (or preview, rig) must not have its full-resolution
    download stored under a free preview's name."""
    monkeypatch.setenv("STANDIN_DELAY_S", "0")
    w = worker_factory(
        allowed_hosts=[input_server.host],
        engine_command=[sys.executable, str(REPO / "tests" / "worker" / "standin_engine.py")],
    )
    with w.client(token=True) as c:
        for upload in ("viewer.glb", "preview.glb", "rig.glb", "VIEWER.glb"):
            url = input_server.add_bytes(upload, GLB)
            job = c.post("/api/jobs", json={"input_url": url}, headers=w.headers).json()
            names = [u.rsplit("/", 1)[1] for u in job["output_urls"]]
            assert len(set(n.lower() for n in names)) == len(names), names
            assert names[-3:] == ["preview.mp4", "viewer.glb", "rig.json"]
            assert wait_job(c, job["worker_task_id"], 30)["state"] == "done"


def test_a_worker_reads_another_workers_output_with_the_token(worker_factory, input_server, monkeypatch, tmp_path):
    """An FBX task's rig job reads the converted .glb from the worker that made it: a worker
    listed in ALLOWED_HOSTS gets the token, so its /files/ answer."""
    monkeypatch.setenv("STANDIN_DELAY_S", "0")
    standin = [sys.executable, str(REPO / "tests" / "worker" / "standin_engine.py")]
    first = worker_factory(allowed_hosts=[input_server.host], engine_command=standin)
    with first.client(token=True) as c:
        job = c.post("/api/jobs", json={"input_url": input_server.add_bytes("hero.glb", GLB)}).json()
        assert wait_job(c, job["worker_task_id"], 30)["state"] == "done"
    made = job["output_urls"][0]
    second = worker_factory(data_dir=tmp_path / "second", allowed_hosts=[first.url.split("//", 1)[1]], engine_command=standin)
    with second.client(token=True) as c:
        again = c.post("/api/jobs", json={"input_url": made}).json()
        status = wait_job(c, again["worker_task_id"], 30)
        assert status["state"] == "done", status["error"]
        assert c.get(again["output_urls"][0]).content == GLB
