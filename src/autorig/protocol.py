"""The wire contract between the backend and a worker, and nothing else.

Both sides import this module; neither imports the other. Routes on a worker:

    POST /api/jobs                   JobRequest -> JobAccepted (503 + Retry-After when full)
    GET  /api/jobs/{worker_task_id}  -> JobStatus
    POST /api/jobs/status            JobsStatusRequest -> JobsStatusResponse (many jobs at once)
    GET  /api/status                 -> WorkerStatus
    POST /api-converter-glb-to-fbx   ConvertRequest -> ConvertResponse (historical name:
                                     it converts FBX to GLB; the .glb is ready when it answers)
    GET  /jobs/{worker_task_id}      progress page (HTML)
    GET|HEAD /files/{guid}/{name}    an output: 404 until complete, then 200 (Range, ETag)

Job submission, conversion and output files need the shared secret in the ``TOKEN_HEADER`` header
whenever the worker has one (401 without it). A failed job's ``error_code`` says why
(``INPUT_ERROR_CODES``: final; else ``timeout``, ``crashed``, ``internal``, ``worker_restarted``:
worth another attempt); a failed conversion answers ``{"error": <code>, "detail": <sentence>}``,
422 for input errors, 5xx for the others.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field

TOKEN_HEADER = "X-Autorig-Token"

JOBS_PATH = "/api/jobs"
JOBS_STATUS_PATH = "/api/jobs/status"
MAX_STATUS_BATCH = 20_000  # job ids in one JobsStatusRequest
STATUS_PATH = "/api/status"
CONVERT_PATH = "/api-converter-glb-to-fbx"


class Skeleton(str, Enum):
    mixamo = "mixamo"
    unreal = "unreal"
    unity = "unity"


class Fingers(str, Enum):
    auto = "auto"
    full = "full"
    mitten = "mitten"
    none = "none"


class JobOptions(BaseModel):
    skeleton: Skeleton = Skeleton.mixamo
    mixamo_prefix: bool = Field(False, description="name bones mixamorig:Hips etc.")
    fingers: Fingers = Field(Fingers.auto, description="finger bones: auto (from the hand's shape), full, mitten or none")
    name: str | None = Field(None, description="base name of the output files; default: the input's file name")


class JobRequest(BaseModel):
    input_url: str = Field(..., min_length=8, max_length=4096, description="http(s) URL of the model")
    mode: Literal["rig_only"] = "rig_only"
    options: JobOptions = Field(default_factory=JobOptions)


class JobAccepted(BaseModel):
    worker_task_id: str
    guid: str
    output_urls: list[str]
    progress_page: str


class JobState(str, Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class JobStatus(BaseModel):
    worker_task_id: str
    state: JobState
    stage: str = ""
    progress: float = Field(0.0, ge=0.0, le=1.0)
    error: str | None = None
    error_code: str | None = Field(None, description="why it failed: an INPUT_ERROR_CODES code (final) or an infrastructure code (retried)")
    outputs_ready: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class WorkerStatus(BaseModel):
    online: bool = True
    accepting: bool = True
    capacity: int
    free_slots: int
    active_jobs: int
    queued_jobs: int
    avg_job_seconds: float | None = None
    version: str
    free_disk_bytes: int


class JobsStatusRequest(BaseModel):
    """The backend's one progress request per worker per cycle: every job it follows there."""

    worker_task_ids: list[str] = Field(..., max_length=MAX_STATUS_BATCH)


class JobsStatusResponse(BaseModel):
    jobs: list[JobStatus] = Field(description="the known jobs, each with the outputs complete so far")
    unknown: list[str] = Field(default_factory=list, description="ids this worker does not know (restarted, cleaned up)")


class ConvertRequest(BaseModel):
    input_url: str = Field(..., min_length=8, max_length=4096)


class ConvertResponse(BaseModel):
    output_url: str


# --- error codes ------------------------------------------------------------------------

# A job that failed with one of these failed because of its input: final, never retried. The
# engine's codes, plus the worker's refusal of an input URL and a failed download of it.
INPUT_ERROR_CODES: frozenset[str] = frozenset({
    "unsupported_format", "corrupt_file", "empty_scene", "not_a_mesh", "not_a_biped", "too_large",
    "refused_url", "download_failed",
})


def is_input_error(code: str | None) -> bool:
    """True when a failed job's input is at fault, so running it again cannot help."""
    return code in INPUT_ERROR_CODES


# --- the files of a job -----------------------------------------------------------------

# The nine downloadable files, in production order; "{name}" is the output base name.
DOWNLOADS: tuple[str, ...] = (
    "{name}.glb",
    "{name}.fbx",
    "{name}_lod1.glb",
    "{name}_lod1.fbx",
    "{name}_lod2.glb",
    "{name}_lod2.fbx",
    "{name}_animated.glb",
    "{name}_animated.fbx",
    "{name}.usdz",
)
# Free previews, produced after the downloads; rig.json is written last.
PREVIEWS: tuple[str, ...] = ("preview.mp4", "viewer.glb", "rig.json")


# Base names that would make a download collide with a free preview ("viewer" -> viewer.glb,
# "preview" -> preview.mp4, "rig" -> rig.json): they get this suffix.
RESERVED_SUFFIX = "_model"


def _reserved_stems() -> set[str]:
    return {p.rsplit(".", 1)[0].lower() for p in PREVIEWS}


def safe_name(stem: str) -> str:
    """A file-system and URL safe base name for outputs, never one whose files could be
    mistaken for a free preview (``viewer`` -> ``viewer_model``)."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-")
    s = (s or "model")[:80].rstrip("._-") or "model"
    downloads = {f.format(name=s).lower() for f in DOWNLOADS}
    if s.lower() in _reserved_stems() or downloads & {p.lower() for p in PREVIEWS}:
        s += RESERVED_SUFFIX
    return s


def output_files(name: str) -> list[str]:
    """Every file a rig_only job produces, in the order they appear."""
    name = safe_name(name)
    return [f.format(name=name) for f in DOWNLOADS] + list(PREVIEWS)


def is_download(filename: str) -> bool:
    """True for the paid files, False for the free previews."""
    return filename not in PREVIEWS
