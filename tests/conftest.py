"""Shared test settings: where the evaluation characters are, and the PostgreSQL URL."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EVAL_DATA = Path(os.environ.get("AUTORIG_EVAL_DATA", REPO.parent / "shared" / "eval"))


@pytest.fixture(scope="session")
def eval_data() -> Path:
    if not (EVAL_DATA / "characters.txt").exists():
        pytest.skip(f"evaluation data not found at {EVAL_DATA} (set AUTORIG_EVAL_DATA)")
    return EVAL_DATA
