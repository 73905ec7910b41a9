"""Receive a multipart upload straight to a scratch file: never the whole file in memory, the
size limit enforced as bytes arrive, the format checked from the content.

FastAPI's ``UploadFile`` would spool the whole body before the endpoint runs (and only then
could the limit be checked), so the request stream is parsed here with python-multipart.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header

from autorig.web.domains.tasks.formats import FormatSniffer
from autorig.web.errors import BadRequest, BadUpload, UploadTooLarge

FILE_FIELD = "file"
MAX_FIELD_BYTES = 64 * 1024  # text fields (email, options): small by nature
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, headers and text fields on top of the file


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file_path: Path | None = None
    filename: str | None = None
    size: int = 0
    format: str | None = None

    def discard(self) -> None:
        if self.file_path is not None:
            self.file_path.unlink(missing_ok=True)


class _Receiver:
    def __init__(self, scratch: Path, max_bytes: int) -> None:
        self.scratch = scratch
        self.max_bytes = max_bytes
        self.form = ReceivedForm()
        self._headers: dict[str, str] = {}
        self._hname = b""
        self._hvalue = b""
        self._name: str | None = None
        self._buf = bytearray()
        self._file: IO[bytes] | None = None
        self._sniffer: FormatSniffer | None = None

    # python-multipart callbacks
    def on_part_begin(self) -> None:
        self._headers, self._name, self._buf = {}, None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._hname.decode("latin-1").lower()] = self._hvalue.decode("utf-8", "replace")
        self._hname, self._hvalue = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get("content-disposition", ""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if self._name == FILE_FIELD and filename is not None:
            if self.form.file_path is not None:
                raise BadUpload("send one file per task")
            self.form.filename = Path(filename.decode("utf-8", "replace").replace("\\", "/")).name or "model"
            self.form.file_path = self.scratch / f"upload-{secrets.token_hex(8)}"
            self._file = open(self.form.file_path, "wb")
            self._sniffer = FormatSniffer()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None:
            self.form.size += len(chunk)
            if self.form.size > self.max_bytes:
                raise UploadTooLarge(f"the file is larger than the limit of {self.max_bytes // (1024 * 1024)} MB")
            assert self._sniffer is not None
            self._sniffer.feed(chunk)
            self._file.write(chunk)
        else:
            self._buf += chunk
            if len(self._buf) > MAX_FIELD_BYTES:
                raise BadRequest(f"form field {self._name!r} is too long")

    def on_part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            assert self._sniffer is not None
            self.form.format = self._sniffer.result()
        elif self._name:
            self.form.fields[self._name] = self._buf.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


async def receive_multipart(
    content_type: str, content_length: str | None, stream: AsyncIterator[bytes], scratch: Path, max_bytes: int
) -> ReceivedForm:
    """Parse a ``multipart/form-data`` body; the ``file`` part goes to a file in ``scratch``.

    Raises ``UploadTooLarge`` as soon as the limit is passed (before reading the rest when the
    client sent ``Content-Length``), ``BadUpload`` for a file that is not a model.
    """
    ctype, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise BadRequest("send multipart/form-data with a 'file' part, or JSON/form with 'input_url'")
    if content_length and content_length.isdigit() and int(content_length) > max_bytes + MULTIPART_OVERHEAD:
        raise UploadTooLarge(f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MB")
    scratch.mkdir(parents=True, exist_ok=True)
    rx = _Receiver(scratch, max_bytes)
    callbacks = {
        name: getattr(rx, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in stream:
            received += len(chunk)
            if received > max_bytes + MULTIPART_OVERHEAD:
                raise UploadTooLarge(f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MB")
            parser.write(chunk)
        parser.finalize()
    except BaseException:
        rx.close()
        rx.form.discard()
        raise
    rx.close()
    form = rx.form
    if form.file_path is not None:
        if form.size == 0:
            form.discard()
            raise BadUpload("the uploaded file is empty")
        if form.format is None:
            form.discard()
            raise BadUpload("the file is not a GLB, glTF, FBX, OBJ or ZIP model (checked by its content)")
        os.chmod(form.file_path, 0o644)
    return form
