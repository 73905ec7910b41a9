"""Receive a multipart upload straight to a scratch file: never the whole file in memory, the
size limit enforced as bytes arrive, the format checked from the content.

FastAPI's ``UploadFile`` would spool the whole body before the endpoint runs (and only then
could the limit be checked), so the request stream is parsed here with python-multipart.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from autorig import formats
from autorig.web.domains.tasks.formats import FormatSniffer, file_refusal, format_from_name, refusal
from autorig.web.errors import BadRequest, BadUpload, UploadTooLarge

FILE_FIELD = "file"
MAX_FIELD_BYTES = 64 * 1024  # text fields (email, options): small by nature
MAX_HEADER_BYTES = 8 * 1024  # one part header line (browsers send well under 1 KB)
MAX_PARTS = 32  # the form has a handful of fields
MAX_NAME_CHARS = 200  # a kept upload name (the stored key and output names are shorter still)
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, headers and text fields on top of the file
MAX_SMALL_BODY = 64 * 1024  # a JSON or url-encoded body naming an input_url and options


def clean_filename(raw: bytes) -> str:
    """A file name to keep from what a client sent: UTF-8 (else Latin-1), the last path
    component only, control characters dropped, at most ``MAX_NAME_CHARS`` (the extension kept),
    ``model`` when nothing usable is left."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    text = "".join(c for c in text if c.isprintable()).replace("\\", "/")
    name = text.rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        return "model"
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot and stem else ""
        name = name[: MAX_NAME_CHARS - len(ext) - 1] + ("." + ext if ext else "")
    return name


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file_path: Path | None = None
    filename: str | None = None
    size: int = 0
    format: str | None = None
    refusal: str | None = None  # why a file of a known kind cannot be rigged (e.g. ASCII FBX)

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
        self.parts = 0

    # python-multipart callbacks
    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise BadRequest(f"the form has more than {MAX_PARTS} parts")
        self._headers, self._name, self._buf = {}, None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]
        if len(self._hname) > MAX_HEADER_BYTES:
            raise BadRequest("a part header of the form is too long")

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]
        if len(self._hvalue) > MAX_HEADER_BYTES:
            raise BadRequest("a part header of the form is too long")

    def on_header_end(self) -> None:
        # Latin-1 keeps the raw bytes (browsers send UTF-8 file names unescaped); the file name
        # is decoded from them below.
        self._headers[self._hname.decode("latin-1").lower()] = self._hvalue.decode("latin-1")
        self._hname, self._hvalue = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get("content-disposition", ""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if self._name == FILE_FIELD and filename is not None:
            if self.form.file_path is not None:
                raise BadUpload("send one file per task")
            self.form.filename = clean_filename(filename)
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
            self.form.refusal = refusal(self._sniffer)
            named = format_from_name(self.form.filename or "")
            if named and self.form.format and formats.reads_as(named) == self.form.format:
                self.form.format = named  # a .vrm is a GLB with humanoid extensions: the name tells them apart
        elif self._name:
            self.form.fields[self._name] = self._buf.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


async def receive_small_body(content_length: str | None, stream: AsyncIterator[bytes], limit: int = MAX_SMALL_BODY) -> bytes:
    """A JSON or url-encoded body, refused with 413 past ``limit`` bytes (never read whole)."""
    if content_length and content_length.isdigit() and int(content_length) > limit:
        raise UploadTooLarge(f"the request body is larger than {limit // 1024} KB (send the model as a multipart 'file')")
    data = bytearray()
    async for chunk in stream:
        data += chunk
        if len(data) > limit:
            raise UploadTooLarge(f"the request body is larger than {limit // 1024} KB (send the model as a multipart 'file')")
    return bytes(data)


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
    if len(boundary) > 70:  # RFC 2046: 1 to 70 characters
        raise BadRequest("the multipart boundary is longer than 70 characters")
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
    received = 0
    try:
        # python-multipart wants its CallbacksDict (a TypedDict); ours has the same keys, built in a loop.
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        async for chunk in stream:
            received += len(chunk)
            if received > max_bytes + MULTIPART_OVERHEAD:
                raise UploadTooLarge(f"the file is larger than the limit of {max_bytes // (1024 * 1024)} MB")
            parser.write(chunk)
        parser.finalize()
        if parser.state != MultipartState.END:
            raise BadRequest("the multipart body ended early (no closing boundary): the upload was cut off")
    except FormParserError as exc:
        rx.close()
        rx.form.discard()
        raise BadRequest(f"the multipart body is malformed: {exc}") from None
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
        if form.refusal is None:
            form.refusal = await asyncio.to_thread(file_refusal, form.file_path, form.format)
        if form.refusal is not None:
            form.discard()
            raise BadUpload(form.refusal)
        os.chmod(form.file_path, 0o644)
    return form
