"""Fetching an input URL without letting it reach this machine's private network.

Rules, applied to the first URL and to every redirect hop alike:
- http and https only, no user:password in the URL;
- the host name is resolved here, and every address it resolves to must be public: not private,
  loopback, link-local, multicast, reserved, unspecified or otherwise non-global, IPv4 addresses
  hidden in IPv6 (IPv4-mapped, 6to4, Teredo) included. Hosts listed in ``allowed_hosts``
  (``host`` or ``host:port``) skip this check: that is how a worker fetches from its own backend;
  they alone get the shared token (a worker's ``/files/`` need it: an FBX task's rig job reads the
  converted .glb from the worker that made it);
- redirects are not followed by the HTTP client but here, hop by hop, at most ``max_redirects``;
- the body is streamed to disk, refused past ``max_bytes`` (announced or counted), and the whole
  fetch, redirects included, must finish within ``timeout_s``.

DNS rebinding: we connect to the address we checked, never to the name again. The request goes
to ``scheme://<checked IP>:port/path`` with the original name in the ``Host`` header and as the TLS
server name (httpcore's ``sni_hostname`` extension), so the certificate is still verified against
the name. Environment proxies are ignored (``trust_env=False``): a proxy would resolve the name
itself.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import httpx

from autorig import __version__, formats
from autorig.netcheck import DEFAULT_PORTS, address_problem, is_allowed, is_ip, resolve
from autorig.protocol import TOKEN_HEADER, safe_name
from autorig.worker.errors import InputRefused, InputUnavailable

INPUT_EXTENSIONS = formats.SUFFIXES  # what the engine reads
REDIRECT_CODES = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int
    timeout_s: float
    max_redirects: int
    allowed_hosts: tuple[str, ...] = ()
    # The shared token, sent only to hosts in allowed_hosts (the backend, the other workers):
    # an FBX task's rig job reads the converted .glb from a worker's /files/, which needs it.
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class Target:
    """One hop, checked: connect to ``address``, talk to ``url``'s host."""

    url: httpx.URL
    host: str
    port: int
    address: str
    allowed: bool

    @property
    def connect_url(self) -> httpx.URL:
        return self.url.copy_with(host=self.address)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.url.scheme] else f"{host}:{self.port}"


@dataclass(frozen=True)
class Fetched:
    path: Path
    size: int
    final_url: str


def check_url(url: str | httpx.URL, allowed_hosts: Iterable[str] = ()) -> Target:
    """Parse, resolve and check one URL; raises InputRefused before any connection is made."""
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else url
    except (httpx.InvalidURL, TypeError) as exc:
        raise InputRefused(f"not a valid URL: {exc}") from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise InputRefused(f"only http and https URLs are fetched, not {parsed.scheme or 'no scheme'!r}")
    if not parsed.host:
        raise InputRefused("the URL has no host")
    if parsed.userinfo:
        raise InputRefused("URLs with a user name or password are not fetched")
    host = parsed.host
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    allowed = is_allowed(host, port, allowed_hosts)
    try:
        addresses = resolve(host, port)
    except ValueError as exc:
        raise InputUnavailable(str(exc)) from None
    if not allowed:
        for ip in addresses:
            problem = address_problem(ip)
            if problem:
                what = f"{host} is" if len(addresses) == 1 and is_ip(host) else f"{host} resolves to {ip},"
                raise InputRefused(f"{what} {problem}; inputs are fetched only from public hosts")
    return Target(url=parsed, host=host, port=port, address=str(addresses[0]), allowed=allowed)


def _filename(response: httpx.Response, url: httpx.URL) -> str:
    """The input's file name: Content-Disposition, else the last segment of the URL path."""
    cd = response.headers.get("content-disposition", "")
    m = re.search(r"filename\*\s*=\s*[^']*'[^']*'([^;]+)", cd) or re.search(r'filename\s*=\s*"?([^";]+)"?', cd)
    if m:
        name = unquote(m.group(1).strip())
    else:
        name = unquote(url.path.rsplit("/", 1)[-1])
    return os.path.basename(name.replace("\\", "/"))


