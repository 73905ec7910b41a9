"""WebSettings: plain environment names, list parsing, derived values, refused default secrets."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from autorig.config import WebSettings


def test_plain_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WORKERS", "http://a:8001/, http://b:8001")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/autorig")
    monkeypatch.setenv("SMTP_TLS", "false")
    monkeypatch.setenv("DISPATCH_INTERVAL_S", "7")
    monkeypatch.setenv("MAX_ATTEMPTS", "5")
    monkeypatch.setenv("AUTORIG_DATA_DIR", str(tmp_path))
    s = WebSettings(_env_file=None)
    assert s.workers == ["http://a:8001", "http://b:8001"]
    assert s.database_url_resolved == "postgresql://u@db/autorig"
    assert s.smtp_tls == "none" and s.dispatch_interval_s == 7 and s.max_attempts == 5
    assert s.storage_root == (tmp_path / "storage").resolve()
    monkeypatch.setenv("WORKERS", '["http://c:1"]')
    assert WebSettings(_env_file=None).workers == ["http://c:1"]


def test_defaults_work_on_one_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WORKERS", "DATABASE_URL", "PUBLIC_BASE_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    s = WebSettings(_env_file=None, host="0.0.0.0", port=9000)
    assert s.base_url == "http://127.0.0.1:9000"
    assert s.database_url_resolved.startswith("sqlite:///") and s.database_url_resolved.endswith("autorig.db")
    assert s.dispatch_interval_s == 30 and s.max_attempts == 3 and s.restart_after_error_s == 60


def test_default_secret_refused_outside_local_mode() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        WebSettings(_env_file=None, environment="production", worker_token="t")
    with pytest.raises(ValidationError, match="WORKER_TOKEN"):
        WebSettings(_env_file=None, environment="production", secret_key="s3cret")
    assert WebSettings(_env_file=None, environment="production", secret_key="s3cret", worker_token="t")


def test_s3_needs_bucket_and_public_url() -> None:
    with pytest.raises(ValidationError, match="S3_BUCKET"):
        WebSettings(_env_file=None, storage_backend="s3")


def test_one_tree_one_data_dir_secrets_hidden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from autorig.config import Settings, WorkerSettings

    for name in ("AUTORIG_WORKER_DATA_DIR", "DATA_DIR", "SECRET_KEY", "WORKER_TOKEN", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTORIG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2")
    tree = Settings(_env_file=None)
    assert tree.data_dir == tree.web.data_dir == tree.worker.data_dir == tmp_path
    assert tree.worker.worker_dir == tmp_path / "worker"  # the worker's folder follows the one data_dir
    monkeypatch.setenv("AUTORIG_WORKER_DATA_DIR", str(tmp_path / "elsewhere"))
    assert WorkerSettings(_env_file=None).worker_dir == tmp_path / "elsewhere"
    web = tree.web
    assert web.smtp_password is not None and web.smtp_password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(web) and "changethis" not in repr(web)


def test_base_url_is_one_helper_and_brackets_ipv6() -> None:
    from autorig.config import WorkerSettings, base_url

    assert base_url(None, "::1", 8000) == "http://[::1]:8000"
    assert base_url(None, "::", 8000) == base_url(None, "0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert base_url("https://rig.example/", "::1", 1) == "https://rig.example"
    assert WebSettings(_env_file=None, host="fe80::1", port=9000).base_url == "http://[fe80::1]:9000"
    assert WorkerSettings(_env_file=None, host="::1", port=8001).base_url == "http://[::1]:8001"
