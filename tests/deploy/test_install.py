"""The deploy kit for real: ``deploy/install.sh`` on a temporary prefix, the unit files through
``systemd-analyze verify``, and Debian's nginx (as an ordinary process on a loopback port, with
the generated site file) in front of the installed backend and a worker.

The install uses ``--no-system`` (nothing outside the prefix) and ``--venv-from`` the test's own
virtualenv, so no pip run; everything else is what an operator's run does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from webkit import REPO, TINY_GLB, FakeWorker, free_port, wait_http

INSTALL = REPO / "deploy" / "install.sh"
VENV = Path(sys.prefix)
MB = 1024 * 1024


def install(prefix: Path, *args: str) -> str:
    """Run the installer; its output (it lists every file it changed)."""
    cmd = [str(INSTALL), "--prefix", str(prefix), "--venv-from", str(VENV), "--no-system", "--server-name", "localhost", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHON": sys.executable})
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()}


def read_env(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def set_env_line(path: Path, key: str, value: str) -> None:
    text = path.read_text()
    text, n = re.subn(rf"^{key}=.*$", f"{key}={value}", text, flags=re.M)
    path.write_text(text if n else text + f"{key}={value}\n")


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("opt") / "autorig"
    install(p)
    return p


def test_install_creates_the_layout(prefix: Path) -> None:
    static = REPO / "src" / "autorig" / "web" / "static"
    assert (prefix / "venv").resolve() == VENV.resolve()
    assert (prefix / "static" / "index.html").read_bytes() == (static / "index.html").read_bytes()
    # three.js is built into the copy (the 3D viewer loads it from there).
    assert (prefix / "static" / "vendor" / "three" / "build" / "three.module.js").is_file()
    env = read_env(prefix / "etc" / "autorig.env")
    assert env["ENVIRONMENT"] == "production" and len(env["SECRET_KEY"]) >= 32
    assert env["WORKER_TOKEN"] == env["AUTORIG_WORKER_TOKEN"] and len(env["WORKER_TOKEN"]) >= 32
    assert (prefix / "var" / "autorig.db").is_file()  # migrated
    site = (prefix / "etc" / "nginx" / "autorig.conf").read_text()
    assert f"root {prefix}/static;" in site and "client_max_body_size 201m;" in site
    assert "@" not in re.sub(r"#.*", "", site).replace("@too_large", "")  # every placeholder filled


def test_units_pass_systemd_analyze_verify(prefix: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here (Debian package systemd)")
    units = sorted((prefix / "etc" / "systemd").glob("*.service"))
    assert [u.name for u in units] == ["autorig-backend.service", "autorig-worker.service"]
    for u in units:
        text = u.read_text()
        for key in (
            "Restart=on-failure",
            "User=autorig",
            f"EnvironmentFile={prefix}/etc/autorig.env",
            "MemoryMax=",
            "LimitNOFILE=",
            "TimeoutStopSec=",
            "KillSignal=SIGTERM",
        ):
            assert key in text, (u.name, key)
    r = subprocess.run(["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr


def test_update_replaces_stale_files_then_changes_nothing(prefix: Path) -> None:
    static = prefix / "static"
    source = REPO / "src" / "autorig" / "web" / "static"
    (static / "js" / "app.js").write_text("// an old release\n")
    (static / "js" / "gone.js").write_text("// a file the new release no longer has\n")
    env_file = prefix / "etc" / "autorig.env"
    set_env_line(env_file, "SMTP_HOST", "mail.example.com")  # the operator's edit
    secret = read_env(env_file)["SECRET_KEY"]

    out = install(prefix)
    assert "updated static/js/app.js" in out and "removed static/js/gone.js" in out
    assert (static / "js" / "app.js").read_bytes() == (source / "js" / "app.js").read_bytes()
    assert not (static / "js" / "gone.js").exists()
    env = read_env(env_file)
    assert env["SMTP_HOST"] == "mail.example.com" and env["SECRET_KEY"] == secret  # kept

    before = snapshot(prefix / "static") | {f"etc/{k}": v for k, v in snapshot(prefix / "etc").items()}
    out = install(prefix)
    after = snapshot(prefix / "static") | {f"etc/{k}": v for k, v in snapshot(prefix / "etc").items()}
    assert "nothing changed" in out, out
    assert after == before  # same content, and not even rewritten (mtimes)


# --- nginx in front of the backend ------------------------------------------------------------


def nginx_conf(tmp: Path, site: Path) -> Path:
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
        (tmp / d).mkdir(exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""  # as root, workers would switch to nobody
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {tmp}/logs/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {site};
}}
""")
    return conf


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An installation behind nginx: the backend started as its unit would (``autorig serve``
    with the env file), a fake worker, and nginx with the generated site on a loopback port."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (apt-get install nginx; ./dev setup --dev does)")
    tmp = tmp_path_factory.mktemp("stack")
    prefix = tmp / "autorig"
    nginx_port, backend_port = free_port(), free_port()
    install(prefix, "--listen", f"127.0.0.1:{nginx_port}", "--backend", f"127.0.0.1:{backend_port}")
    env_file = prefix / "etc" / "autorig.env"
    # The operator's settings, then an update re-renders the site to fit the upload limit.
    set_env_line(env_file, "MAX_UPLOAD_MB", "160")
    set_env_line(env_file, "PORT", str(backend_port))
    set_env_line(env_file, "PUBLIC_BASE_URL", f"http://127.0.0.1:{nginx_port}")
    install(prefix, "--listen", f"127.0.0.1:{nginx_port}", "--backend", f"127.0.0.1:{backend_port}")
    site = prefix / "etc" / "nginx" / "autorig.conf"
    assert "client_max_body_size 161m;" in site.read_text()

    env = read_env(env_file)
    worker = FakeWorker(job_seconds=1.0, capacity=2, token=env["WORKER_TOKEN"]).start()
    procs: list[subprocess.Popen] = []
    try:
        backend_env = {
            **os.environ,
            **env,
            "WORKERS": worker.url,
            "DISPATCH_INTERVAL_S": "0.5",
            "PROGRESS_INTERVAL_S": "0.3",
            "MAILER_INTERVAL_S": "0.5",
        }
        backend = subprocess.Popen([str(prefix / "venv" / "bin" / "autorig"), "serve"], env=backend_env, cwd=prefix)
        procs.append(backend)
        wait_http(f"http://127.0.0.1:{backend_port}/api/health", proc=backend)
        conf = nginx_conf(tmp, site)
        ngx = subprocess.Popen(
            [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "logs" / "error.log"), "-g", "daemon off;"]
        )
        procs.append(ngx)
        wait_http(f"http://127.0.0.1:{nginx_port}/api/health", proc=ngx)
        yield {
            "url": f"http://127.0.0.1:{nginx_port}",
            "prefix": str(prefix),
            "backend": f"http://127.0.0.1:{backend_port}",
            "worker": worker.url,
            "tmp": str(tmp),
        }
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        worker.kill()