def _with_extension(name: str, head: bytes) -> str:
    """A safe local file name whose extension the engine understands (sniffed if needed)."""
    stem, ext = os.path.splitext(name)
    ext = ext.lower()
    if ext not in INPUT_EXTENSIONS:
        stem = name
        # The leading bytes tell the format when the URL and headers give no usable extension.
        found = formats.by_magic(head)
        ext = found.suffix if found else ""
        if not ext:
            raise InputUnavailable(
                "cannot tell the input's file type: name it .glb, .gltf, .fbx, .obj, .zip or .vrm",
                code="unsupported_format",
            )
    return safe_name(stem) + ext


def request_headers(target: Target, limits: FetchLimits) -> dict[str, str]:
    """Headers of one hop; the token only to an allowed host (never to where a user's URL or
    a redirect leads)."""
    headers = {
        "Host": target.host_header,
        "User-Agent": f"autorig-worker/{__version__}",
        "Accept-Encoding": "identity",
    }
    if limits.token and target.allowed:
        headers[TOKEN_HEADER] = limits.token
    return headers


def fetch(url: str, dest_dir: Path, limits: FetchLimits) -> Fetched:
    """Download ``url`` into ``dest_dir`` (created) under the rules above; returns the file."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + limits.timeout_s
    current: str | httpx.URL = url
    for _hop in range(limits.max_redirects + 1):
        target = check_url(current, limits.allowed_hosts)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise InputUnavailable(f"the download took longer than {limits.timeout_s:g} s")
        with httpx.Client(follow_redirects=False, trust_env=False, timeout=httpx.Timeout(remaining)) as client:
            request = client.build_request(
                "GET",
                target.connect_url,
                headers=request_headers(target, limits),
                extensions={"sni_hostname": target.host},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException:
                raise InputUnavailable(f"the input host did not answer within {limits.timeout_s:g} s") from None
            except httpx.HTTPError as exc:
                raise InputUnavailable(f"cannot fetch the input: {exc}") from None
            try:
                if response.status_code in REDIRECT_CODES:
                    location = response.headers.get("location")
                    if not location:
                        raise InputUnavailable(f"HTTP {response.status_code} redirect without a Location")
                    current = target.url.join(location)
                    continue
                if response.status_code != 200:
                    raise InputUnavailable(f"the input URL answered HTTP {response.status_code}")
                return _stream_to_disk(response, target, dest_dir, limits, deadline)
            finally:
                response.close()
    raise InputUnavailable(f"more than {limits.max_redirects} redirects")


def _stream_to_disk(response: httpx.Response, target: Target, dest_dir: Path, limits: FetchLimits, deadline: float) -> Fetched:
    too_big = f"the input is larger than the limit of {limits.max_bytes / 1e6:g} MB"
    announced = response.headers.get("content-length")
    if announced and announced.isdigit() and int(announced) > limits.max_bytes:
        raise InputUnavailable(too_big, code="too_large")
    part = dest_dir / ".download.part"
    size = 0
    head = b""
    try:
        with open(part, "wb") as f:
            for chunk in response.iter_bytes():  # as it arrives, so the deadline is checked often
                size += len(chunk)
                if size > limits.max_bytes:
                    raise InputUnavailable(too_big, code="too_large")
                if time.monotonic() > deadline:
                    raise InputUnavailable(f"the download took longer than {limits.timeout_s:g} s")
                if len(head) < 64:
                    head += chunk[: 64 - len(head)]
                f.write(chunk)
        if size == 0:
            raise InputUnavailable("the input URL answered with an empty file", code="corrupt_file")
        final = dest_dir / _with_extension(_filename(response, target.url), head)
        os.replace(part, final)
    except httpx.TimeoutException:
        raise InputUnavailable(f"the download took longer than {limits.timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise InputUnavailable(f"the download broke off: {exc}") from None
    finally:
        part.unlink(missing_ok=True)
    return Fetched(path=final, size=size, final_url=str(target.url))
