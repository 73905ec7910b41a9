"""Real jobs through HTTP: a worker process running the real engine (Blender) on dev characters.

The inputs are evaluation characters served from a local HTTP server that the worker is
explicitly allowed to fetch from.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from workerkit import pid_alive, wait_for, wait_job

from autorig.protocol import output_files

pytestmark = pytest.mark.slow

DRESS = "quaternius__Female_Dress"
JOB_WAIT_S = 600


def submit(c, w, url: str, **options) -> dict:
    r = c.post("/api/jobs", json={"input_url": url, "mode": "rig_only", "options": options}, headers=w.headers)
    assert r.status_code == 200, r.text
    return r.json()


def engine_pid(w, job_id: str) -> int:
    return wait_for(lambda: w.job_record(job_id).get("pid"), 60, interval=0.02, what="the engine to start")


def test_a_job_produces_its_outputs_one_by_one(eval_data, worker_factory, input_server):
    url = input_server.add(eval_data / "unrigged" / f"{DRESS}.glb")
    # The production setting: every output the engine can make (LODs, clips, USDZ, previews).
    w = worker_factory(allowed_hosts=[input_server.host], engine_only="all")
    name = "Dress"
    names = output_files(name)
    with w.client(token=True) as c:
        job = submit(c, w, url, name=name)
        urls = dict(zip(names, job["output_urls"], strict=True))
        assert [c.head(u).status_code for u in job["output_urls"]] == [404] * len(names)

        first_seen: dict[str, int] = {}
        progress: list[float] = []
        polls = 0
        deadline = time.monotonic() + JOB_WAIT_S
        while time.monotonic() < deadline:
            status = c.get(f"/api/jobs/{job['worker_task_id']}").json()
            progress.append(status["progress"])
            for f in names:
                if f not in first_seen and c.head(urls[f]).status_code == 200:
                    first_seen[f] = polls
            for f in first_seen:  # once complete, a file stays there
                assert c.head(urls[f]).status_code == 200
            if status["state"] in ("done", "failed"):
                break
            polls += 1
            time.sleep(0.1)
        assert status["state"] == "done", status["error"]
        assert status["stage"] == "done" and status["progress"] == 1.0
        assert progress == sorted(progress), "progress never goes back"

        produced = [f for f in names if (w.data_dir / "jobs" / job["worker_task_id"] / "out" / f).exists()]
        assert {f"{name}.glb", f"{name}.fbx", "rig.json"} <= set(produced)
        print(f"produced {len(produced)} of {len(names)} outputs; seen at polls {first_seen}")
        assert status["outputs_ready"] == produced
        assert sorted(first_seen) == sorted(produced)
        # Files appear in production order (rig.json last), each one whole when it appears.
        order = sorted(first_seen, key=lambda f: (first_seen[f], names.index(f)))
        assert order == [f for f in names if f in first_seen]
        assert first_seen["rig.json"] >= max(first_seen.values())
        for f in set(names) - set(produced):
            assert c.head(urls[f]).status_code == 404  # listed, not produced by this engine: absent

        glb = c.get(urls[f"{name}.glb"])
        assert glb.status_code == 200 and glb.content[:4] == b"glTF"
        assert glb.headers["content-type"] == "model/gltf-binary"
        assert int(glb.headers["content-length"]) == len(glb.content)
        head = c.head(urls[f"{name}.glb"])
        assert head.headers["content-length"] == glb.headers["content-length"] and head.content == b""
        tag = glb.headers["etag"]
        assert c.get(urls[f"{name}.glb"], headers={"If-None-Match": tag}).status_code == 304
        assert c.get(urls[f"{name}.glb"], headers={"If-None-Match": '"other"'}).status_code == 200
        part = c.get(urls[f"{name}.glb"], headers={"Range": "bytes=4-11"})
        assert part.status_code == 206
        assert part.content == glb.content[4:12]
        assert part.headers["content-range"] == f"bytes 4-11/{len(glb.content)}"
        assert c.get(urls[f"{name}.glb"], headers={"Range": f"bytes={len(glb.content) + 10}-"}).status_code == 416
        assert c.get(urls[f"{name}.fbx"]).content.startswith(b"Kaydara FBX Binary")
        report = json.loads(c.get(urls["rig.json"]).content)
        assert report.get("error") is None and report["name"] == name

        s = c.get("/api/status").json()
        assert s["avg_job_seconds"] > 0 and s["free_slots"] == 1 and s["active_jobs"] == 0
        page = c.get(job["progress_page"]).text
        assert "done" in page and "output ready: Dress.glb" in page
    # The input is not kept once the job is over; the outputs are.
    assert not (w.data_dir / "jobs" / job["worker_task_id"] / "input").exists()


def test_a_killed_engine_fails_the_job_and_the_worker_keeps_serving(eval_data, worker_factory, input_server):
    url = input_server.add(eval_data / "unrigged" / f"{DRESS}.glb")
    w = worker_factory(allowed_hosts=[input_server.host])
    with w.client(token=True) as c:
        job = submit(c, w, url)
        pid = engine_pid(w, job["worker_task_id"])
        os.kill(pid, signal.SIGKILL)
        status = wait_job(c, job["worker_task_id"], 30)
        assert status["error"] == "the rigging process was killed (signal 9, SIGKILL)"
        assert status["error_code"] == "crashed"
        assert c.get("/api/status").json()["free_slots"] == 1
        again = submit(c, w, url)
        assert again["worker_task_id"] != job["worker_task_id"]
        c.get(f"/api/jobs/{again['worker_task_id']}").raise_for_status()
    assert w.proc.poll() is None


def test_time_and_memory_limits_fail_the_job_with_the_reason(eval_data, worker_factory, input_server):
    url = input_server.add(eval_data / "unrigged" / f"{DRESS}.glb")
    # Python plus Blender take longer than 0.3 s to start, and far more than 300 MB of address space.
    for settings, reason, code in (
        ({"job_timeout_s": 0.3}, "time limit of 0.3 s exceeded", "timeout"),
        ({"job_memory_mb": 300}, "memory limit of 300 MB exceeded", "crashed"),
    ):
        w = worker_factory(allowed_hosts=[input_server.host], **settings)
        with w.client(token=True) as c:
            job = submit(c, w, url)
            status = wait_job(c, job["worker_task_id"], 60)
        assert status["error"].startswith(reason), status["error"]
        assert status["error_code"] == code
        w.stop()


def test_a_restart_fails_the_running_job_and_ends_its_engine(eval_data, worker_factory, input_server):
    url = input_server.add(eval_data / "unrigged" / f"{DRESS}.glb")
    w = worker_factory(allowed_hosts=[input_server.host])
    with w.client(token=True) as c:
        job = submit(c, w, url)
    pid = engine_pid(w, job["worker_task_id"])
    assert w.job_record(job["worker_task_id"])["state"] == "running"
    # The worker dies without recording anything. Its engine dies with it (PR_SET_PDEATHSIG);
    # were it still alive, the next start would kill it (see test_worker_manager.py).
    w.stop(signal.SIGKILL)
    again = worker_factory(data_dir=w.data_dir, allowed_hosts=[input_server.host])
    with again.client(token=True) as c:
        status = c.get(f"/api/jobs/{job['worker_task_id']}").json()
    assert status["state"] == "failed"
    assert status["error"] == "the worker restarted while the job was running; submit it again"
    assert status["error_code"] == "worker_restarted"
    wait_for(lambda: not pid_alive(pid), 10, what="the orphaned engine to end")


def test_convert_fbx_to_glb(eval_data, worker_factory, input_server):
    url = input_server.add(eval_data / "unrigged" / "runxaway__Xbot.fbx")
    bad = input_server.add_bytes("broken.fbx", b"Kaydara FBX Binary  \x00 but nothing after it")
    w = worker_factory(allowed_hosts=[input_server.host])
    with w.client(timeout=300, token=True) as c:
        r = c.post("/api-converter-glb-to-fbx", json={"input_url": url}, headers=w.headers)
        assert r.status_code == 200, r.text
        out = r.json()["output_url"]
        assert out.startswith(f"{w.url}/files/") and out.endswith("/runxaway__Xbot.glb")
        glb = c.get(out)  # ready the moment the answer came
        assert glb.status_code == 200 and glb.content[:4] == b"glTF"
        assert c.head(out).status_code == 200

        failed = c.post("/api-converter-glb-to-fbx", json={"input_url": bad}, headers=w.headers)
        assert failed.status_code == 422, failed.text
        assert failed.json()["error"] == "corrupt_file" and failed.json()["detail"]
        assert "127.0.0.1" not in failed.json()["detail"]
        assert "Traceback" not in failed.json()["detail"]
        # Conversions do not count as rig jobs.
        assert c.get("/api/status").json()["free_slots"] == 1
