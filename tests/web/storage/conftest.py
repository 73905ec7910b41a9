"""The ``s3_server`` fixture: each S3 test runs against moto and against SeaweedFS (``s3kit``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from s3kit import S3Server, moto_server, seaweedfs_server


@pytest.fixture(params=["moto", "seaweedfs"])
def s3_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[S3Server]:
    """An S3 server with the bucket ``rigs`` (uploads under ``autorig/`` public)."""
    if request.param == "moto":
        yield from moto_server()
    else:
        yield from seaweedfs_server(tmp_path)
