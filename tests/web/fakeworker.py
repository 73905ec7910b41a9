"""A real HTTP worker for tests that speaks ``autorig.protocol`` without rigging anything.

Jobs fetch their input (so the backend's storage URL is really exercised), then take
``--job-seconds``; the outputs appear one by one over that time as tiny files (the first starts
with the glTF magic), then the job is ``done``. ``--produce N`` makes only the first N downloads
plus the previews appear (like an engine that does not make every file yet); ``--fail-jobs K``
makes the first K jobs fail half way, with the error code ``--fail-code`` (default ``crashed``, an
infrastructure failure; ``not_a_biped`` etc. blame the input) in ``JobStatus.error_code``. The
converter answers after ``--convert-seconds`` with a tiny .glb, or with ``--convert-fail CODE``
422 ``{"error": CODE, "detail"}``. With ``--token``, everything but ``/api/status`` and the
progress page needs the token, files included (401 without), as the real worker does.
``--synthetic`` answers for any job id (a running job whose first output exists), for the
progress benchmark. ``POST /api/jobs/status`` answers for many jobs at once (``--no-batch``:
404, like a worker from before that route). ``GET /test/stats`` counts what happened.

    python tests/web/fakeworker.py --port 18250 --capacity 2 --job-seconds 3
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from autorig import protocol


@dataclass
class Job:
    id: str
    guid: str
    name: str
    files: list[str]
    produce: list[str]
    created: float
    started: float | None = None
    input_error: str | None = None
    input_code: str | None = None
    input_bytes: int = 0
    fail: bool = False


@dataclass
class State:
    args: argparse.Namespace
    base: str
    jobs: dict[str, Job] = field(default_factory=dict)
    stats: dict[str, int] = field(
        default_factory=lambda: {
            "submitted": 0,
            "rejected_busy": 0,
            "converted": 0,
            "convert_calls": 0,
            "unauthorized": 0,
            "file_gets": 0,
        }
    )
    inputs: list[str] = field(default_factory=list)


def build(args: argparse.Namespace) -> FastAPI:
    app = FastAPI()
    st = State(args, args.public_base or f"http://127.0.0.1:{args.port}")
    http = httpx.AsyncClient(timeout=30)

    FAIL_REASONS = {
        "crashed": "the rigging process was killed (signal 9) [fake]",
        "not_a_biped": "not a biped: there are no arms apart from the body [fake]",
        "corrupt_file": "corrupt file: the GLB chunk lengths run past the end of the file [fake]",
    }

    def timeline(job: Job, now: float) -> tuple[protocol.JobState, float, list[str], str | None, str | None]:
        """state, progress, ready files, error, error code"""
        if job.input_error:
            return protocol.JobState.failed, 0.0, [], job.input_error, job.input_code
        if job.started is None:
            return protocol.JobState.queued, 0.0, [], None, None
        frac = (now - job.started) / max(1e-6, args.job_seconds)
        if job.fail and frac >= 0.5:
            reason = FAIL_REASONS.get(args.fail_code, f"{args.fail_code.replace('_', ' ')} [fake]")
            return protocol.JobState.failed, 0.5, [], reason, args.fail_code
        n = len(job.produce)
        ready = [f for i, f in enumerate(job.produce) if frac >= (i + 1) / n]
        if frac >= 1.0:
            return protocol.JobState.done, 1.0, list(job.produce), None, None
        return protocol.JobState.running, min(0.99, frac), ready, None, None

    def active(now: float) -> int:
        return sum(1 for j in st.jobs.values() if timeline(j, now)[0] in (protocol.JobState.queued, protocol.JobState.running))

    def authorized(request: Request) -> bool:
        ok = not args.token or request.headers.get(protocol.TOKEN_HEADER) == args.token
        if not ok:
            st.stats["unauthorized"] += 1
        return ok

    def unauthorized() -> JSONResponse:
        return JSONResponse({"error": "unauthorized", "detail": "missing or wrong token"}, status_code=401)

    async def fetch_input(job: Job, url: str) -> None:
        try:
            r = await http.get(url)
            if r.status_code != 200:
                job.input_error = f"could not download the input: HTTP {r.status_code}"
                job.input_code = "download_failed"
            else:
                job.input_bytes = len(r.content)
                st.inputs.append(url)
        except httpx.HTTPError as exc:
            job.input_error = f"could not download the input: {exc}"
            job.input_code = "download_failed"
        job.started = time.monotonic()

    @app.get(protocol.STATUS_PATH)
    async def status() -> protocol.WorkerStatus:
        n = active(time.monotonic())
        return protocol.WorkerStatus(
            capacity=args.capacity,
            free_slots=max(0, args.capacity - n),
            active_jobs=n,
            queued_jobs=0,
            avg_job_seconds=args.job_seconds,
            version="fake-1",
            free_disk_bytes=10**12,
        )

    @app.post(protocol.JOBS_PATH)
    async def submit(req: protocol.JobRequest, request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        if active(time.monotonic()) >= args.capacity:
            st.stats["rejected_busy"] += 1
            return JSONResponse({"detail": "all slots busy"}, status_code=503, headers={"Retry-After": "5"})
        st.stats["submitted"] += 1
        name = protocol.safe_name(req.options.name or Path(req.input_url).stem)
        files = protocol.output_files(name)
        produce = files if args.produce is None else files[: args.produce] + list(protocol.PREVIEWS)
        job = Job(secrets.token_hex(6), secrets.token_urlsafe(12), name, files, produce, time.monotonic())
        job.fail = st.stats["submitted"] <= args.fail_jobs
        st.jobs[job.id] = job
        asyncio.create_task(fetch_input(job, req.input_url))
        return JSONResponse(
            protocol.JobAccepted(
                worker_task_id=job.id,
                guid=job.guid,
                output_urls=[f"{st.base}/files/{job.guid}/{f}" for f in files],
                progress_page=f"{st.base}/jobs/{job.id}",
            ).model_dump()
        )

    @app.get(protocol.JOBS_PATH + "/{job_id}")
    async def job_status(job_id: str, request: Request) -> Response:
        st.stats["status_calls"] = st.stats.get("status_calls", 0) + 1
        if not authorized(request):
            return unauthorized()
        now = time.monotonic()
        if args.synthetic:
            return JSONResponse(
                protocol.JobStatus(worker_task_id=job_id, state="running", stage="rig", progress=0.2).model_dump(mode="json")
            )
        job = st.jobs.get(job_id)
        if job is None:
            return JSONResponse({"detail": "no such job"}, status_code=404)
        state, progress, ready, error, code = timeline(job, now)
        return JSONResponse(
            protocol.JobStatus(
                worker_task_id=job.id,
                state=state,
                stage=state.value,
                progress=progress,
                error=error,
                error_code=code,
                outputs_ready=ready,
            ).model_dump(mode="json")
        )

    @app.post(protocol.JOBS_STATUS_PATH)
    async def jobs_status(body: protocol.JobsStatusRequest, request: Request) -> Response:
        st.stats["batch_calls"] = st.stats.get("batch_calls", 0) + 1
        if args.no_batch:
            return JSONResponse({"detail": "Not Found"}, status_code=404)  # a worker from before the route
        if not authorized(request):
            return JSONResponse({"detail": "bad token"}, status_code=401)
        now = time.monotonic()
        jobs, unknown = [], []
        for job_id in body.worker_task_ids:
            if args.synthetic:  # as GET /api/jobs/{id} and the files route below: the first output exists
                jobs.append(
                    protocol.JobStatus(
                        worker_task_id=job_id,
                        state="running",
                        stage="rig",
                        progress=0.2,
                        outputs_ready=[f"{args.synthetic_name}.glb"],
                    )
                )
                continue
            job = st.jobs.get(job_id)
            if job is None:
                unknown.append(job_id)
                continue
            state, progress, ready, error, code = timeline(job, now)
            jobs.append(
                protocol.JobStatus(
                    worker_task_id=job.id,
                    state=state,
                    stage=state.value,
                    progress=progress,
                    error=error,
                    error_code=code,
                    outputs_ready=ready,
                )
            )
        return JSONResponse(protocol.JobsStatusResponse(jobs=jobs, unknown=unknown).model_dump(mode="json"))

    @app.api_route("/files/{guid}/{name}", methods=["GET", "HEAD"])
    async def files(guid: str, name: str, request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        if request.method == "HEAD":
            st.stats["heads"] = st.stats.get("heads", 0) + 1
        if request.method == "GET":
            st.stats["file_gets"] += 1
        if args.synthetic:
            # Every job's first output exists, nothing else: a steady state to time a cycle.
            if name.endswith(".glb") and "_" not in name:
                return Response(b"glTF" + hashlib.sha1(guid.encode()).digest(), media_type="model/gltf-binary")
            return PlainTextResponse("not yet", status_code=404)
        if guid.startswith("conv-"):
            return Response(b"glTF\x02\x00\x00\x00converted", media_type="model/gltf-binary")
        job = next((j for j in st.jobs.values() if j.guid == guid), None)
        if job is None:
            return PlainTextResponse("no such job", status_code=404)
        _, _, ready, _, _ = timeline(job, time.monotonic())
        if name not in ready:
            return PlainTextResponse("not yet", status_code=404)
        if name == "rig.json":
            return JSONResponse(report(job))
        body = (b"glTF" if name.endswith(".glb") else b"") + f"{name} of job {job.id}\n".encode()
        return Response(body)

    def report(job: Job) -> dict[str, object]:
        """A rig.json in the engine's shape: confidence reasons ("<cue>: <word> (<value>)"),
        warnings, outputs (``--weak-cue``, ``--failed-output`` make the warnings to check)."""
        cues = [
            "left-right symmetry",
            "head-to-feet direction",
            "facing direction",
            "legs apart",
            "arms mirror each other",
            "neck",
        ]
        reasons = [f"{c}: weak (0.42)" if c == args.weak_cue else f"{c}: clear (0.95)" for c in cues]
        outputs: list[dict[str, object]] = [
            {"file": f, "size": 10, "triangles": 12} for f in job.produce if f not in protocol.PREVIEWS
        ]
        if args.failed_output:
            outputs.append({"file": args.failed_output.format(name=job.name), "error": "RuntimeError: export failed [fake]"})
        return {
            "name": job.name,
            "fake_job": job.id,
            "confidence": 0.7,
            "confidence_reasons": reasons,
            "warnings": list(args.engine_warning),
            "outputs": outputs,
        }

    @app.post(protocol.CONVERT_PATH)
    async def convert(req: protocol.ConvertRequest, request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        st.stats["convert_calls"] += 1
        r = await http.get(req.input_url)
        if r.status_code != 200:
            detail = f"could not download the input: HTTP {r.status_code}"
            return JSONResponse({"error": "download_failed", "detail": detail}, status_code=422)
        await asyncio.sleep(args.convert_seconds)
        if args.convert_fail:
            detail = "corrupt file: this is an ASCII FBX; export it as binary FBX 7.1 or later [fake]"
            return JSONResponse({"error": args.convert_fail, "detail": detail}, status_code=422)
        st.stats["converted"] += 1
        return JSONResponse({"output_url": f"{st.base}/files/conv-{secrets.token_hex(6)}/model.glb"})

    @app.get("/jobs/{job_id}")
    async def page(job_id: str) -> PlainTextResponse:
        return PlainTextResponse(f"job {job_id}")

    @app.get("/test/stats")
    async def stats() -> dict[str, object]:
        return {**st.stats, "inputs": st.inputs, "jobs": len(st.jobs)}

    return app


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--public-base", default=None)
    p.add_argument("--capacity", type=int, default=1)
    p.add_argument("--job-seconds", type=float, default=2.0)
    p.add_argument("--convert-seconds", type=float, default=0.2)
    p.add_argument("--produce", type=int, default=None, help="downloads produced (default: all nine)")
    p.add_argument("--fail-jobs", type=int, default=0)
    p.add_argument("--fail-code", default="crashed", help="error_code of the failed jobs")
    p.add_argument("--weak-cue", default=None, help="a confidence cue rig.json calls weak")
    p.add_argument("--failed-output", default=None, help="an output rig.json lists as failed, e.g. {name}.usdz")
    p.add_argument("--engine-warning", action="append", default=[], help="a warning in rig.json")
    p.add_argument("--convert-fail", default=None, help="error code of every conversion (default: they succeed)")
    p.add_argument("--token", default="")
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--synthetic-name", default="model", help="output name of the synthetic jobs")
    p.add_argument("--no-batch", action="store_true", help="answer 404 to POST /api/jobs/status, like an older worker")
    args = p.parse_args(argv)
    uvicorn.run(build(args), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
