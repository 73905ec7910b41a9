"""Serving outputs: 404 until a file is whole, then 200 with Range and ETag.

The engine renames each output into place when it is complete, so "the file exists" means
"the file is whole"; temporary names are never served because only the names listed for the job
(``protocol.output_files``) are. Once in place an output never changes, so a strong ETag from
size and modification time is safe, and ``If-None-Match`` gets 304. Range requests (206, 416)
are Starlette's FileResponse.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from autorig.worker.errors import NotFound

MEDIA_TYPES = {
    ".glb": "model/gltf-binary",
    ".fbx": "application/octet-stream",
    ".usdz": "model/vnd.usdz+zip",
    ".mp4": "video/mp4",
    ".json": "application/json",
}
# Outputs never change once complete; clients may keep them as long as the worker does.
CACHE_CONTROL = "private, max-age=3600"


def etag(path: Path) -> str:
    st = path.stat()
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}"'


def _matches(if_none_match: str, tag: str) -> bool:
    candidates = [c.strip() for c in if_none_match.split(",")]
    return "*" in candidates or tag in candidates or f"W/{tag}" in candidates


def serve(path: Path, request: Request) -> Response:
    """The response for an output file that is listed for its job."""
    if not path.is_file():
        raise NotFound(f"{path.name} is not ready yet", headers={"Cache-Control": "no-store"})
    tag = etag(path)
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
    inm = request.headers.get("if-none-match")
    if inm and _matches(inm, tag):
        return Response(status_code=304, headers=headers)
    media_type = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=media_type, headers=headers, filename=path.name)
