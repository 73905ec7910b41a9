"""What ``GET /api/status`` tells the backend: capacity, free slots, disk, average job time."""

from __future__ import annotations

import shutil
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from autorig import __version__
from autorig.config import WorkerSettings
from autorig.protocol import JobState, WorkerStatus
from autorig.worker.store import JobRecord

# The average job time covers this many recent finished jobs.
RECENT_JOBS = 20
MB = 1024 * 1024


def free_disk_bytes(path: Path) -> int:
    path.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(path).free


def disk_problem(settings: WorkerSettings) -> str | None:
    """Why new work is refused for lack of disk, or None."""
    free = free_disk_bytes(settings.worker_dir)
    if free < settings.min_free_disk_mb * MB:
        return (
            f"free disk space is low: {free // MB} MB free in {settings.worker_dir}, "
            f"at least {settings.min_free_disk_mb} MB needed"
        )
    return None


class JobTimes:
    """Durations (created to finished, seconds) of the most recent successful rig jobs."""

    def __init__(self, records: Iterable[JobRecord] = ()) -> None:
        self._recent: deque[float] = deque(maxlen=RECENT_JOBS)
        done = [(r.finished_at, r) for r in records if r.kind == "rig" and r.state == JobState.done and r.finished_at]
        for _, r in sorted(done, key=lambda p: p[0]):
            self.add(r)

    def add(self, record: JobRecord) -> None:
        if record.finished_at and record.state == JobState.done:
            self._recent.append((record.finished_at - record.created_at).total_seconds())

    def average(self) -> float | None:
        return round(sum(self._recent) / len(self._recent), 2) if self._recent else None


def worker_status(settings: WorkerSettings, records: Iterable[JobRecord], times: JobTimes) -> WorkerStatus:
    rig_jobs = [r for r in records if r.kind == "rig"]
    queued = sum(r.state == JobState.queued for r in rig_jobs)
    active = sum(r.state == JobState.running for r in rig_jobs)
    return WorkerStatus(
        online=True,
        accepting=disk_problem(settings) is None,
        capacity=settings.capacity,
        free_slots=max(0, settings.capacity - queued - active),
        active_jobs=active,
        queued_jobs=queued,
        avg_job_seconds=times.average(),
        version=__version__,
        free_disk_bytes=free_disk_bytes(settings.worker_dir),
    )
