"""One settings tree for the whole project: core, the worker and the web backend.

Values come from the environment (and a ``.env`` file in the working directory).
Each deployable reads its own section; the embedded default (``autorig serve``)
needs no configuration at all.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    """Shared by everything: where data lives and where the evaluation set is."""

    model_config = SettingsConfigDict(env_prefix="AUTORIG_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="root for local state (database, storage, worker files)")
    eval_data: Path = Field(Path("../shared/eval"), description="the evaluation characters (autorig eval, slow tests)")


@lru_cache
def core_settings() -> CoreSettings:
    return CoreSettings()