def sparse_glb(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that passes the content check (GLB magic), without using the disk."""
    with open(path, "wb") as f:
        f.write(TINY_GLB)
        f.truncate(size)
    return path


def test_nginx_serves_the_copy_and_proxies_the_rest(stack: dict[str, str], tmp_path: Path) -> None:
    url, prefix = stack["url"], Path(stack["prefix"])
    http = httpx.Client(base_url=url, timeout=120)
    # Pages and their files come from the installed copy, not from the backend's package.
    marker = f"<!-- installed copy {os.getpid()} -->"
    index = prefix / "static" / "index.html"
    index.write_text(index.read_text() + marker)
    (prefix / "static" / "js" / "marker.js").write_text("// marker\n")
    home = http.get("/")
    assert home.status_code == 200 and marker in home.text and home.headers["content-type"].startswith("text/html")
    assert http.get("/static/js/marker.js").text == "// marker\n"
    assert "<html" in http.get("/task/0123abcd").text.lower()
    assert http.get("/static/vendor/three/build/three.module.js").status_code == 200
    # The API through the proxy.
    assert http.get("/api/health").json()["status"] == "ok"
    q = http.get("/api/queue/status")
    assert q.status_code == 200 and q.json()["workers"] == "1/1"
    assert http.get("/api/site").json()["max_upload_mb"] == 160

    # A task end to end through nginx: the worker fetches the upload at PUBLIC_BASE_URL/storage.
    r = http.post("/api/task/create", files={"file": ("hero.glb", TINY_GLB)})
    assert r.status_code == 201, r.text
    tid = r.json()["task_id"]
    deadline = time.monotonic() + 60
    while (t := http.get(f"/api/task/{tid}").json())["status"] not in ("done", "error"):
        assert time.monotonic() < deadline, t
        time.sleep(0.3)
    assert t["status"] == "done", t
    inputs = httpx.get(stack["worker"] + "/test/stats").json()["inputs"]
    assert any(u.startswith(url + "/storage/") for u in inputs), inputs

    # 150 MB goes through; beyond the limit, a clear 413 from nginx before the body is read.
    with open(sparse_glb(tmp_path / "big.glb", 150 * MB), "rb") as f:
        r = http.post("/api/task/create", files={"file": ("big.glb", f)})
    assert r.status_code == 201, r.text
    assert http.get(f"/api/task/{r.json()['task_id']}").status_code == 200
    with open(sparse_glb(tmp_path / "huge.glb", 200 * MB), "rb") as f:
        r = http.post("/api/task/create", files={"file": ("huge.glb", f)})
    assert r.status_code == 413
    body = r.json()
    assert body["error"] == "too_large" and "160 MB" in body["detail"]
    # Just past the limit, within nginx's allowance for the multipart envelope: the backend's own 413.
    with open(sparse_glb(tmp_path / "over.glb", 160 * MB + 512 * 1024), "rb") as f:
        r = http.post("/api/task/create", files={"file": ("over.glb", f)})
    assert r.status_code == 413 and "160 MB" in json.dumps(r.json())
