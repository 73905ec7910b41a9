"""``POST /api/jobs/status``: many jobs in one answer (the backend's progress cycle asks once per
worker), with a real worker process on loopback."""

from __future__ import annotations

from workerkit import TOKEN

from autorig.protocol import JOBS_STATUS_PATH, MAX_STATUS_BATCH, TOKEN_HEADER


def test_many_jobs_in_one_answer(worker_factory, input_server):
    w = worker_factory(allowed_hosts=[input_server.host], capacity=2)
    with w.client() as c:
        ids = [
            c.post("/api/jobs", json={"input_url": f"{input_server.url}/slow/30/m{i}.glb"}, headers=w.headers).json()[
                "worker_task_id"
            ]
            for i in range(2)
        ]
        r = c.post(JOBS_STATUS_PATH, json={"worker_task_ids": [*ids, "nope"]}, headers=w.headers)
        one = c.get(f"/api/jobs/{ids[0]}").json()
        no_token = c.post(JOBS_STATUS_PATH, json={"worker_task_ids": ids})
        wrong = c.post(JOBS_STATUS_PATH, json={"worker_task_ids": ids}, headers={TOKEN_HEADER: TOKEN + "x"})
        too_many = c.post(JOBS_STATUS_PATH, json={"worker_task_ids": ["x"] * (MAX_STATUS_BATCH + 1)}, headers=w.headers)
    assert r.status_code == 200
    body = r.json()
    assert [j["worker_task_id"] for j in body["jobs"]] == ids and body["unknown"] == ["nope"]
    assert body["jobs"][0] == one  # the same as the one-job route, outputs_ready included
    assert all(j["state"] == "queued" and j["outputs_ready"] == [] for j in body["jobs"])
    assert no_token.status_code == 401 and wrong.status_code == 401
    assert too_many.status_code == 422
