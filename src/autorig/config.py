"""One settings tree for the whole project: the shared core, the web backend and the worker.

    Settings (the tree: ``settings()``)       eval_data, and data_dir from _Shared
    ├── web: WebSettings                       the backend (``web_settings()``), plain env names
    └── worker: WorkerSettings                 a worker (``worker_settings()``), AUTORIG_WORKER_*

Values come from the environment (and a ``.env`` file in the working directory). Every section
shares ``_Shared``: ``data_dir`` is declared there once (``AUTORIG_DATA_DIR``, or ``DATA_DIR``).
Each deployable reads only its own section (a worker machine needs no backend secrets); the
embedded default (``autorig serve``) needs no configuration at all. Secrets are ``SecretStr``:
read them with ``.get_secret_value()`` where they are used, never logged or shown.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET = "changethis"
# Bind addresses that listen everywhere: not an address anyone can reach a server at.
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def base_url(public_base_url: str | None, host: str, port: int) -> str:
    """Where clients reach a server: its public base URL, or one made from the address it
    listens on (a wildcard bind becomes 127.0.0.1; an IPv6 address is put in brackets)."""
    if public_base_url:
        return public_base_url.rstrip("/")
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a host name
    return f"http://{host}:{port}"


def _split_list(value: object) -> object:
    """``a,b`` or ``["a", "b"]`` from the environment; a list passes through."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class _Shared(BaseSettings):
    """What every section of the tree has: where local state lives."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(
        Path("var"),
        validation_alias=AliasChoices("AUTORIG_DATA_DIR", "DATA_DIR", "data_dir"),
        description="root for local state: database, storage, outbox, the local worker's files",
    )


# --- the web backend ----------------------------------------------------------------------


class GumroadProduct(BaseModel):
    """One row of ``GUMROAD_PRODUCTS``: a product (or one of its variants) and the credits it buys."""

    product: str = Field(min_length=1, description="product permalink, short id or id, as in the ping")
    variant: str | None = Field(None, description="a variant option (e.g. '500 credits'); None: any")
    credits: int = Field(ge=0, description="credits per unit bought")
    label: str | None = None
    url: str | None = Field(None, description="the buy link (default https://gumroad.com/l/<product>)")


class WebSettings(_Shared):
    """The backend (``autorig serve``, or uvicorn on ``autorig.web.app:create_app``).

    Environment names are the plain ones of the deployment docs (``DATABASE_URL``, ``WORKERS``,
    ``SMTP_HOST``...). Everything has a default that works on one machine.
    """

    environment: Literal["local", "production"] = Field("local", description="local allows default secrets")
    secret_key: SecretStr = Field(SecretStr(DEFAULT_SECRET), description="signs sessions and links; must be set in production")
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("HOST", "AUTORIG_HOST"))
    port: int = Field(8000, validation_alias=AliasChoices("PORT", "AUTORIG_PORT"))
    public_base_url: str | None = Field(None, description="how browsers and workers reach this backend")
    database_url: str | None = Field(None, description="default: SQLite file in data_dir; postgresql://... for PostgreSQL")
    instance_id: str = Field(default_factory=socket.gethostname, description="names this backend's claims on tasks")
    forwarded_allow_ips: str = Field(
        "",
        description="proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated IPs or "
        "networks, '*' for any); empty: none, the client is the peer of the connection",
    )
    local_worker_nice: int = Field(
        10, ge=0, le=19, description="autorig serve: niceness of its local worker and engines (the API stays responsive)"
    )
    web_processes: int = Field(
        1, ge=1, le=64, description="autorig serve: backend processes on the port (one runs the background services)"
    )
    view_cache_s: float = Field(
        1.0, ge=0, description="GET /api/task/{id} and /api/queue/status answers are reused this long (0: never)"
    )

    # Workers.
    workers: Annotated[list[str], NoDecode] = Field(default_factory=list, description="worker base URLs")
    worker_token: SecretStr = Field(SecretStr(""), description="shared secret sent to workers in protocol.TOKEN_HEADER")
    worker_http_timeout_s: float = 15.0
    convert_timeout_s: float = Field(600.0, description="longest FBX->GLB conversion call")
    worker_dead_after_s: float = Field(120.0, description="a worker silent this long loses its tasks to the queue")
    max_attempts: int = Field(3, ge=1, description="jobs tried per task before it is an error")
    claim_lease_s: float = Field(60.0, description="how long a claim on a task (submitting a job) may last")

    # Storage.
    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: Path | None = Field(None, description="local storage root; default data_dir/storage")
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_public_base_url: str | None = Field(None, description="public URL of the bucket (uploads are fetched from it)")
    s3_prefix: str = ""
    max_upload_mb: int = Field(200, ge=1)

    # Email.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: Literal["none", "starttls", "ssl"] = Field("starttls", description="true=starttls, false=none")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    email_from: str = "autorig <noreply@localhost>"
    outbox_dir: Path | None = Field(None, description="where emails go without SMTP; default data_dir/outbox")

    # Background services (seconds).
    dispatch_interval_s: float = 30.0
    progress_interval_s: float = 5.0
    progress_concurrency: int = Field(64, ge=1, description="worker requests in flight in one progress cycle")
    mailer_interval_s: float = 30.0
    restart_after_error_s: float = Field(60.0, description="restart is offered this long after an error")
    stall_restart_s: float = Field(900.0, description="restart is offered when processing makes no progress this long")
    default_job_seconds: float = Field(
        60.0, description="wait estimate before any job has finished (a full job on 2 cores: 20-60 s)"
    )

    # Accounts, credits, payments, admin (issue 6).
    user_free_limit: int = Field(30, ge=0, description="credits a new account starts with")
    anon_free_limit: int = Field(3, ge=0, description="tasks an anonymous browser (cookie, and its IP) may create")
    admin_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="accounts with the admin API; they download without paying"
    )
    login_link_minutes: float = Field(15.0, gt=0, description="how long an emailed sign-in link works")
    session_days: float = Field(30.0, gt=0, description="how long a sign-in lasts")
    cookie_secure: bool | None = Field(None, description="Secure flag on cookies (default: when the base URL is https)")
    google_client_id: str | None = Field(None, description="Google sign-in (OpenID Connect); hidden while unset")
    google_client_secret: SecretStr | None = None
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    price_file_credits: int = Field(1, ge=0, description="credits for one downloadable file of a task")
    price_all_credits: int = Field(3, ge=0, description="credits for the whole set of a task as one ZIP")
    gumroad_webhook_token: SecretStr | None = Field(
        None, description="secret in the ping URL (/api-gumroad?token=...); every ping is refused while unset"
    )
    gumroad_access_token: SecretStr | None = Field(
        None, description="when set, each ping's sale is confirmed through Gumroad's API"
    )
    gumroad_api_base: str = "https://api.gumroad.com"
    gumroad_seller_id: str | None = Field(None, description="when set, pings for another seller are refused")
    gumroad_products: list[GumroadProduct] = Field(
        default_factory=list,
        description='what each product (or variant) gives, JSON: [{"product": "<permalink or id>", '
        '"variant": null, "credits": 100, "label": "100 credits", "url": "https://you.gumroad.com/l/<permalink>"}]',
    )
    gumroad_accept_test: bool = Field(False, description="credit test pings (Gumroad's test ping, the seller's test buys)")
    restart_command: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="what POST /api/admin/service/restart runs; empty: re-execute this process"
    )

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, value: object) -> object:
        value = _split_list(value)
        if isinstance(value, list):
            return [str(v).rstrip("/") for v in value]
        return value

    @field_validator("admin_emails", mode="before")
    @classmethod
    def _admin_emails(cls, value: object) -> object:
        value = _split_list(value)
        if isinstance(value, list):
            return [str(v).strip().lower() for v in value if str(v).strip()]
        return value

    _restart_command = field_validator("restart_command", mode="before")(_split_list)

    @field_validator("smtp_tls", mode="before")
    @classmethod
    def _smtp_tls(cls, value: object) -> object:
        text = str(value).strip().lower()
        return {"true": "starttls", "1": "starttls", "yes": "starttls", "false": "none", "0": "none", "no": "none"}.get(
            text, text
        )

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> WebSettings:
        if self.environment != "local":
            if self.secret_key.get_secret_value() == DEFAULT_SECRET:
                raise ValueError("SECRET_KEY is the default; set it (ENVIRONMENT is not local)")
            if not self.worker_token.get_secret_value():
                raise ValueError("WORKER_TOKEN is empty; set it (ENVIRONMENT is not local)")
        if self.storage_backend == "s3" and not (self.s3_bucket and self.s3_public_base_url):
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET and S3_PUBLIC_BASE_URL")
        return self

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this pattern
    @property
    def base_url(self) -> str:
        """Public base URL without trailing slash."""
        return base_url(self.public_base_url, self.host, self.port)

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this pattern
    @property
    def database_url_resolved(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'autorig.db').resolve()}"

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this pattern
    @property
    def storage_root(self) -> Path:
        return (self.storage_dir or self.data_dir / "storage").resolve()

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this pattern
    @property
    def outbox_root(self) -> Path:
        return (self.outbox_dir or self.data_dir / "outbox").resolve()

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def google_enabled(self) -> bool:
        secret = self.google_client_secret
        return bool(self.google_client_id and secret is not None and secret.get_secret_value())

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.base_url.startswith("https://")


@lru_cache
def web_settings() -> WebSettings:
    return WebSettings()


# --- the worker -------------------------------------------------------------------------


def _default_capacity() -> int:
    # One Blender job per two cores: each job is single-threaded most of the time,
    # and the other core keeps the HTTP side and file serving responsive.
    return max(1, (os.cpu_count() or 1) // 2)


class WorkerSettings(_Shared):
    """The rigging worker (``autorig worker``): HTTP service, job limits, input download, clean-up.

    Lists (``allowed_hosts``, ``engine_command``) read from the environment as JSON
    (``'["127.0.0.1:8000"]'``) or comma-separated (``127.0.0.1:8000,localhost:8000``).
    """

    model_config = SettingsConfigDict(env_prefix="AUTORIG_WORKER_", env_file=".env", extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", description="interface to listen on")
    port: int = Field(8001, description="port to listen on")
    own_dir: Path | None = Field(
        None,
        validation_alias=AliasChoices("AUTORIG_WORKER_DATA_DIR", "own_dir"),
        description="job records, inputs and outputs; default data_dir/worker",
    )
    token: SecretStr = Field(
        SecretStr(""),
        description="shared secret the backend sends in protocol.TOKEN_HEADER; "
        "may be empty only when listening on loopback (then anyone on this machine may submit)",
    )
    capacity: int = Field(default_factory=_default_capacity, ge=1, description="jobs at once (download + rigging)")
    job_timeout_s: float = Field(600.0, gt=0, description="wall-clock limit of one rigging process")
    job_memory_mb: int = Field(8192, ge=256, description="address-space limit (RLIMIT_AS) of one rigging process")
    max_input_mb: int = Field(200, ge=1, description="largest input file accepted")
    download_timeout_s: float = Field(60.0, gt=0, description="limit for fetching one input, all redirects included")
    max_redirects: int = Field(5, ge=0, description="redirect hops followed when fetching an input")
    keep_outputs_hours: float = Field(48.0, gt=0, description="finished jobs and their files are deleted after this")
    cleanup_interval_s: float = Field(600.0, gt=0, description="how often the clean-up loop runs")
    min_free_disk_mb: int = Field(2048, ge=0, description="below this much free disk, new jobs get 503")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1:8000", "localhost:8000"],
        description="host or host:port that inputs may come from even though they are private or loopback "
        "addresses (the embedded default allows its own backend)",
    )
    public_base_url: str | None = Field(None, description="base of output_urls and progress_page (default http://{host}:{port})")
    engine_command: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [sys.executable, "-m", "autorig"],
        description="how to start the engine CLI; the worker appends `rig ...` or `convert ...`",
    )
    engine_only: Literal["all", "rig"] = Field(
        "all", description="`autorig rig --only`: all outputs, or just the rigged GLB/FBX and rig.json"
    )
    convert_timeout_s: float = Field(180.0, gt=0, description="wall-clock limit of one FBX-to-GLB conversion")
    convert_capacity: int = Field(1, ge=1, description="conversions at once (apart from job capacity)")
    retry_after_s: int = Field(15, ge=1, description="Retry-After sent with 503 when all slots are busy")

    _lists = field_validator("allowed_hosts", "engine_command", mode="before")(_split_list)

    @property
    def worker_dir(self) -> Path:
        """This worker's folder: job records, inputs and outputs."""
        return self.own_dir or self.data_dir / "worker"

    @property
    def base_url(self) -> str:
        """Where clients reach this worker: public_base_url, or derived from host and port."""
        return base_url(self.public_base_url, self.host, self.port)


@lru_cache
def worker_settings() -> WorkerSettings:
    return WorkerSettings()


# --- the tree ---------------------------------------------------------------------------


class CoreSettings(_Shared):
    """The core alone (``autorig eval``, the CLI's database step): no section is read, so a
    machine without the backend's secrets can use it."""

    eval_data: Path = Field(
        Path("../shared/eval"),
        validation_alias=AliasChoices("AUTORIG_EVAL_DATA", "eval_data"),
        description="the evaluation characters (autorig eval, slow tests)",
    )


class Settings(CoreSettings):
    """The whole tree: the core and both sections."""

    web: WebSettings = Field(default_factory=WebSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)


@lru_cache
def settings() -> Settings:
    return Settings()


@lru_cache
def core_settings() -> CoreSettings:
    return CoreSettings()
