"""The progress page of a job: state, stage, progress, outputs, log tail; refreshes itself."""

from __future__ import annotations

from html import escape

from autorig.worker.runner import tail_lines
from autorig.worker.store import JobRecord, JobStore

REFRESH_S = 2
LOG_LINES = 40

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">{refresh}
<title>{title}</title>
<style>
 body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #222; }}
 .bar {{ background: #eee; border-radius: 4px; height: 14px; overflow: hidden; }}
 .bar > div {{ background: {color}; height: 100%; width: {percent:.0f}%; }}
 .state {{ font-weight: 600; color: {color}; }}
 .error {{ background: #fdecea; border-left: 4px solid #c62828; padding: .5rem .8rem; }}
 pre {{ background: #f6f6f6; padding: .6rem; overflow-x: auto; font-size: 12px; max-height: 24rem; }}
 td {{ padding: .1rem 1rem .1rem 0; }}
</style></head>
<body>
<h1>{name}</h1>
<p><span class="state">{state}</span> &middot; {stage} &middot; {percent:.0f}%</p>
<div class="bar" role="progressbar" aria-valuenow="{percent:.0f}" aria-valuemin="0" aria-valuemax="100">
<div></div></div>
{error}
<h2>Files</h2>
<table>{files}</table>
<h2>Log</h2>
<pre>{log}</pre>
<p><small>job {job_id} &middot; created {created}{finished}</small></p>
</body></html>
"""

COLORS = {"queued": "#777", "running": "#1565c0", "done": "#2e7d32", "failed": "#c62828"}


def progress_page(job: JobRecord, store: JobStore) -> str:
    job_dir = store.job_dir(job.id)
    lines = tail_lines(job_dir / "worker.log", LOG_LINES)
    engine = tail_lines(job_dir / "engine.err", LOG_LINES) + tail_lines(job_dir / "engine.out", LOG_LINES // 2)
    if engine:
        lines += ["--- engine ---", *engine[-LOG_LINES:]]
    # Names only, no links: the page may be shown to anyone who has the job id, and the
    # downloads are handed out (and charged) by the backend.
    rows = []
    for f in job.outputs:
        ready = "ready" if f in job.outputs_ready else ("not produced" if job.finished else "pending")
        rows.append(f"<tr><td>{escape(f)}</td><td>{ready}</td></tr>")
    return PAGE.format(
        refresh="" if job.finished else f'<meta http-equiv="refresh" content="{REFRESH_S}">',
        title=escape(f"{job.name}: {job.state.value}"),
        name=escape(job.name),
        state=job.state.value,
        color=COLORS[job.state.value],
        stage=escape(job.stage),
        percent=100 * job.progress,
        error=f'<p class="error">{escape(job.error)}</p>' if job.error else "",
        files="".join(rows),
        log=escape("\n".join(lines)) or "(nothing yet)",
        job_id=escape(job.id),
        created=job.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        finished=f", finished {job.finished_at.strftime('%H:%M:%S')}" if job.finished_at else "",
    )
