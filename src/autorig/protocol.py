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
worth another attempt); a failed conversion answers ``ErrorBody`` (``{"error": <code>, "detail":
<sentence>}``), 422 for input errors, 5xx for the others.

Named here once, for both sides: the job's files (``OUTPUTS``: name, kind, order, price), the
skeleton presets (``Skeleton``), the error codes and the error body, and the progress estimate
(``files_fraction``, ``job_progress``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
    error_code: str | None = Field(
        None, description="why it failed: an INPUT_ERROR_CODES code (final) or an infrastructure code (retried)"
    )
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


# --- errors -----------------------------------------------------------------------------


class ErrorBody(BaseModel):
    """Every error answer, the backend's and a worker's, has this one shape: ``error`` names it
    (a worker: the job's error code, e.g. ``corrupt_file``, or a short phrase, ``busy``, ``not
    found``; the backend: its error class, ``PaymentRequired``), ``detail`` is a sentence for
    people; more fields may follow (``fields`` of a validation error, ``buy_url``)."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str


def error_body(error: str, detail: str, **extra: object) -> dict[str, object]:
    """The JSON of an error answer (``ErrorBody``)."""
    return ErrorBody.model_validate({"error": error, "detail": detail, **extra}).model_dump()


# A job's ``error_code``, every one named here. The engine's own (rigging.errors.RigError kinds,
# written on its last stderr line, see console.py):
ENGINE_ERROR_CODES: tuple[str, ...] = (
    "unsupported_format",
    "corrupt_file",
    "empty_scene",
    "not_a_mesh",
    "not_a_biped",
    "too_large",
)
REFUSED_URL = "refused_url"  # the worker refused the input URL (netcheck)
DOWNLOAD_FAILED = "download_failed"  # fetching the input failed
# Infrastructure codes: worth another attempt.
TIMEOUT = "timeout"  # the engine ran out of time
CRASHED = "crashed"  # a signal, or memory exhausted
INTERNAL = "internal"  # any other failure (a bug)
WORKER_RESTARTED = "worker_restarted"  # the worker restarted or shut down under the job
WORKER_LOST = "worker_lost"  # the backend's: the worker stopped answering, or forgot the job

# A job that failed with one of these failed because of its input: final, never retried.
INPUT_ERROR_CODES: frozenset[str] = frozenset({*ENGINE_ERROR_CODES, REFUSED_URL, DOWNLOAD_FAILED})


def is_input_error(code: str | None) -> bool:
    """True when a failed job's input is at fault, so running it again cannot help."""
    return code in INPUT_ERROR_CODES


# --- the files of a job -----------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """One file of a job. ``pattern``: its name, ``{name}`` standing for the output base name;
    ``kind``: what it is (``rigged``, ``lod1``, ``lod2``, ``animated``, ``usdz``, ``preview``,
    ``viewer``, ``report``); ``price``: ``download`` (paid) or ``preview`` (free); ``stage``: the
    engine stage that writes it (``export``, ``outputs`` = ``blender.outputs.write_all``, ``report``)."""

    pattern: str
    kind: str
    price: Literal["download", "preview"]
    stage: Literal["export", "outputs", "report"]

    @property
    def format(self) -> str:
        """The file's extension without the dot: glb, fbx, usdz, mp4, json."""
        return self.pattern.rsplit(".", 1)[1]

    def filename(self, name: str) -> str:
        return self.pattern.format(name=name)


# Every file a job produces, in production order: the one list of outputs.
OUTPUTS: tuple[Output, ...] = (
    Output("{name}.glb", "rigged", "download", "export"),
    Output("{name}.fbx", "rigged", "download", "export"),
    Output("{name}_lod1.glb", "lod1", "download", "outputs"),
    Output("{name}_lod1.fbx", "lod1", "download", "outputs"),
    Output("{name}_lod2.glb", "lod2", "download", "outputs"),
    Output("{name}_lod2.fbx", "lod2", "download", "outputs"),
    Output("{name}_animated.glb", "animated", "download", "outputs"),
    Output("{name}_animated.fbx", "animated", "download", "outputs"),
    Output("{name}.usdz", "usdz", "download", "outputs"),
    Output("preview.mp4", "preview", "preview", "outputs"),
    Output("viewer.glb", "viewer", "preview", "outputs"),
    Output("rig.json", "report", "preview", "report"),
)
# Derived views of OUTPUTS: the paid files and the free previews (rig.json last).
DOWNLOADS: tuple[str, ...] = tuple(o.pattern for o in OUTPUTS if o.price == "download")
PREVIEWS: tuple[str, ...] = tuple(o.pattern for o in OUTPUTS if o.price == "preview")


def _only(kind: str) -> str:
    (pattern,) = (o.pattern for o in OUTPUTS if o.kind == kind)
    return pattern


REPORT_NAME = _only("report")  # rig.json: written last, so its presence means the job is over
PREVIEW_VIDEO = _only("preview")  # preview.mp4


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


def output_files(name: str, stage: str | None = None) -> list[str]:
    """Every file a rig_only job produces (or only those ``stage`` writes), in the order they appear."""
    name = safe_name(name)
    return [o.filename(name) for o in OUTPUTS if stage is None or o.stage == stage]


def is_download(filename: str) -> bool:
    """True for the paid files, False for the free previews."""
    return filename not in PREVIEWS


# --- progress ---------------------------------------------------------------------------

# Share of a job's progress given to downloading the input; the engine's 0..1 gets the rest.
DOWNLOAD_SHARE = 0.05
# Progress shown short of done while a job still runs (done is exactly 1.0).
RUNNING_CAP = 0.99


def files_fraction(ready: Iterable[str], order: Sequence[str]) -> float:
    """How far through ``order`` (files, or their URLs, in production order) the ``ready`` ones
    reach: files appear in order, so the last one ready says how far the producer is (0..1)."""
    done = set(ready)
    last = max((i + 1 for i, f in enumerate(order) if f in done), default=0)
    return last / max(1, len(order))


def job_progress(engine_fraction: float) -> float:
    """A running job's progress from the engine's own 0..1: after the download, short of done.
    The one estimate the worker reports and the backend keeps (from progress lines or files)."""
    fraction = min(1.0, max(0.0, engine_fraction))
    return min(RUNNING_CAP, DOWNLOAD_SHARE + (1 - DOWNLOAD_SHARE) * fraction)
